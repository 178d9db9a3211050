"""The entry points of the plugin groups, and how they are remembered between runs."""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from istiolint import __version__, plugins
from istiolint.plugins import CACHE_FILE, PluginEntry, entry_points_of
from istiolint.report import ENTRY_POINT_GROUP as REPORTERS
from istiolint.rules import ENTRY_POINT_GROUP as CHECKS


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ISTIOLINT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ISTIOLINT_NO_CACHE", raising=False)
    return tmp_path


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The groups whose entry points were listed from all metadata (a cache miss)."""
    seen: list[str] = []
    listed = plugins._listed

    def counted(group: str) -> list[PluginEntry]:
        seen.append(group)
        return listed(group)

    monkeypatch.setattr(plugins, "_listed", counted)
    return seen


def _metadata(group: str) -> list[tuple[str, str]]:
    return [(entry.name, entry.value) for entry in entry_points(group=group)]


@pytest.mark.parametrize("group", [CHECKS, REPORTERS])
def test_the_entry_points_are_those_importlib_metadata_lists(cache: Path, group: str) -> None:
    first = entry_points_of(group)
    assert [tuple(entry) for entry in first] == _metadata(group)
    assert [tuple(entry) for entry in entry_points_of(group)] == _metadata(group)


def test_a_second_run_reads_no_metadata(cache: Path, scans: list[str]) -> None:
    entry_points_of(CHECKS)
    entry_points_of(REPORTERS)
    entry_points_of(CHECKS)
    entry_points_of(REPORTERS)
    assert scans == [CHECKS, REPORTERS]
    stored = json.loads((cache / __version__ / CACHE_FILE).read_text(encoding="utf-8"))
    assert set(stored["value"]) == {CHECKS, REPORTERS}


def test_installing_into_a_path_entry_reads_the_metadata_again(
        cache: Path, scans: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    entry_points_of(CHECKS)
    entry_points_of(CHECKS)
    assert scans == [CHECKS]
    plugin = site / "istiolint_demo_plugin-1.0.dist-info"  # by an installer without RECORD
    plugin.mkdir()
    (plugin / "METADATA").write_text("Name: istiolint-demo-plugin\nVersion: 1.0\n",
                                     encoding="utf-8")
    (plugin / "entry_points.txt").write_text(
        "[istiolint.checks]\ndemo = istiolint_demo_plugin:CHECK\n", encoding="utf-8")
    found = entry_points_of(CHECKS)
    assert scans == [CHECKS, CHECKS]
    assert found[0] == PluginEntry("demo", "istiolint_demo_plugin:CHECK")
    assert [tuple(entry) for entry in found] == _metadata(CHECKS)
    assert [tuple(entry) for entry in entry_points_of(CHECKS)] == _metadata(CHECKS)
    assert scans == [CHECKS, CHECKS]


@pytest.mark.parametrize("group", [CHECKS, REPORTERS])
def test_the_declaring_files_are_found_without_reading_records(group: str) -> None:
    assert plugins._files_declaring(group) == plugins._files_recorded(group)


def test_a_distribution_hidden_by_an_earlier_one_of_its_name_declares_nothing(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, later = tmp_path / "first", tmp_path / "later"
    for site, version, value in ((first, "2.0", "new:CHECK"), (later, "1.0", "old:CHECK")):
        metadata = site / f"Istiolint.Demo_Plugin-{version}.dist-info"
        metadata.mkdir(parents=True)
        (metadata / "METADATA").write_text(f"Name: istiolint-demo-plugin\nVersion: {version}\n",
                                           encoding="utf-8")
        (metadata / "entry_points.txt").write_text(f"[istiolint.checks]\ndemo = {value}\n",
                                                   encoding="utf-8")
    monkeypatch.setattr(sys, "path", [str(first), *sys.path, str(later)])
    declaring = plugins._files_declaring(CHECKS)
    assert str(first / "Istiolint.Demo_Plugin-2.0.dist-info" / "entry_points.txt") in declaring
    assert not any(path.startswith(str(later)) for path in declaring)
    assert [tuple(entry) for entry in entry_points_of(CHECKS)] == _metadata(CHECKS)
    assert [tuple(entry) for entry in entry_points_of(CHECKS)] == _metadata(CHECKS)


def test_another_sys_path_reads_the_metadata_again(
        cache: Path, scans: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    entry_points_of(CHECKS)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    entry_points_of(CHECKS)
    assert scans == [CHECKS, CHECKS]


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"key": 1}', b'{"key": [], "value": 3}',
                                     b"\xff\xfe\x00binary"])
def test_a_damaged_cache_file_is_read_again_and_replaced(
        cache: Path, scans: list[str], content: bytes) -> None:
    entry_points_of(CHECKS)
    target = cache / __version__ / CACHE_FILE
    target.write_bytes(content)
    assert [tuple(entry) for entry in entry_points_of(CHECKS)] == _metadata(CHECKS)
    assert scans == [CHECKS, CHECKS]
    assert json.loads(target.read_text(encoding="utf-8"))["value"][CHECKS]


def test_without_a_cache_the_metadata_is_read_every_time(
        cache: Path, scans: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISTIOLINT_NO_CACHE", "1")
    entry_points_of(CHECKS)
    entry_points_of(CHECKS)
    assert scans == [CHECKS, CHECKS]
    assert not (cache / __version__ / CACHE_FILE).exists()


def test_a_cached_entry_point_loads_like_importlib_metadata_loads_it() -> None:
    for group in (CHECKS, REPORTERS):
        for entry in entry_points(group=group):
            assert PluginEntry(entry.name, entry.value).load() is entry.load()


@pytest.mark.parametrize(("value", "expected"), [
    ("os.path", "os.path"),
    ("os:path", "os.path"),
    ("os:path.join", "os.path.join"),
    ("os : path.join [extra]", "os.path.join"),
])
def test_values_name_a_module_and_attributes(value: str, expected: str) -> None:
    import os  # noqa: PLC0415

    wanted = {"os.path": os.path, "os.path.join": os.path.join}[expected]
    assert PluginEntry("x", value).load() is wanted


def test_a_malformed_value_says_which() -> None:
    with pytest.raises(ValueError, match="malformed entry point value 'no such:thing!'"):
        PluginEntry("x", "no such:thing!").load()


def _install(site: Path, entry_points_text: str) -> Path:
    """A distribution as pip leaves it: metadata, entry points and the RECORD of its files."""
    metadata = site / "istiolint_demo_plugin-1.0.dist-info"
    metadata.mkdir()
    (metadata / "METADATA").write_text("Name: istiolint-demo-plugin\nVersion: 1.0\n",
                                       encoding="utf-8")
    (metadata / "entry_points.txt").write_text(entry_points_text, encoding="utf-8")
    (metadata / "RECORD").write_text(
        "istiolint_demo_plugin-1.0.dist-info/METADATA,,\n"
        "istiolint_demo_plugin-1.0.dist-info/entry_points.txt,,\n"
        "istiolint_demo_plugin-1.0.dist-info/RECORD,,\n", encoding="utf-8")
    return metadata / "entry_points.txt"


def test_an_edit_to_a_declaring_file_is_seen_without_reading_all_metadata(
        cache: Path, scans: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    declaring = _install(site, "[istiolint.checks]\ndemo = istiolint_demo_plugin:CHECK\n")
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    assert PluginEntry("demo", "istiolint_demo_plugin:CHECK") in entry_points_of(CHECKS)
    declaring.write_text("# renamed\n[istiolint.checks]\n\nrenamed = istiolint_demo_plugin:NEW\n"
                         "[other.group]\ndemo = istiolint_demo_plugin:CHECK\n", encoding="utf-8")
    found = entry_points_of(CHECKS)
    assert scans == [CHECKS]
    assert [tuple(entry) for entry in found] == _metadata(CHECKS)
    assert PluginEntry("renamed", "istiolint_demo_plugin:NEW") in found
    assert PluginEntry("demo", "istiolint_demo_plugin:CHECK") not in found


@pytest.mark.parametrize("named", [
    "{outside}/evil.dist-info/entry_points.txt",  # not the metadata of anything on sys.path
    "{outside}/entry_points.txt",
    "{site}/evil.dist-info/METADATA",
    "{site}/evil.dist-info/entry_points.txt",  # missing
    7,
])
def test_a_tampered_cache_names_only_installed_metadata(
        cache: Path, scans: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        named: object) -> None:
    outside, site = tmp_path / "outside", tmp_path / "site"
    (outside / "evil.dist-info").mkdir(parents=True)
    (outside / "evil.dist-info" / "entry_points.txt").write_text(
        "[istiolint.checks]\nevil = evil:CHECK\n", encoding="utf-8")
    (outside / "entry_points.txt").write_text("[istiolint.checks]\nevil = evil:CHECK\n",
                                              encoding="utf-8")
    (site / "evil.dist-info").mkdir(parents=True)
    (site / "evil.dist-info" / "METADATA").write_text("[istiolint.checks]\nevil = evil:CHECK\n",
                                                      encoding="utf-8")
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    entry_points_of(CHECKS)
    target = cache / __version__ / CACHE_FILE
    stored = json.loads(target.read_text(encoding="utf-8"))
    stored["value"][CHECKS] = [named.format(outside=outside, site=site)
                                if isinstance(named, str) else named]
    target.write_text(json.dumps(stored), encoding="utf-8")
    found = entry_points_of(CHECKS)
    assert [tuple(entry) for entry in found] == _metadata(CHECKS)
    assert all(entry.name != "evil" for entry in found)
    assert scans == [CHECKS, CHECKS]
