"""A focused run (the pre-commit hook) loads only the namespaces around the reported files
(istiolint.scope) and still finds exactly what a whole-tree run finds in them."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from istiolint.config import Settings
from istiolint.engine import Discovered, Inputs, Linter
from istiolint.resources import extract_resources
from istiolint.results_cache import ResultCache
from istiolint.rules import load_registry
from istiolint.scope import ANY, Footprint, footprint, needed
from istiolint.sources import parse_source

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from generate_tree import generate  # noqa: E402

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c}}]}}
"""


def _resources(text: str) -> list[Any]:
    source = parse_source(textwrap.dedent(text).encode(), "f.yaml", lambda a, k: True)
    return list(extract_resources(source))


def _print(text: str) -> Footprint:
    return footprint(_resources(text), "istio-system")


def test_a_footprint_names_where_objects_live_and_the_namespaces_they_name() -> None:
    found = _print("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: p, namespace: shop}
        spec:
          rules:
          - from: [{source: {principals: ["cluster.local/ns/billing/sa/api"]}},
                   {source: {namespaces: [audit]}}]
            to: [{operation: {hosts: ["cart.orders.svc.cluster.local:8080"]}}]
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: v}
        spec: {gateways: [edge/public], hosts: [example.com]}
        """)
    assert found.namespaces == {"shop", "default"}
    assert {"billing", "audit", "orders", "edge"} <= found.mentions
    assert found.namespace_objects == {"shop"}
    assert not found.wide and not found.derives


@pytest.mark.parametrize(("text", "wide", "wildcard", "derives"), [
    ("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
     "metadata: {name: m, namespace: istio-system}\n", True, False, False),
    ("apiVersion: networking.istio.io/v1\nkind: Gateway\n"
     "metadata: {name: g, namespace: edge}\nspec: {selector: {istio: ingressgateway}}\n",
     True, False, False),
    ("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
     "metadata: {name: p, namespace: shop}\n"
     "spec: {rules: [{from: [{source: {principals: [cluster.local/ns/*/sa/x]}}]}]}\n",
     False, True, False),
    ("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
     "metadata: {name: p, namespace: shop}\n"
     "spec: {rules: [{from: [{source: {namespaces: [team-*]}}]}]}\n", False, True, False),
    ("apiVersion: gateway.kyma-project.io/v2\nkind: APIRule\n"
     "metadata: {name: r, namespace: shop}\nspec: {hosts: [a]}\n", False, False, True),
])
def test_what_makes_a_file_reach_everywhere(text: str, wide: bool, wildcard: bool,
                                             derives: bool) -> None:
    found = _print(text)
    assert (found.wide, ANY in found.mentions, found.derives) == (wide, wildcard, derives)
    local = _print(DEPLOYMENT.format(ns="shop"))
    assert (needed([found], {"other": local}, "istio-system") is None) == \
        (wide or wildcard or derives)


def test_what_a_reported_file_needs() -> None:
    shop = Footprint(frozenset({"shop"}), frozenset({"billing"}), False)
    others = {
        "shop-app": Footprint(frozenset({"shop"}), frozenset(), False),
        "billing": Footprint(frozenset({"billing"}), frozenset(), False),
        "names-shop": Footprint(frozenset({"audit"}), frozenset({"shop"}), False),
        "root": Footprint(frozenset({"istio-system"}), frozenset(), True),
        "unrelated": Footprint(frozenset({"other"}), frozenset({"billing"}), False),
        "no-objects": Footprint(frozenset(), frozenset(), False),
    }
    assert needed([shop], others, "istio-system") == {"shop-app", "billing", "names-shop", "root"}
    apirule = Footprint(frozenset({"x"}), frozenset(), False, derives=True)
    assert needed([shop], {**others, "apirule": apirule}, "istio-system") is None


CROSS_NAMESPACE = {  # each case: what a scoped run could get wrong without the rule for it
    "shop/app.yaml": DEPLOYMENT.format(ns="shop") + """
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: gw-selector, namespace: shop}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  rules: [{from: [{source: {namespaces: [shop]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: typo, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  rules: [{from: [{source: {namespaces: [fronted]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: suppressed, namespace: shop}
spec:
  selector: {matchLabels: {istio: ingressgateway}}  # istiolint: disable=SP001
  rules: [{from: [{source: {principals: ["cluster.local/ns/billing/sa/api"]}}]}]
""",
    "edge/gateway.yaml": """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
""",
    "frontend/service.yaml": """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: frontend}
spec: {selector: {app: web}, ports: [{port: 80}]}
""",
    "cluster/namespaces.yaml": """
apiVersion: v1
kind: Namespace
metadata: {name: other}
""",
    "billing/app.yaml": DEPLOYMENT.format(ns="billing") + """
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: from-shop, namespace: billing}
spec:
  rules: [{from: [{source: {namespaces: [shop]}}]}]
""",
    "istio-system/mesh.yaml": """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
""",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")


def _lint(root: Path, paths: list[str], context: list[str], *, cache: bool) -> list[Any]:
    linter = Linter(load_registry(), Settings(select=["ALL"]), root)
    linter.use_cache = cache
    result = linter.lint(Inputs(paths, context=context, use_git=False))
    return [(f.code, f.path, f.position.line, f.message) for f in result.findings]


@pytest.mark.parametrize("cache", [False, True])
def test_cross_namespace_cases_give_the_whole_tree_findings(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           cache: bool) -> None:
    monkeypatch.setenv("ISTIOLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ISTIOLINT_NO_CACHE", raising=False)  # a --no-cache run sets it
    tree = tmp_path / "tree"
    _write(tree, CROSS_NAMESPACE)
    whole = _lint(tree, ["."], [], cache=False)
    codes = {code for code, *_ in whole}
    assert {"SP002", "IL100"} <= codes  # the cases are live: a misspelling, a stale disable
    _lint(tree, ["."], [], cache=cache)  # fills the cache
    for name in CROSS_NAMESPACE:
        assert _lint(tree, [name], ["."], cache=cache) == \
            [f for f in whole if f[1] == name], name


def test_the_hook_reads_only_the_namespaces_around_the_changed_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISTIOLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ISTIOLINT_NO_CACHE", raising=False)  # a --no-cache run sets it
    tree = tmp_path / "tree"
    generate(tree, namespaces=6, apps=2)
    whole = _lint(tree, ["."], [], cache=True)
    changed = sorted(tree.glob("team-002/apps/*/authorization.yaml"))[0]
    changed.write_text(changed.read_text(encoding="utf-8").replace("GET", "get", 1),
                       encoding="utf-8")
    shown = changed.relative_to(tree).as_posix()

    loaded: list[list[str]] = []
    run = Linter.run

    def spy(self: Linter, inputs: Inputs, *, discovered: Discovered | None = None) -> Any:
        loaded.append(list(discovered.files) if discovered else [])
        return run(self, inputs, discovered=discovered)

    monkeypatch.setattr(Linter, "run", spy)
    focused = _lint(tree, [shown], ["."], cache=True)
    monkeypatch.setattr(Linter, "run", run)
    every = sorted(tree.rglob("*.yaml"))
    assert len(loaded) == 1 and 0 < len(loaded[0]) < len(every) / 2
    assert all(Path(p).relative_to(tree).parts[0] in ("team-002", "istio-system") or
               "team-002" in Path(p).read_text(encoding="utf-8") for p in loaded[0])
    assert any(code == "AP005" for code, *_ in focused)  # the lowercase method
    fresh = _lint(tree, ["."], [], cache=False)
    assert focused == [f for f in fresh if f[1] == shown]
    # the cache the focused run left behind still answers a whole-tree run in full
    assert _lint(tree, ["."], [], cache=True) == fresh
    assert [f for f in whole if f[1] != shown] == [f for f in fresh if f[1] != shown]


def test_the_results_cache_keeps_shards_it_did_not_read(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISTIOLINT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ISTIOLINT_NO_CACHE", raising=False)
    cache = ResultCache.open()
    assert cache is not None
    cache.store_files("c", {("a", "1"): "A", ("b", "1"): "B"},
                      lambda key: 0 if key[0] == "a" else 1)
    later = ResultCache.open()
    assert later is not None
    assert later.load_files("c", [0]) == {("a", "1"): "A"}
    later.store_files("c", {("a", "1"): "A", ("b", "2"): "B2"},
                      lambda key: 0 if key[0] == "a" else 1)
    assert later.load_files("c") == {("a", "1"): "A", ("b", "1"): "B", ("b", "2"): "B2"}
