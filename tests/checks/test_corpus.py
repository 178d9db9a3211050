"""No false alarms on officially documented configurations.

Every file under tests/corpus/ holds manifests taken from official documentation (istio.io tasks and
examples, Kyma tutorials), each with a header naming its source. Each file is linted on its own and
must produce no finding at warning or error level, except the codes its header declares in a
``# known: CODE, CODE -- why`` line: those are problems the documented configuration really has.
A declared code must still be reported, so the list stays honest.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from istiolint.config import Settings
from istiolint.engine import Inputs, Linter
from istiolint.rules import Severity, load_registry

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus"
FILES = sorted(CORPUS.rglob("*.yaml"))
KNOWN = re.compile(r"#\s*known:\s*(?P<codes>[^-]*?)\s*--\s*\S")
CODE = re.compile(r"^[A-Z]{2}\d{3}$")


def known_codes(path: Path) -> set[str]:
    """Codes declared by ``# known:`` lines in the file's leading comment block."""
    codes: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if line.lstrip("# ").startswith("known:"):
            match = KNOWN.match(line)
            assert match, (
                f"{path}: malformed annotation {line!r}, expected '# known: CODE, CODE -- why'"
            )
            found = [c.strip() for c in match["codes"].split(",")]
            assert found and all(CODE.match(c) for c in found), f"{path}: bad codes in {line!r}"
            codes.update(found)
    return codes


def test_corpus_is_not_empty() -> None:
    assert len(FILES) >= 10
    for path in FILES:
        assert path.read_text(encoding="utf-8").startswith("# Source: "), path


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_documented_configuration_raises_no_warning(path: Path) -> None:
    known = known_codes(path)
    linter = Linter(load_registry(), Settings(), REPO)
    result = linter.lint(Inputs([str(path)]))
    bad = [f for f in result.findings if f.severity >= Severity.WARNING]
    unexpected = [f for f in bad if f.code not in known]
    assert not unexpected, "unexpected findings:\n" + "\n".join(
        f"{f.code} {f.path}:{f.position.line} {f.message}" for f in unexpected
    )
    missing = known - {f.code for f in bad}
    assert not missing, (
        f"{path.relative_to(REPO)} declares '# known: {', '.join(sorted(missing))}' but istiolint "
        "no longer reports it at warning or error level: remove it from the annotation"
    )
