"""``pjgw adapters list`` and ``pjgw adapter new`` through the real typer app (CliRunner).

Installed plugins are real distributions: a ``.dist-info`` folder with an
``entry_points.txt`` written onto ``sys.path`` (what ``pip install`` writes), so
discovery goes through ``importlib.metadata`` as in production. The full
``pip install -e`` of a scaffolded package is in ``test_scaffold.py``.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.registry import ENTRY_POINT_GROUP
from adapters.sdk import SEAM_VERSION
from gateway.cli import app

runner = CliRunner()


def _install(site: Path, dist: str, entries: dict[str, str], modules: dict[str, str]) -> None:
    info = site / f"{dist.replace('-', '_')}-2.5.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 2.5.0\n")
    lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{k} = {v}" for k, v in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    yield path
    for name in [m for m in sys.modules if m.startswith("pjgw_cli_test_")]:
        del sys.modules[name]


def _listed(*args: str) -> dict[str, dict[str, object]]:
    result = runner.invoke(app, ["adapters", "list", "--json", *args])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["seam_version"] == SEAM_VERSION
    return {row["family"]: row for row in document["adapters"]}


GOOD_PLUGIN = """
from pydantic import BaseModel


class GoodSettings(BaseModel):
    url: str
    chain_id: str
    timeout: float = 5.0


class GoodAdapter:
    family = "goodchain"
    seam_version = "2.4"

    def __init__(self, settings: GoodSettings) -> None:
        self.settings = settings
"""


def test_list_json_names_builtin_pujiang_with_its_settings_model() -> None:
    pujiang = _listed()["pujiang"]
    assert pujiang["status"] == "ok"
    assert pujiang["kind"] == "builtin"
    assert pujiang["distribution"] == "pujiang-gateway"
    assert pujiang["settings_model"] == "adapters.pujiang.settings.PujiangSettings"
    assert pujiang["required_settings"] == ["url", "chain_id"]
    assert "relayer_key" in pujiang["optional_settings"]


def test_list_json_shows_an_installed_plugin_with_distribution_version_and_settings(
    site: Path,
) -> None:
    _install(
        site,
        "pjgw-cli-test-good",
        {"goodchain": "pjgw_cli_test_good:GoodAdapter"},
        {"pjgw_cli_test_good": GOOD_PLUGIN},
    )
    good = _listed()["goodchain"]
    assert good == {
        "family": "goodchain",
        "status": "ok",
        "kind": "plugin",
        "distribution": "pjgw-cli-test-good",
        "version": "2.5.0",
        "seam_version": "2.4",
        "target": "pjgw_cli_test_good:GoodAdapter",
        "settings_model": "pjgw_cli_test_good.GoodSettings",
        "required_settings": ["url", "chain_id"],
        "optional_settings": ["timeout"],
        "error": "",
    }


def test_list_reports_a_plugin_that_raises_on_import_by_name_and_lists_the_rest(
    site: Path,
) -> None:
    _install(
        site,
        "pjgw-cli-test-broken",
        {"brokenchain": "pjgw_cli_test_broken:Adapter"},
        {"pjgw_cli_test_broken": "raise RuntimeError('the node SDK is not configured')\n"},
    )
    _install(
        site,
        "pjgw-cli-test-good",
        {"goodchain": "pjgw_cli_test_good:GoodAdapter"},
        {"pjgw_cli_test_good": GOOD_PLUGIN},
    )
    rows = _listed()
    broken = rows["brokenchain"]
    assert broken["status"] == "broken"
    assert (broken["distribution"], broken["version"]) == ("pjgw-cli-test-broken", "2.5.0")
    assert broken["error"] == "RuntimeError: the node SDK is not configured"
    assert rows["goodchain"]["status"] == "ok"
    assert rows["pujiang"]["status"] == "ok"

    table = runner.invoke(app, ["adapters", "list"])
    assert table.exit_code == 0, table.output
    assert "brokenchain" in table.stdout
    assert "RuntimeError: the node SDK is not configured" in table.stdout
    assert "goodchain" in table.stdout


def test_list_reports_a_plugin_of_another_major_seam_version_as_broken(site: Path) -> None:
    _install(
        site,
        "pjgw-cli-test-future",
        {"futurechain": "pjgw_cli_test_future:Adapter"},
        {"pjgw_cli_test_future": "class Adapter:\n    seam_version = '3.0'\n"},
    )
    future = _listed()["futurechain"]
    assert future["status"] == "broken"
    assert future["error"].startswith("built for seam version 3.0, this hub speaks 2.0")


def test_list_with_a_family_claimed_twice_exits_with_an_error_not_a_traceback(
    site: Path,
) -> None:
    _install(site, "pjgw-cli-test-one", {"twin": "pjgw_cli_test_one:A"}, {})
    _install(site, "pjgw-cli-test-two", {"twin": "pjgw_cli_test_two:A"}, {})
    result = runner.invoke(app, ["adapters", "list", "--json"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "[config-invalid]" in result.stderr
    assert "claimed twice" in result.stderr


def test_adapter_new_writes_an_installable_package(tmp_path: Path) -> None:
    result = runner.invoke(app, ["adapter", "new", "lake_chain", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    package = tmp_path / "pjgw-adapter-lake_chain"
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["project"]["name"] == "pjgw-adapter-lake-chain"
    entry = project["project"]["entry-points"][ENTRY_POINT_GROUP]
    assert entry == {"lake_chain": "pjgw_adapter_lake_chain:LakeChainAdapter"}
    assert (package / "tests" / "test_conformance.py").is_file()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Lake", "must be 1-24 characters"),
        ("lake-chain", "must be 1-24 characters"),
        ("pujiang", "already installed"),
    ],
)
def test_adapter_new_refuses_a_bad_or_taken_name_and_writes_nothing(
    tmp_path: Path, name: str, message: str
) -> None:
    result = runner.invoke(app, ["adapter", "new", name, "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_adapter_new_never_overwrites_an_existing_folder(tmp_path: Path) -> None:
    existing = tmp_path / "pjgw-adapter-lake"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep me")
    result = runner.invoke(app, ["adapter", "new", "lake", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert [p.name for p in existing.iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pjgw-adapter-lake"]
