"""AnvilNode: a free loopback port, funded accounts, stopped by pid, state kept across restarts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.evm.node import AnvilConfig, AnvilNode, find_anvil_binary
from core.errors import ConfigError
from tests.evm.chain import Chain

pytestmark = pytest.mark.chain  # the tests start anvil nodes of their own


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_session_node_listens_on_loopback_with_funded_accounts(
    anvil: AnvilNode, chain: Chain
) -> None:
    assert anvil.url.startswith("http://127.0.0.1:")
    assert anvil.is_running()
    assert len(anvil.accounts) == 5
    assert chain.balance(anvil.accounts[0].address) > 0
    assert chain.chain_id() == 31337


def test_node_stops_by_its_pid_and_removes_its_home(tmp_path: Path) -> None:
    node = AnvilNode(AnvilConfig(chain_id=4242, accounts=1)).start()
    pid, home = node.pid, node.log_path.parent
    assert pid is not None
    assert _pid_alive(pid)
    chain = Chain(node.url)
    try:
        assert chain.chain_id() == 4242
    finally:
        chain.close()
        node.stop()
    assert not _pid_alive(pid)
    assert not home.exists()
    node.stop()  # idempotent


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config = AnvilConfig(chain_id=4243, accounts=2, state_path=state)
    with AnvilNode(config) as node:
        chain = Chain(node.url)
        sender = node.accounts[0].address
        chain.send({"from": sender, "to": "0x" + "ab" * 20, "value": 12345})
        chain.close()
    assert state.is_file()
    with AnvilNode(config) as node:
        chain = Chain(node.url)
        try:
            assert chain.balance("0x" + "ab" * 20) == 12345
            assert chain.block_number() >= 1
        finally:
            chain.close()


def test_missing_binary_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PJGW_ANVIL_BIN", str(tmp_path / "no-anvil"))
    with pytest.raises(ConfigError, match="make node_modules"):
        find_anvil_binary()
