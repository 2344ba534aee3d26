"""docs/operator-guide.md cannot drift from the code: every setting, notary option and
exported metric is documented, and every PJGW_* name it mentions exists."""

from __future__ import annotations

import re

import pytest
from prometheus_client.exposition import generate_latest
from pydantic_settings import BaseSettings

from gateway.settings import Settings
from notary.config import NOTARY_KEYS
from relayer.settings import RelayerSettings
from tests.deploy.files import GUIDE, REPO_ROOT
from tests.deploy.monitoring import process_registries

SETTINGS: list[type[BaseSettings]] = [Settings, RelayerSettings]
CODE_DIRS = ("core", "proofs", "adapters", "relayer", "gateway", "devnet", "contracts")


def _row(name: str) -> str:
    """The table row that documents ``name``."""
    rows = [line for line in GUIDE.read_text().splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, f"{name}: {len(rows)} rows in docs/operator-guide.md"
    return rows[0]


def _fields(model: type[BaseSettings]) -> list[tuple[str, object]]:
    prefix = model.model_config["env_prefix"]
    return [(f"{prefix}{n}".upper(), f.default) for n, f in model.model_fields.items()]


@pytest.mark.parametrize("model", SETTINGS, ids=lambda m: m.__name__)
def test_every_settings_field_has_a_row_with_its_default(model: type[BaseSettings]) -> None:
    for env_name, default in _fields(model):
        row = _row(env_name)
        if isinstance(default, (int, float, str)) and not isinstance(default, bool):
            assert f"`{default}`" in row, f"{env_name}: default {default!r} not in its row"
        elif isinstance(default, bool):
            assert f"`{default}`" in row


def test_every_notary_option_and_chain_key_is_documented() -> None:
    import typer

    from gateway.cli import app

    command = typer.main.get_command(app).commands["notary"].commands["run"]  # type: ignore[attr-defined]
    options = [o for p in command.params for o in p.opts if o.startswith("--")]
    assert "--api-key-file" in options
    for option in options:
        if option != "--help":
            _row(option)
    text = GUIDE.read_text()
    for key in NOTARY_KEYS:
        assert f"`{key}`" in text, key


def _code_names() -> set[str]:
    names: set[str] = set()
    for folder in CODE_DIRS:
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".mjs"):
                names |= set(re.findall(r"PJGW_[A-Z0-9_]+", path.read_text()))
    return names


def _deploy_names() -> set[str]:
    """The variables compose.yaml and the Docker scripts read (``${PJGW_…}``, ``PJGW_…:-``)."""
    names: set[str] = set()
    for path in [REPO_ROOT / "deploy" / "compose.yaml", *(REPO_ROOT / "deploy").rglob("*.sh")]:
        names |= set(re.findall(r"\$\{(PJGW_[A-Z0-9_]+)", path.read_text()))
    return names


def test_every_pjgw_variable_the_guide_names_exists() -> None:
    settings = {name for model in SETTINGS for name, _ in _fields(model)}
    from adapters.evm.settings import EvmChainSettings
    from adapters.pujiang.settings import PujiangSettings

    families = {name for m in (EvmChainSettings, PujiangSettings) for name, _ in _fields(m)}
    known = settings | families | _code_names() | _deploy_names()
    mentioned = set(re.findall(r"PJGW_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_<])", GUIDE.read_text()))
    assert mentioned - known == set()


def test_every_exported_metric_is_documented() -> None:
    """All families of every process's registry (API, relayer, notary, devnet node), with one
    series each so every sample name shows."""
    families: set[str] = set()
    for registry in process_registries():
        exposition = generate_latest(registry).decode()
        families |= set(re.findall(r"^# TYPE (\S+) ", exposition, flags=re.MULTILINE))
    assert {"pjgw_transfers", "pjgw_relayer_route_up", "pjgw_notary_refusals_total"} <= families
    assert "pjgw_devnet_height" in families
    for family in sorted(families):
        _row(family)


def test_readme_links_the_operator_guide() -> None:
    assert "(docs/operator-guide.md)" in (REPO_ROOT / "README.md").read_text()


def test_guide_names_only_files_that_exist() -> None:
    for path in re.findall(
        r"`((?:deploy|docs|gateway|relayer|adapters)/[\w./-]+)`", GUIDE.read_text()
    ):
        if path == "deploy/.env":  # the operator's own copy of .env.example, never committed
            continue
        assert (REPO_ROOT / path.rstrip("/")).exists(), path
