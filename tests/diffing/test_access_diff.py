"""Access changes end to end: refactors change nothing; real changes flip, and their witness
requests really flip when replayed with ``istiolint simulate`` on each side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from istiolint.diffing import witnesses
from istiolint.entry import main

WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      serviceAccountName: frontend
      containers: [{name: app, image: app:1, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: frontend, namespace: shop}
spec:
  selector: {app: frontend}
  ports: [{name: http, port: 80, targetPort: 8080}]
"""
STRICT = """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
"""
JWT = """\
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  jwtRules:
  - issuer: https://login.example.com
    jwksUri: https://login.example.com/keys
"""
ALLOW_HEADER = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: NAME, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  action: ALLOW
  rules:
"""
PEER_RULE = """\
  - from:
    - source: {principals: ["cluster.local/ns/shop/sa/gateway", "cluster.local/ns/shop/sa/web"]}
    to:
    - operation: {methods: ["GET", "HEAD"], paths: ["/api/*"]}
"""
TOKEN_RULE = """\
  - from:
    - source: {requestPrincipals: ["https://login.example.com/*"]}
    to:
    - operation: {methods: ["GET"], paths: ["/public/*"]}
"""
ALLOW = ALLOW_HEADER.replace("NAME", "frontend-allow") + PEER_RULE + TOKEN_RULE
DENY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: frontend-deny, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  action: DENY
  rules:
  - to:
    - operation: {paths: ["/api/admin/*"]}
"""
BASE = {"workload.yaml": WORKLOAD, "mtls.yaml": STRICT, "jwt.yaml": JWT,
        "allow.yaml": ALLOW, "deny.yaml": DENY}


def _write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _diff(tmp_path: Path, head: dict[str, str], base: dict[str, str] | None = None,
          capsys: pytest.CaptureFixture[str] | None = None) -> dict[str, Any]:
    assert capsys is not None
    base_dir = _write(tmp_path / "base", BASE if base is None else base)
    head_dir = _write(tmp_path / "head", head)
    capsys.readouterr()
    code = main(["diff", str(head_dir), "--against", str(base_dir), "--no-git", "--isolated",
                 "-f", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def _status(tmp_path: Path, manifests: Path, request: dict[str, Any],
            capsys: pytest.CaptureFixture[str]) -> tuple[str, int | None]:
    requests = tmp_path / "replay.yaml"
    requests.write_text(yaml.safe_dump({"requests": [request]}), encoding="utf-8")
    capsys.readouterr()
    assert main(["simulate", str(manifests), "--requests", str(requests), "--isolated",
                 "-f", "json"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    return result["decision"], result["status"]


def _replayed(tmp_path: Path, report: dict[str, Any],
              capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Every witness flips exactly as reported when simulate decides it on each side."""
    directions = []
    for change in report["access"]:
        before = _status(tmp_path, tmp_path / "base", change["request"], capsys)
        after = _status(tmp_path, tmp_path / "head", change["request"], capsys)
        assert before == (change["before"]["decision"], change["before"]["status"])
        assert after == (change["after"]["decision"], change["after"]["status"])
        assert before != after
        directions.append(change["direction"])
    return directions


REFACTORS = {
    "rules and values reordered": {
        **BASE, "allow.yaml": ALLOW.replace(
            '["cluster.local/ns/shop/sa/gateway", "cluster.local/ns/shop/sa/web"]',
            '["cluster.local/ns/shop/sa/web", "cluster.local/ns/shop/sa/gateway"]').replace(
            '["GET", "HEAD"]', '["HEAD", "GET"]')},
    "renamed": {**BASE, "allow.yaml": ALLOW.replace("frontend-allow", "frontend-access")},
    "comments and formatting": {**BASE, "deny.yaml": "# keep admins out\n" + yaml.safe_dump(
        yaml.safe_load(DENY), default_flow_style=False)},
    "v1beta1 to v1": {**BASE, **{name: BASE[name].replace("security.istio.io/v1\n",
                                                          "security.istio.io/v1beta1\n")
                                 for name in ("allow.yaml", "deny.yaml", "jwt.yaml")}},
    "split in two equivalent policies": {
        **BASE, "allow.yaml": ALLOW_HEADER.replace("NAME", "frontend-allow") + PEER_RULE,
        "allow-jwt.yaml": ALLOW_HEADER.replace("NAME", "frontend-allow-jwt") + TOKEN_RULE},
    "action made explicit the default": {**BASE, "allow.yaml": ALLOW.replace(
        "  action: ALLOW\n", "")},
}


@pytest.mark.parametrize("name", sorted(REFACTORS))
def test_refactors_change_no_access(name: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    report = _diff(tmp_path, REFACTORS[name], capsys=capsys)
    assert report["access"] == []


def test_a_split_policy_is_really_split() -> None:
    split = REFACTORS["split in two equivalent policies"]
    allow, jwt_only = yaml.safe_load(split["allow.yaml"]), yaml.safe_load(split["allow-jwt.yaml"])
    assert len(allow["spec"]["rules"]) == len(jwt_only["spec"]["rules"]) == 1


CHANGES = {
    "a method added": ({**BASE, "allow.yaml": ALLOW.replace('["GET", "HEAD"]',
                                                            '["GET", "HEAD", "POST"]')},
                       {"widened"}),
    "a DENY removed": ({k: v for k, v in BASE.items() if k != "deny.yaml"}, {"widened"}),
    "an issuer added": ({**BASE, "jwt.yaml": JWT + "  - issuer: https://partner.example.org\n"
                         "    jwksUri: https://partner.example.org/keys\n",
                         "allow.yaml": ALLOW.replace('["https://login.example.com/*"]', '["*"]')},
                        {"widened"}),
    "mTLS relaxed": ({**BASE, "mtls.yaml": STRICT.replace("STRICT", "PERMISSIVE")},
                     {"widened"}),
    "a principal dropped": ({**BASE, "allow.yaml": ALLOW.replace(
        ', "cluster.local/ns/shop/sa/web"', "")}, {"narrowed"}),
    "the issuer's keys lost": ({**BASE, "jwt.yaml": JWT.replace(
        "https://login.example.com", "login-service").replace(
        "    jwksUri: login-service/keys\n", ""), "allow.yaml": ALLOW.replace(
        "https://login.example.com/*", "login-service/*")}, {"narrowed"}),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_real_changes_flip_and_their_witnesses_replay(name: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    head, expected = CHANGES[name]
    report = _diff(tmp_path, head, capsys=capsys)
    assert report["access"], "no access change found"
    assert set(_replayed(tmp_path, report, capsys)) == expected
    for change in report["access"]:
        assert change["workload"]["name"] == "frontend"
        assert change["witnesses"] >= 1 and change["match"]


def test_a_dropped_method_names_the_rule_that_no_longer_allows_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = {**BASE, "allow.yaml": ALLOW.replace('["GET", "HEAD"]', '["GET"]')}
    report = _diff(tmp_path, head, capsys=capsys)
    [change] = report["access"]
    assert change["direction"] == "narrowed"
    assert change["request"]["method"] == "HEAD"
    assert change["policies"]["before"]["name"] == "frontend-allow"
    assert change["match"]["rule"]["to"][0]["operation"]["methods"] == ["GET", "HEAD"]


def test_mtls_relaxed_is_witnessed_by_a_plaintext_request(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = {**BASE, "mtls.yaml": STRICT.replace("STRICT", "PERMISSIVE"),
            "allow.yaml": ALLOW.replace("  rules:\n", "  rules:\n  - to:\n    - operation: "
                                        "{paths: [\"/healthz\"]}\n")}
    report = _diff(tmp_path, head, capsys=capsys)
    plaintext = [c for c in report["access"] if "principal" not in c["request"].get("source", {})]
    assert plaintext and all(c["before"]["status"] is None for c in plaintext)
    assert {c["after"]["status"] for c in plaintext} == {200}


def test_selector_scopes_stand_in_when_the_tree_has_no_workloads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = {"allow.yaml": ALLOW}
    head = {"allow.yaml": ALLOW.replace('["GET", "HEAD"]', '["GET", "HEAD", "DELETE"]')}
    report = _diff(tmp_path, head, base, capsys=capsys)
    [change] = report["access"]
    assert change["workload"] == {"namespace": "shop", "labels": {"app": "frontend"},
                                  "bySelector": True,
                                  "description": "pods {app=frontend} in namespace shop"}
    assert change["request"]["method"] == "DELETE"
    assert _replayed(tmp_path, report, capsys) == ["widened"]


def test_object_changes_name_renames_version_moves_and_fields(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = {**BASE, "allow.yaml": ALLOW.replace("frontend-allow", "frontend-access"),
            "deny.yaml": DENY.replace("security.istio.io/v1\n", "security.istio.io/v1beta1\n"),
            "jwt.yaml": JWT.replace("https://login.example.com/keys",
                                    "https://login.example.com/certs")}
    report = _diff(tmp_path, head, capsys=capsys)
    changes = {(o["change"], o["object"]["name"]): o for o in report["objects"]}
    assert set(changes) == {("renamed", "frontend-access"), ("modified", "frontend-deny"),
                            ("modified", "jwt")}
    assert changes[("renamed", "frontend-access")]["renamedFrom"]["name"] == "frontend-allow"
    assert [(f["change"], f["field"]) for f in changes[("modified", "frontend-deny")]["fields"]] \
        == [("changed", "apiVersion")]
    [keys] = changes[("modified", "jwt")]["fields"]
    assert (keys["path"], keys["before"], keys["after"]) == (
        "/spec/jwtRules/0/jwksUri", "https://login.example.com/keys",
        "https://login.example.com/certs")
    assert report["access"] == []


def test_a_workload_with_too_many_candidates_is_reported_as_partly_tried(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(witnesses, "MAX_CANDIDATES", 5)
    head = {**BASE, "allow.yaml": ALLOW.replace('["GET", "HEAD"]', '["GET", "HEAD", "PUT"]')}
    report = _diff(tmp_path, head, capsys=capsys)
    [note] = report["notes"]
    assert note.startswith("Deployment shop/frontend: ") and "were not tried" in note
