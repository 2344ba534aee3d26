"""adapters.registry: installed packages are found through the entry-point group.

Each test installs a real (tiny) distribution by writing its ``.dist-info``
folder onto ``sys.path`` — the same metadata ``pip install`` writes — so the
discovery goes through ``importlib.metadata`` exactly as in production.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from adapters.registry import ENTRY_POINT_GROUP, discover
from core.errors import ConfigError


def _install(site: Path, dist: str, entries: dict[str, str], modules: dict[str, str]) -> None:
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{k} = {v}" for k, v in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("pjgw_test_")]:
        del sys.modules[name]


def test_installed_adapter_is_discovered_and_loaded(site: Path) -> None:
    _install(
        site,
        "pjgw-test-chain",
        {"testchain": "pjgw_test_chain:TestChainAdapter"},
        {"pjgw_test_chain": "class TestChainAdapter:\n    family = 'testchain'\n"},
    )
    registry = discover()
    info = registry.adapters["testchain"]
    assert (info.source, info.version) == ("pjgw-test-chain", "1.2.3")
    assert registry.load("testchain").family == "testchain"


def test_broken_adapter_is_reported_by_name_and_others_still_load(site: Path) -> None:
    _install(
        site,
        "pjgw-test-broken",
        {"brokenchain": "pjgw_test_broken:Adapter"},
        {"pjgw_test_broken": "import a_module_that_does_not_exist\n"},
    )
    _install(
        site,
        "pjgw-test-good",
        {"goodchain": "pjgw_test_good:Adapter"},
        {"pjgw_test_good": "class Adapter:\n    pass\n"},
    )
    registry = discover()
    assert "goodchain" in registry.adapters
    assert "brokenchain" not in registry.adapters
    assert "ModuleNotFoundError" in registry.broken["brokenchain"]
    assert "pjgw-test-broken" in registry.broken["brokenchain"]
    with pytest.raises(ConfigError, match="installed but broken"):
        registry.load("brokenchain")


def test_duplicate_family_name_is_a_config_error(site: Path) -> None:
    _install(site, "pjgw-test-one", {"twin": "pjgw_test_one:A"}, {"pjgw_test_one": "A = 1\n"})
    _install(site, "pjgw-test-two", {"twin": "pjgw_test_two:A"}, {"pjgw_test_two": "A = 2\n"})
    with pytest.raises(ConfigError, match="claimed twice"):
        discover()


def test_unknown_family_names_what_is_installed(site: Path) -> None:
    with pytest.raises(ConfigError, match="no adapter for chain family 'nochain'"):
        discover().load("nochain")


def test_plugin_of_another_major_seam_version_is_broken_by_name(site: Path) -> None:
    _install(
        site,
        "pjgw-test-future",
        {"futurechain": "pjgw_test_future:Adapter"},
        {"pjgw_test_future": "class Adapter:\n    seam_version = '3.0'\n"},
    )
    registry = discover()
    assert "futurechain" not in registry.adapters
    assert "built for seam version 3.0" in registry.broken["futurechain"]
    assert "pjgw-test-future 1.2.3" in registry.broken["futurechain"]


def test_plugin_of_the_same_major_seam_version_loads_and_reports_it(site: Path) -> None:
    _install(
        site,
        "pjgw-test-minor",
        {"minorchain": "pjgw_test_minor:Adapter"},
        {"pjgw_test_minor": "class Adapter:\n    seam_version = '2.9'\n"},
    )
    registry = discover()
    assert registry.adapters["minorchain"].seam_version == "2.9"
    assert "minorchain" not in registry.broken


def test_malformed_seam_version_is_broken(site: Path) -> None:
    _install(
        site,
        "pjgw-test-garbled",
        {"garbledchain": "pjgw_test_garbled:Adapter"},
        {"pjgw_test_garbled": "class Adapter:\n    seam_version = 'one'\n"},
    )
    assert "MAJOR.MINOR" in discover().broken["garbledchain"]
