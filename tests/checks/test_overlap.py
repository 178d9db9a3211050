from __future__ import annotations

import pytest

from istiolint.checks.overlap import covers, rule_within


@pytest.mark.parametrize(("general", "specific", "expected"), [
    ("*", "/anything", True),
    ("/admin/*", "/admin/users", True),
    ("/admin/*", "/admin", False),
    ("/admin/*", "/admin/*", True),
    ("/admin/*", "/*", False),
    ("*.png", "/a/b.png", True),
    ("*.png", "*.png", True),
    ("/a", "/a", True),
    ("/a", "/a*", False),
    ("/a/{*}", "/a/b", False),  # templates only cover themselves
])
def test_covers(general: str, specific: str, expected: bool) -> None:
    assert covers(general, specific) is expected


def test_hosts_are_compared_case_insensitively() -> None:
    assert covers("Shop.Example.com", "shop.example.com", ignore_case=True)


def _rule(**operation: list[str]) -> dict[str, object]:
    return {"to": [{"operation": operation}]}


def test_a_rule_with_fewer_conditions_is_wider() -> None:
    assert rule_within(_rule(paths=["/a"], methods=["GET"]), _rule(paths=["/a"]))
    assert not rule_within(_rule(paths=["/a"]), _rule(paths=["/a"], methods=["GET"]))


def test_a_rule_without_sources_is_not_within_one_with_sources() -> None:
    narrow = _rule(paths=["/a"])
    wide = {"from": [{"source": {"namespaces": ["ops"]}}], **narrow}
    assert not rule_within(narrow, wide)
    assert rule_within(wide, narrow)


def test_negative_fields_need_at_least_the_same_exclusions() -> None:
    wide = _rule(notPaths=["/public"])
    assert rule_within(_rule(notPaths=["/public", "/health"]), wide)
    assert not rule_within(_rule(paths=["/x"]), wide)


def test_every_value_must_be_covered() -> None:
    assert not rule_within(_rule(paths=["/admin/x", "/other"]), _rule(paths=["/admin/*"]))
