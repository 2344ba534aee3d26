"""Both chains restarted mid-flow: anvil from its state dump, the devnet from its data directory.

The hub's processes reach each node through a pass-through proxy
(``rpc_proxy.FaultyProxy`` with no faults), as through a load balancer: a
restarted node listens on a new port, and the proxy is pointed at it, so
the hub's URLs stay the same while the node is down and after it returns.

anvil is this test's own node started with ``--state FILE`` (loads the file
on start, dumps it on SIGTERM, ``adapters.evm.node``): its chain, contracts
and deliveries survive. While transfers are in flight anvil is stopped and
started again from the dump, then the devnet is stopped and started on its
data directory; more transfers start afterwards. The hub must resume:
every transfer completes, each packet received once, conservation holds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.evm.node import AnvilConfig, AnvilNode
from tests.e2e.harness import (
    AMOUNT,
    Hub,
    account_nonce,
    assert_conserved,
    chains_toml,
    post_txs,
    recv_sequences,
    signed_sends,
    voucher_balance,
    wait_until,
)
from tests.e2e.rpc_proxy import FaultyProxy
from tests.evm.chain import Chain
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import DevnetProcess, start_devnet
from tests.fixtures.relay import NOTARIES, THRESHOLD, Anvil
from tests.fixtures.tiers import starts

pytestmark = pytest.mark.chain  # the tests restart the devnet and anvil processes themselves
BEFORE = 20  # transfers started before the restarts
AFTER = 10  # and after them


class Restartable:
    """An anvil with a state file: ``restart()`` stops it (dumping) and loads the dump."""

    def __init__(self, state: Path) -> None:
        self.config = AnvilConfig(chain_id=EVM_CHAIN_ID, accounts=5, state_path=state)
        self.node = AnvilNode(self.config).start()
        self.chain = Chain(self.node.url)

    def restart(self, down_for: float) -> None:
        self.chain.close()
        self.node.stop()
        time.sleep(down_for)
        self.node = AnvilNode(self.config).start()
        self.chain = Chain(self.node.url)

    def stop(self) -> None:
        self.chain.close()
        self.node.stop()


@pytest.fixture
@starts("chain")
def own_anvil(tmp_path: Path) -> Iterator[Restartable]:
    node = Restartable(tmp_path / "anvil-state.json")
    try:
        yield node
    finally:
        node.stop()


def _deploy(anvil: Restartable) -> Anvil:
    admin, alice, _bob, relayer = (a.address for a in anvil.node.accounts[:4])
    members = sorted(NOTARIES, key=lambda a: int(a, 16))
    bridge = anvil.chain.deploy("Bridge", LOCAL_CHAIN, admin, members, THRESHOLD, sender=admin)
    key = anvil.node.accounts[3].private_key
    return Anvil(anvil.node, anvil.chain, bridge, admin, alice, relayer, key)


def _reattach(env: Anvil, anvil: Restartable) -> Anvil:
    """The same deployment seen through the restarted node's client."""
    bridge = anvil.chain.at("Bridge", env.bridge.address)
    return Anvil(
        anvil.node, anvil.chain, bridge, env.admin, env.alice, env.relayer, env.relayer_key
    )


@pytest.mark.slow
@pytest.mark.timeout(600)  # its own deadlines decide; the suite default is 300 s
def test_the_hub_resumes_after_anvil_restarts_from_its_dump_and_the_devnet_from_its_data(
    tmp_path: Path, own_anvil: Restartable, hub: Hub
) -> None:
    devnet_dir = tmp_path / "devnet"
    devnet: DevnetProcess = start_devnet(devnet_dir)
    try:
        with FaultyProxy(devnet.url) as to_devnet, FaultyProxy(own_anvil.node.url) as to_anvil:
            try:
                devnet = _flow(tmp_path, devnet, own_anvil, hub, to_devnet, to_anvil)
            finally:
                hub.processes.stop()  # before the proxies close under them
    finally:
        devnet.stop()


def _flow(
    tmp_path: Path,
    devnet: DevnetProcess,
    anvil: Restartable,
    hub: Hub,
    to_devnet: FaultyProxy,
    to_anvil: FaultyProxy,
) -> DevnetProcess:
    env = _deploy(anvil)
    anvil.chain.call("anvil_setBlockTimestampInterval", 1)
    hub.relayer_env["PJGW_RELAYER_BACKOFF_CAP"] = "2"
    relayer_chains = hub.write(
        "relayer.toml", chains_toml(to_devnet.url, env, hub=True, evm_url=to_anvil.url)
    )
    notary_chains = hub.write(
        "notary.toml", chains_toml(to_devnet.url, env, hub=False, evm_url=to_anvil.url)
    )
    hub.start_api(relayer_chains)
    hub.start_relayer("relayer", relayer_chains)
    for i in range(3):
        hub.start_notary(i, notary_chains)
    timeout_ms = (int(time.time()) + 24 * 3600) * 1000
    sender, txs = signed_sends(devnet.url, env.alice, timeout_ms, BEFORE)
    half = BEFORE // 2
    post_txs(devnet.url, txs[:half])
    wait_until(lambda: len(recv_sequences(env)) > 0, 60, "a first delivery", interval=0.2)

    # anvil goes down with transfers just started, and returns from its dump.
    post_txs(devnet.url, txs[half:])
    in_flight = BEFORE - len(recv_sequences(env))
    anvil.restart(down_for=2)
    to_anvil.retarget(anvil.node.url)
    anvil.chain.call("anvil_setBlockTimestampInterval", 1)
    env = _reattach(env, anvil)

    # Then the devnet, once the first sends are in blocks (a restart empties its mempool).
    address = bytes.fromhex(sender[2:])
    wait_until(lambda: account_nonce(devnet.url, address) == BEFORE, 30, "first sends committed")
    devnet.stop()
    time.sleep(2)
    devnet = start_devnet(tmp_path / "devnet")
    to_devnet.retarget(devnet.url)
    _, more = signed_sends(devnet.url, env.alice, timeout_ms, AFTER)
    post_txs(devnet.url, more)

    total = BEFORE + AFTER
    states = hub.wait_terminal(total, timeout=120)
    assert states == {"completed": total}, dict(states)
    delivered = recv_sequences(env)
    assert sorted(delivered) == list(range(1, total + 1))
    assert set(delivered.values()) == {1}
    assert voucher_balance(env, env.alice) == total * AMOUNT
    assert_conserved(devnet.url, env)
    assert in_flight >= half, f"only {in_flight} transfers were in flight at anvil's restart"
    return devnet
