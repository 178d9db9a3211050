"""examples/kyma: the seed's protection as an APIRule, linted and simulated through the policies
api-gateway generates from it, with every finding on the APIRule's lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
Run = Callable[..., tuple[int, str, str]]


def test_findings_of_the_generated_policies_are_on_the_apirule(run_cli: Run) -> None:
    code, out, _ = run_cli("check", str(REPO / "examples/kyma"), "--isolated", "-f", "json")
    findings = json.loads(out)["findings"]
    assert code == 0 and findings
    apirule = (REPO / "examples/kyma/apirule.yaml").read_text().splitlines()
    for finding in findings:
        assert finding["path"].endswith("examples/kyma/apirule.yaml")
        # the generated objects' findings name the APIRule; the KY rules are on it
        assert finding.get("via") == (None if finding["rule"].startswith("KY") else
                                      "APIRule demo/httpbin")
    by_rule = {f["rule"]: apirule[f["line"] - 1].strip() for f in findings}
    assert by_rule["RA004"] == "jwksUri: https://example.com/.well-known/jwks.json"
    assert by_rule["AP014"] == "hosts: [httpbin]"


def test_the_generated_policies_decide_the_requests(run_cli: Run) -> None:
    code, out, _ = run_cli("test", str(REPO / "examples/kyma/requests.yaml"), "--isolated")
    assert code == 0 and "3 passed, 0 failed" in out


def test_simulate_names_the_apirule_line(run_cli: Run) -> None:
    _, out, _ = run_cli("simulate", str(REPO / "examples/kyma"), "--isolated", "-f", "json",
                        "--requests", str(REPO / "examples/kyma/requests.yaml"))
    results = json.loads(out)["results"]
    assert [r["status"] for r in results] == [200, 403, 403]
    decided = results[0]["policy"]
    assert decided["path"].endswith("examples/kyma/apirule.yaml")
    assert decided["name"] == "httpbin-rule-0-allow-0"


def test_a_field_repeated_in_generated_rules_is_reported_once(tmp_path: Path,
                                                             run_cli: Run) -> None:
    """requiredScopes make three rules of one policy (scp, scope, scopes), each with the
    APIRule's hosts: a problem of the hosts is one finding."""
    example = REPO / "examples/kyma"
    (tmp_path / "httpbin.yaml").write_text((example / "httpbin.yaml").read_text())
    apirule = (example / "apirule.yaml").read_text().replace(
        "        jwksUri: https://example.com/.well-known/jwks.json\n",
        "        jwksUri: https://example.com/.well-known/jwks.json\n"
        "      authorizations:\n      - requiredScopes: [read]\n")
    (tmp_path / "apirule.yaml").write_text(apirule)
    _, out, _ = run_cli("check", str(tmp_path), "--isolated", "-f", "json")
    hosts = [f for f in json.loads(out)["findings"] if f["rule"] == "AP014"]
    assert len(hosts) == 1


def test_an_apirule_mixing_open_and_token_paths(tmp_path: Path, run_cli: Run) -> None:
    """A noAuth /health beside a jwt /api is how APIRules are written: its generated
    RequestAuthentication is enforced by the generated policy of the jwt rule (no RA007), and
    the hosts problem shared by both generated policies is one finding."""
    (tmp_path / "httpbin.yaml").write_text((REPO / "examples/kyma/httpbin.yaml").read_text())
    (tmp_path / "apirule.yaml").write_text("""\
apiVersion: gateway.kyma-project.io/v2
kind: APIRule
metadata: {name: httpbin, namespace: demo}
spec:
  hosts: [httpbin.local.kyma.dev]
  gateway: kyma-system/kyma-gateway
  service: {name: httpbin, port: 8000}
  rules:
  - path: /health
    methods: [GET]
    noAuth: true
  - path: /api/{**}
    methods: [GET]
    jwt:
      authentications:
      - issuer: https://auth.acme-shop.io/realms/shop
        jwksUri: https://auth.acme-shop.io/realms/shop/certs
""")
    _, out, _ = run_cli("check", str(tmp_path), "--isolated", "-f", "json")
    rules = sorted(f["rule"] for f in json.loads(out)["findings"])
    assert rules == ["AP014", "KY004"]


def test_go_regex_patterns_of_the_crd_raise_no_python_warning(tmp_path: Path,
                                                              run_cli: Run) -> None:
    import warnings  # noqa: PLC0415

    (tmp_path / "apirule.yaml").write_text(
        "apiVersion: gateway.kyma-project.io/v1beta1\nkind: APIRule\n"
        "metadata: {name: a, namespace: demo}\n"
        "spec: {host: 'bad host!', gateway: kyma-system/kyma-gateway,\n"
        "       service: {name: a, port: 80},\n"
        "       rules: [{path: /.*, methods: [GET], accessStrategies: [{handler: noop}]}]}\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, out, _ = run_cli("check", str(tmp_path), "--isolated", "-f", "json")
    assert "SC003" in {f["rule"] for f in json.loads(out)["findings"]}
