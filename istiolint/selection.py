"""Which rules run, at what severity, and where they are switched off by configuration."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path

from istiolint.config import Settings
from istiolint.errors import UsageError
from istiolint.globs import PathMatcher
from istiolint.rules import Registry, Severity

ALL = "ALL"


class RuleSelection:
    """Resolves selectors (``ALL``, a code, a code prefix or a rule name) against the registry."""

    def __init__(self, registry: Registry, settings: Settings, cwd: Path) -> None:
        self._registry = registry
        selected = self.resolve(settings.select, "select")
        self.enabled = frozenset(selected - self.resolve(settings.ignore, "ignore"))
        self._severity = {code: doc.severity for code, doc in registry.rules.items()}
        for selector, level in settings.severity.items():
            for code in self.resolve([selector], "severity"):
                self._severity[code] = level
        self._per_path = [(PathMatcher([glob]), self.resolve(rules, f"per-path-ignores {glob}"))
                          for glob, rules in settings.per_path_ignores.items()]
        self._cwd = cwd
        self._base = settings.base_dir or cwd

    def resolve(self, selectors: Iterable[str], setting: str) -> frozenset[str]:
        codes: set[str] = set()
        for selector in selectors:
            matched = self.match(selector)
            if not matched:
                raise UsageError(f"{setting}: unknown rule {selector!r}" + self._hint(selector))
            codes |= matched
        return frozenset(codes)

    def match(self, selector: str) -> frozenset[str]:
        rules = self._registry.rules
        if selector.upper() == ALL:
            return frozenset(rules)
        doc = self._registry.lookup(selector)
        if doc is not None:
            return frozenset({doc.code})
        return frozenset(code for code in rules if code.startswith(selector.upper()))

    def _hint(self, selector: str) -> str:
        names = [*self._registry.rules, *self._registry.by_name]
        close = difflib.get_close_matches(selector, names, n=1, cutoff=0.6)
        return f"; did you mean {close[0]!r}?" if close else "; run 'istiolint rules' for the list"

    def severity(self, code: str) -> Severity:
        return self._severity[code]

    def ignored_at(self, shown_path: str, code: str) -> bool:
        if not self._per_path:
            return False
        relative = Path(os.path.relpath(self._cwd / shown_path, self._base)).as_posix()
        return any(code in codes and matcher.matches(relative) for matcher, codes in self._per_path)

    def describe_unknown(self, selector: str) -> str | None:
        """Why a suppression's rule selector is not valid, or None when it is."""
        if selector.lower() == "all" or self.match(selector):
            return None
        return f"unknown rule {selector!r}" + self._hint(selector)
