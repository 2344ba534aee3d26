"""The one-shot commands compose runs before the long-lived ones, run here for real.

* ``pjgw evm deploy-bridge`` on a fresh anvil with the dev deployer key puts the
  Bridge at the address ``deploy/chains.toml`` names, and a second run (every
  ``docker compose up``) changes nothing;
* ``pjgw keys create --token-file`` writes a working token once (mode 0600) and
  is a no-op while the file holds it;
* ``pjgw notary run --api-key-file`` with a missing file stops with a readable
  error and exit code 2.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.evm.node import AnvilConfig, AnvilNode
from tests.deploy.files import CHAINS, PJGW, REPO_ROOT, compose
from tests.evm.chain import Chain
from tests.fixtures.tiers import starts


@pytest.fixture(scope="module")
@starts("chain")
def fresh_anvil() -> Iterator[AnvilNode]:
    """Its own anvil: the shared test node's account 0 has sent transactions already."""
    with AnvilNode(AnvilConfig()) as node:
        yield node


def _pjgw(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PJGW, *args],
        env=os.environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )


def _bridge_command(rpc_url: str) -> list[str]:
    """The compose service's command, with anvil's address and the key file's path local."""
    command = list(compose()["services"]["bridge"]["command"])
    command[command.index("--rpc-url") + 1] = rpc_url
    key = REPO_ROOT / "deploy" / "secrets" / "dev" / "evm-deployer.key"
    command[command.index("--key-file") + 1] = str(key)
    return command[1:]


def test_deploy_bridge_lands_where_the_chains_file_says_and_is_idempotent(
    fresh_anvil: AnvilNode,
) -> None:
    expected = tomllib.loads(CHAINS.read_text())["chains"]["anvil-31337"]["bridge_address"]
    first = _pjgw(_bridge_command(fresh_anvil.url))
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"Bridge deployed at {expected}" in first.stdout
    chain = Chain(fresh_anvil.url)
    try:
        bridge = chain.at("Bridge", expected)
        assert bridge.view("localChain") == "anvil-31337"
        nonce = chain.call("eth_getTransactionCount", fresh_anvil.accounts[0].address, "latest")
        again = _pjgw(_bridge_command(fresh_anvil.url))
        assert again.returncode == 0, again.stderr
        assert f"Bridge already deployed at {expected}" in again.stdout
        after = chain.call("eth_getTransactionCount", fresh_anvil.accounts[0].address, "latest")
        assert after == nonce  # no second transaction
    finally:
        chain.close()
    assert fresh_anvil.accounts[0].private_key.removeprefix("0x") not in first.stdout + first.stderr


@pytest.mark.slow  # two `pjgw keys create` processes (migrations each time): about 20 s
def test_keys_create_token_file_creates_once_and_then_leaves_it(tmp_path: Path) -> None:
    env = {"PJGW_DATA_DIR": str(tmp_path / "hub")}
    token_file = tmp_path / "notary-0.token"
    args = ["keys", "create", "notary-0", "--role", "notary", "--token-file", str(token_file)]
    first = _pjgw(args, env)
    assert first.returncode == 0, first.stderr
    token = token_file.read_text().strip()
    assert token.startswith("pjgw_")
    assert token not in first.stdout + first.stderr
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    again = _pjgw(args, env)
    assert again.returncode == 0, again.stderr
    assert "exists" in again.stdout
    assert token_file.read_text().strip() == token

    from gateway.store import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path / 'hub' / 'hub.db'}")
    try:
        assert store.verify_api_key(token) == ("notary-0", "notary")
    finally:
        store.close()


def test_notary_run_with_a_missing_api_key_file_exits_2_with_a_reason(tmp_path: Path) -> None:
    result = _pjgw(
        [
            "notary", "run", "--insecure-plaintext-key",
            "--key-file", str(REPO_ROOT / "deploy" / "secrets" / "dev" / "notary-0.key"),
            "--hub", "http://127.0.0.1:9",
            "--config", str(CHAINS),
            "--data", str(tmp_path / "notary"),
            "--api-key-file", str(tmp_path / "missing.token"),
        ]
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot read the API key file" in result.stderr
