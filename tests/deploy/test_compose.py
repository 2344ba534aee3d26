"""deploy/compose.yaml: valid against the compose-spec schema, every command a real one,
the start order and healthchecks the operator guide describes, and files that agree.

Docker cannot run here; what the containers would run can. Each service's
command is parsed by the very CLI it names (``pjgw`` / ``python -m devnet``)
and its ``--help`` is run as a process; the chains file is loaded as the hub
and a notary load it; the committee, keys and Bridge address are checked to
agree across compose.yaml, chains.toml, .env.example and the dev key files.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import rlp
import typer
import yaml
from eth_account import Account
from eth_utils import keccak

from tests.deploy.files import (
    CHAINS,
    COMPOSE,
    DEPLOY,
    DEV_SECRETS,
    PJGW,
    REPO_ROOT,
    compose,
    env_example,
    stages,
    tool,
)

PYTHON_SERVICES = ("migrate", "notary-keys-0", "notary-keys-1", "notary-keys-2", "devnet")
PYTHON_SERVICES += ("bridge", "hub", "relayer-1", "relayer-2", "notary-0", "notary-1", "notary-2")
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"


def _services() -> dict[str, dict[str, Any]]:
    return compose()["services"]  # type: ignore[no-any-return]


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_validates_against_the_compose_spec_schema() -> None:
    result = _validate(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelt_service_key_fails_the_schema_check(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    depends_on:\n", "    depend_on:\n", 1))
    assert _validate(broken).returncode != 0


def test_every_process_of_the_issue_is_a_service() -> None:
    services = _services()
    assert set(PYTHON_SERVICES) | {"postgres", "anvil"} == set(services)
    commands = {name: s.get("command") or [] for name, s in services.items()}
    assert [n for n, c in commands.items() if c[:2] == ["pjgw", "relay"]] == [
        "relayer-1",
        "relayer-2",
    ]
    assert len([n for n, c in commands.items() if c[:3] == ["pjgw", "notary", "run"]]) == 3
    assert commands["hub"] == ["pjgw", "serve", "--no-relay", "--chains", "/etc/pjgw/chains.toml"]
    assert commands["migrate"] == ["pjgw", "db", "upgrade"]
    assert commands["devnet"][:4] == ["python", "-m", "devnet", "run"]
    assert services["postgres"]["image"].startswith("pujiang-postgres:")


# typer >= 0.16 vendors click; its UsageError is BadParameter's base class either way
UsageError = typer.BadParameter.__mro__[1]


def _cli(program: list[str]) -> Any:
    if program == ["pjgw"]:
        from gateway.cli import app
    else:
        assert program == ["python", "-m", "devnet"], program
        from devnet.cli import app
    return typer.main.get_command(app)


def _split(command: list[str]) -> tuple[list[str], list[str]]:
    program = command[:3] if command[0] == "python" else command[:1]
    return program, command[len(program) :]


def _parse(command: list[str]) -> list[str]:
    """Parse ``command`` with its own CLI without running it; return the subcommand path."""
    program, args = _split(command)
    cmd, path = _cli(program), []
    while hasattr(cmd, "commands"):  # a group: descend by name
        name = args.pop(0)
        assert name in cmd.commands, f"{' '.join(program + path)} has no command {name!r}"
        cmd = cmd.commands[name]
        path.append(name)
    cmd.make_context(" ".join(program + path), list(args))  # raises on unknown/missing options
    return path


@pytest.mark.parametrize("service", PYTHON_SERVICES)
def test_service_command_parses_with_the_cli_it_names(service: str) -> None:
    command = _services()[service]["command"]
    assert _parse(list(command))


@pytest.mark.slow  # one CLI process per service command: about 35 s
def test_each_distinct_service_command_answers_help_as_a_process() -> None:
    seen: set[tuple[str, ...]] = set()
    for service in PYTHON_SERVICES:
        command = list(_services()[service]["command"])
        program, _ = _split(command)
        path = _parse(command)
        key = (*program, *path)
        if key in seen:
            continue
        seen.add(key)
        argv = [PJGW] if program == ["pjgw"] else [sys.executable, "-m", "devnet"]
        result = subprocess.run(
            [*argv, *path, "--help"], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
        )
        assert result.returncode == 0, (key, result.stderr)
        assert "Usage:" in result.stdout
    assert len(seen) == 7  # serve, relay, notary run, db upgrade, keys create, evm deploy, devnet


def test_a_made_up_option_fails_the_command_parse() -> None:
    with pytest.raises(UsageError):
        _parse(["pjgw", "relay", "--chains", "x.toml", "--no-such-option"])


def test_anvil_stage_flags_are_flags_of_the_pinned_anvil() -> None:
    from adapters.evm.node import find_anvil_binary

    anvil = dict(stages())["anvil"]
    (cmd,) = [i["value"] for i in anvil if i["instruction"] == "CMD"]
    flags = [a for a in yaml.safe_load(cmd) if a.startswith("--")]
    help_text = subprocess.run(
        [str(find_anvil_binary()), "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    for flag in flags:
        assert re.search(rf"\s{re.escape(flag)}[\s,=<]", help_text), flag


def test_start_order_migrations_first_then_hub_and_relayers() -> None:
    services = _services()
    for name in ("hub", "relayer-1", "relayer-2", "notary-keys-0"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    for name in ("notary-0", "notary-1", "notary-2"):
        assert services[name]["depends_on"]["hub"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_dependency_exists_and_can_reach_its_condition() -> None:
    services = _services()
    image_health = {"hub", "anvil"}  # HEALTHCHECK of the Dockerfile's runtime / anvil stages
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, (name, target)
            if spec["condition"] == "service_healthy":
                check = services[target].get("healthcheck")
                assert (check and not check.get("disable")) or target in image_health, target
            else:
                assert spec["condition"] == "service_completed_successfully"
                assert services[target]["restart"] == "no", target


def test_processes_without_the_api_disable_the_images_http_healthcheck() -> None:
    services = _services()
    for name, service in services.items():
        command = service.get("command") or []
        serves_api = command[:2] == ["pjgw", "serve"]
        ours = service.get("image", "").startswith("pujiang-gateway")
        if ours and not serves_api and name != "devnet":  # the devnet checks its own port
            assert service["healthcheck"] == {"disable": True}, name


def test_chains_file_hosts_and_ports_are_compose_services() -> None:
    chains = tomllib.loads(CHAINS.read_text())["chains"]
    services = _services()
    devnet = services["devnet"]["command"]
    assert chains["pujiang-devnet"]["url"] == f"http://devnet:{devnet[devnet.index('--port') + 1]}"
    assert chains["anvil-31337"]["rpc_url"] == "http://anvil:8545"
    for notary in ("notary-0", "notary-1", "notary-2"):
        command = services[notary]["command"]
        assert command[command.index("--hub") + 1] == "http://hub:8080"
        assert command[command.index("--config") + 1] == "/etc/pjgw/chains.toml"


def _dev_notaries() -> list[str]:
    return sorted(
        Account.from_key(
            bytes.fromhex((DEV_SECRETS / f"notary-{i}.key").read_text().strip())
        ).address.lower()
        for i in range(3)
    )


def test_dev_notary_keys_are_the_devnet_committee_of_the_dev_seed() -> None:
    from devnet import keys

    seed = bytes.fromhex(env_example()["DEVNET_SEED"])
    derived = sorted("0x" + keys.notary_address(keys.notary_key(seed, i)).hex() for i in range(3))
    assert _dev_notaries() == derived
    chains = tomllib.loads(CHAINS.read_text())["chains"]
    for chain in chains.values():
        assert sorted(chain["committee"]) == derived
        assert chain["committee_threshold"] == 2
    bridge = _services()["bridge"]["command"]
    assert sorted(bridge[bridge.index("--committee") + 1].split(",")) == derived
    assert bridge[bridge.index("--threshold") + 1] == "2"


def test_bridge_address_is_the_first_creation_of_the_dev_deployer() -> None:
    key = (DEV_SECRETS / "evm-deployer.key").read_text().strip()
    deployer = bytes.fromhex(Account.from_key(key).address[2:])
    first = "0x" + keccak(rlp.encode([deployer, 0]))[12:].hex()
    chains = tomllib.loads(CHAINS.read_text())["chains"]
    assert chains["anvil-31337"]["bridge_address"] == first
    bridge = _services()["bridge"]["command"]
    assert bridge[bridge.index("--expect-address") + 1] == first


def _known_dev_secrets() -> set[str]:
    from devnet import keys

    seed = bytes.fromhex(env_example()["DEVNET_SEED"])
    Account.enable_unaudited_hdwallet_features()
    anvil = {
        Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key.hex()
        for i in range(10)
    }
    devnet = {bytes(keys.account_key(seed, i)).hex() for i in range(4)}
    notaries = {bytes(keys.notary_key(seed, i).secret).hex() for i in range(3)}
    return {k.removeprefix("0x") for k in anvil} | devnet | notaries | {seed.hex()}


def test_every_key_under_deploy_is_a_well_known_dev_key() -> None:
    known = _known_dev_secrets()
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            for found in re.findall(
                r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])", path.read_text()
            ):
                assert found.lower() in known, f"{path}: a 32-byte secret that is not a dev key"


def test_chains_file_loads_for_the_hub_with_the_relayers_env_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from adapters.chains_file import load_chains_file
    from gateway.hub import build_adapters, close_adapters

    env = _services()["relayer-2"]["environment"]
    for name in (
        "PJGW_EVM_SIGNER_KEY",
        "PJGW_PUJIANG_RELAYER_KEY",
        "PJGW_EVM_INSECURE_PLAINTEXT_KEY",
        "PJGW_PUJIANG_INSECURE_PLAINTEXT_KEY",
    ):
        monkeypatch.setenv(name, env[name])
    parsed = load_chains_file(CHAINS)
    assert set(parsed.routes) == {"devnet-to-anvil", "anvil-to-devnet"}
    adapters = build_adapters(parsed)
    try:
        evm = adapters["anvil-31337"]
        assert evm.settings.signer_key is not None  # type: ignore[attr-defined]
        assert adapters["pujiang-devnet"].settings.relayer_key is not None  # type: ignore[attr-defined]
    finally:
        asyncio.run(close_adapters(adapters))


def test_chains_file_loads_for_a_notary_without_any_key() -> None:
    from notary.config import load_config

    config = load_config(CHAINS)
    try:
        assert set(config.routes) == {"devnet-to-anvil", "anvil-to-devnet"}
        assert config.adapters["anvil-31337"].settings.signer_key is None
    finally:
        import asyncio

        async def close() -> None:
            for adapter in config.adapters.values():
                await adapter.aclose()

        asyncio.run(close())
