"""``pjgw adapter new``: the package it writes installs, is discovered, and runs the kit.

The end-to-end part installs scaffolded packages with a real ``pip install -e``
into a throw-away venv that sees the hub's ``.venv`` through one ``.pth`` line
(``site.addsitedir``, so the hub's own editable install and its ``pytest11``
plugin are processed too): nothing is written into ``.venv``. Everything after
the install runs in subprocesses of that venv's interpreter, as a chain team
would run it. Measured: venv + both installs ≈ 3 s, the whole module ≈ 15 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.sdk import SEAM_VERSION
from adapters.testing.suite import ChainAdapterConformance
from core.errors import Conflict, InvalidInput
from gateway import scaffold

FAMILY = "lake_chain"
BROKEN = "sunk_chain"
KIT_CHECKS = sum(name.startswith("test_") for name in dir(ChainAdapterConformance))
"""The kit's checks, counted from the class (a new check must not break this test)."""
DECLARED = 2  # identity and the declared capabilities pass before any method is written


# --- names and rendering (no install) ----------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", "1chain", "Chain", "my-chain", "my chain", "my__chain", "_chain", "chain_", "a" * 25,
     "class", "chain.x", "ça"],
)  # fmt: skip
def test_validate_family_refuses_a_name_that_is_not_a_family(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        scaffold.validate_family(name)
    assert raised.value.details == {"field": "name"}


@pytest.mark.parametrize("name", ["x", "chain2", "my_chain", "a" * 24, "fisco_bcos_v3"])
def test_validate_family_accepts_lower_case_words_joined_by_underscores(name: str) -> None:
    assert scaffold.validate_family(name) == name


def test_validate_family_refuses_an_installed_family() -> None:
    with pytest.raises(Conflict, match="already installed"):
        scaffold.validate_family("pujiang", taken={"pujiang", "evm"})


def test_render_names_everything_after_the_family(tmp_path: Path) -> None:
    package = scaffold.render("my_chain", tmp_path)
    assert package == tmp_path / "pjgw-adapter-my_chain"
    files = sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.is_file())
    module = "src/pjgw_adapter_my_chain"
    assert files == [
        "README.md",
        "chain.example.toml",
        "pyproject.toml",
        *(f"{module}/{m}.py" for m in
          ("__init__", "adapter", "client_codec", "conformance", "light_client", "node",
           "settings")),
        "tests/test_conformance.py",
        "tests/test_package.py",
    ]  # fmt: skip
    adapter = (package / module / "adapter.py").read_text()
    assert "class MyChainAdapter:" in adapter
    assert f'seam_version = "{SEAM_VERSION}"' in adapter  # a literal: what it was built for
    assert 'env_prefix="PJGW_MY_CHAIN_"' in (package / module / "settings.py").read_text()
    for path in package.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")  # every template renders to valid Python
    assert not any(p.name.endswith(".tmpl") for p in package.rglob("*"))


def test_render_refuses_an_existing_folder_and_leaves_no_staging_behind(tmp_path: Path) -> None:
    (tmp_path / "pjgw-adapter-lake").mkdir()
    with pytest.raises(Conflict, match="already exists"):
        scaffold.render("lake", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["pjgw-adapter-lake"]
    assert list((tmp_path / "pjgw-adapter-lake").iterdir()) == []


# --- end to end: pip install -e, discovery, the kit ----------------------------------------


@dataclass(frozen=True)
class Installed:
    python: Path
    packages: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args],
            cwd=cwd or self.packages,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A venv holding ``pip install -e`` of a fresh scaffold and of one that raises on import."""
    root = tmp_path_factory.mktemp("scaffold")
    packages = root / "packages"
    good = scaffold.render(FAMILY, packages)
    broken = scaffold.render(BROKEN, packages)
    init = broken / "src" / f"pjgw_adapter_{BROKEN}" / "__init__.py"
    init.write_text("raise RuntimeError('sunk: this package fails on import')\n")

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    hub_site = sysconfig.get_paths()["purelib"]  # the .venv running these tests
    (Path(purelib) / "_pjgw_hub.pth").write_text(f"import site; site.addsitedir({hub_site!r})\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST", "PIP_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NO_COLOR"] = "1"
    venv_env = Installed(python, packages, env)
    pip = venv_env.run(
        "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-build-isolation",
        "-e", str(good), "-e", str(broken),
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr
    return venv_env


@pytest.fixture(scope="module")
def listed(installed: Installed) -> dict[str, dict[str, object]]:
    """``pjgw adapters list --json`` in the venv, by family (it exits 0 with a broken plugin)."""
    result = installed.run("-m", "gateway.cli", "adapters", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {row["family"]: row for row in json.loads(result.stdout)["adapters"]}


def test_installed_scaffold_is_listed_with_its_distribution_and_version(
    listed: dict[str, dict[str, object]],
) -> None:
    lake = listed[FAMILY]
    assert lake["status"] == "ok"
    assert (lake["kind"], lake["distribution"], lake["version"]) == (
        "plugin",
        "pjgw-adapter-lake-chain",
        "0.1.0",
    )
    assert lake["seam_version"] == SEAM_VERSION
    assert lake["settings_model"] == "pjgw_adapter_lake_chain.settings.LakeChainSettings"
    assert lake["required_settings"] == ["url", "chain_id"]
    assert listed["pujiang"]["status"] == "ok"


def test_plugin_raising_on_import_is_listed_broken_by_name_and_list_still_works(
    installed: Installed, listed: dict[str, dict[str, object]]
) -> None:
    sunk = listed[BROKEN]
    assert sunk["status"] == "broken"
    assert sunk["distribution"] == "pjgw-adapter-sunk-chain"
    assert sunk["error"] == "RuntimeError: sunk: this package fails on import"
    table = installed.run("-m", "gateway.cli", "adapters", "list")
    assert table.returncode == 0, table.stderr
    assert f"broken {BROKEN} (pjgw-adapter-sunk-chain 0.1.0): RuntimeError" in table.stdout
    assert FAMILY in table.stdout


def test_registry_resolves_the_installed_family_to_the_scaffolded_class(
    installed: Installed,
) -> None:
    code = (
        "from adapters.registry import discover; "
        f"cls = discover().load({FAMILY!r}); print(cls.__module__, cls.__name__)"
    )
    result = installed.run("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["pjgw_adapter_lake_chain.adapter", "LakeChainAdapter"]


def _outcomes(report: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """``{(class or module, test): (outcome, message)}`` from a junit XML report."""
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        key = (case.get("classname", "").rpartition(".")[2], case.get("name", ""))
        failure, error = case.find("failure"), case.find("error")
        bad = failure if failure is not None else error
        skipped = case.find("skipped")
        if bad is not None:
            outcomes[key] = ("failed", bad.get("message", ""))
        elif skipped is not None:
            outcomes[key] = ("skipped", skipped.get("message", ""))
        else:
            outcomes[key] = ("passed", "")
    return outcomes


def test_generated_tests_run_the_kit_identity_passes_the_rest_names_what_to_write(
    installed: Installed, tmp_path: Path
) -> None:
    package = installed.packages / f"pjgw-adapter-{FAMILY}"
    report = tmp_path / "report.xml"
    result = installed.run(
        "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}", cwd=package
    )
    assert result.returncode == 1, result.stdout[-3000:]  # failures, not a usage/collection error
    outcomes = _outcomes(report)
    own = {name: o for (where, name), o in outcomes.items() if where == "test_package"}
    assert len(own) == 4
    assert all(outcome == "passed" for outcome, _ in own.values()), own
    kit = {name: o for (where, name), o in outcomes.items() if where == "TestLakeChainConformance"}
    assert len(kit) == KIT_CHECKS
    assert len(outcomes) == len(own) + len(kit)
    assert kit.pop("test_identity_and_seams_are_declared") == ("passed", "")
    assert kit.pop("test_hub_capabilities_are_declared") == ("passed", "")
    # Optional capabilities the template does not declare (AnchorChain, BridgeLedger) are
    # skipped, not due.
    assert (
        kit.pop("test_an_anchored_digest_is_found_under_its_account_at_its_block")[0] == "skipped"
    )
    assert kit.pop("test_the_bridge_books_read_zero_for_what_never_crossed")[0] == "skipped"
    for name, (outcome, message) in kit.items():
        assert outcome == "failed", name
        assert "NotImplementedError" in message, (name, message)
        assert "is not written yet" in message, (name, message)
    # The plugin's summary table is printed, one line per check.
    assert f"TestLakeChainConformance: {DECLARED}/{KIT_CHECKS} checks passed" in result.stdout
    assert "[ok] test_identity_and_seams_are_declared" in result.stdout


def test_kit_runs_by_configuration_against_the_installed_family(installed: Installed) -> None:
    """``--pjgw-chain`` + ``adapters.testing.configured`` finds the family's target unaided."""
    package = installed.packages / f"pjgw-adapter-{FAMILY}"
    result = installed.run(
        "-m", "pytest", "-p", "no:cacheprovider", "--pjgw-chain", "chain.example.toml",
        "--pyargs", "adapters.testing.configured", cwd=package,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:]
    assert f"TestConfiguredChain: {DECLARED}/{KIT_CHECKS} checks passed" in result.stdout
    assert "[ok] test_identity_and_seams_are_declared" in result.stdout
    assert "LakeChainAdapter.latest_height (src/pjgw_adapter_lake_chain/adapter.py)" in (
        result.stdout
    )


REGISTER = """
import asyncio, json, sys
from pathlib import Path
import httpx
from pydantic import SecretStr
from adapters.chains_file import build_adapter, parse_chains
from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import SqlStore

data = Path(sys.argv[1])
store = SqlStore(f"sqlite:///{data / 'hub.db'}")
store.migrate()
app = create_app(Settings(data_dir=data, dev_api_key=SecretStr("admin-dev")), store=store)
chain = {"chain_id": "lake-main", "family": sys.argv[2],
         "settings": {"url": "http://127.0.0.1:9", "chain_id": "lake-main"}}

async def main():
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as api:
        created = await api.post("/v1/chains", json=chain, headers={"X-API-Key": "admin-dev"})
        listed = await api.get("/v1/chains")
    return created.status_code, [c["chain_id"] for c in listed.json()]

status, chains = asyncio.run(main())
configured = parse_chains({"chains": {"lake-main": {"family": sys.argv[2],
                                                    "url": "http://127.0.0.1:9"}}})
adapter = build_adapter(configured.chains["lake-main"])
print(json.dumps({"status": status, "chains": chains, "adapter": type(adapter).__name__,
                  "chain_id": str(adapter.chain_id)}))
"""


def test_the_installed_family_is_registered_by_api_and_by_configuration(
    installed: Installed, tmp_path: Path
) -> None:
    """No hub edit: POST /v1/chains accepts the new family, and a chains-file entry
    builds its adapter through the registry and the family's settings model."""
    result = installed.run("-c", REGISTER, str(tmp_path), FAMILY)
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 201
    assert "lake-main" in answer["chains"]
    assert (answer["adapter"], answer["chain_id"]) == ("LakeChainAdapter", "lake-main")
