"""``istiolint check`` in CI: it never reaches the network (whatever URLs the manifests name)
and never writes anywhere but its cache directory."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from istiolint.entry import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

ISSUERS = """\
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: issuers
  namespace: shop
spec:
  jwtRules:
  - issuer: https://accounts.google.com
  - issuer: http://sso.acme-corp.net/realms/shop
    jwksUri: http://sso.acme-corp.net/realms/shop/protocol/openid-connect/certs
  - issuer: https://login.shop.test
    jwksUri: https://login.shop.test/.well-known/jwks.json
  - issuer: https://keys.shop.svc.cluster.local
    jwksUri: https://keys.shop.svc.cluster.local:8443/jwks
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-token
  namespace: shop
spec:
  rules:
  - from:
    - source:
        requestPrincipals: ["https://accounts.google.com/*", "https://unknown.shop.test/*"]
"""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every way out to the network raises, and is recorded."""
    attempts: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args[1:] if name.startswith('socket.') else args}")
            raise OSError(f"istiolint check must not use the network ({name})")
        return call

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    return attempts


@pytest.mark.parametrize("tree", ["examples", "issuers"])
def test_check_never_touches_the_network(tree: str, tmp_path: Path, no_network: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    if tree == "examples":
        target = EXAMPLES
    else:
        target = tmp_path / "issuers"
        target.mkdir()
        (target / "issuers.yaml").write_text(ISSUERS)
    code = main(["check", str(target), "--no-git", "--isolated", "-f", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    findings = json.loads(out)["findings"]
    assert findings  # the JWT rules did look at the URLs
    if tree == "issuers":  # they judged them offline: discovery, plain HTTP, in-cluster keys
        assert {"RA002", "RA003", "RA006"} <= {f["rule"] for f in findings}
    assert no_network == []


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under ``root`` with its size and modification time."""
    found = {}
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            path = Path(directory, name)
            stat = path.lstat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def test_check_writes_nothing_but_its_cache(tmp_path: Path) -> None:
    tree, home, xdg, cache, temporary = (tmp_path / name for name in (
        "tree", "home", "xdg-cache", "istiolint-cache", "tmp"))
    shutil.copytree(EXAMPLES, tree, symlinks=True)
    for directory in (home, xdg, temporary):
        directory.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = nobody\n")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ISTIOLINT_", "XDG_", "GIT_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(xdg), ISTIOLINT_CACHE_DIR=str(cache),
               TMPDIR=str(temporary), PYTHONDONTWRITEBYTECODE="1")
    watched = {"tree": tree, "home": home, "xdg": xdg, "tmp": temporary}
    before = {name: _files(root) for name, root in watched.items()}
    for _ in range(2):  # the second run reads what the first one cached
        completed = subprocess.run([sys.executable, "-m", "istiolint", "check", "."], cwd=tree,
                                   env=env, capture_output=True, text=True, timeout=300,
                                   check=False)
        assert completed.returncode in (0, 1), completed.stderr
        assert "Found" in completed.stdout
        assert {name: _files(root) for name, root in watched.items()} == before
    assert {entry.name for entry in tmp_path.iterdir()} == {
        "tree", "home", "xdg-cache", "istiolint-cache", "tmp"}
    assert any(path.is_file() for path in cache.rglob("*"))  # where the writes went
