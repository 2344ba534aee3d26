"""Fixtures for the timeout tests: real anvil, an in-process devnet, real notaries.

* ``clock``: the one clock of a test module (wall time + an offset the tests
  move forward). The devnet stamps its blocks with it, and the relayer and the
  notaries verify headers with it, so "time travel" on the devnet is
  ``clock.reach(t)`` followed by ``produce_block()``; on anvil it is
  ``evm_setNextBlockTimestamp`` + ``evm_mine`` (``Anvil.travel``).
* ``devnet``: a devnet node in this process on ``clock`` (blocks only on
  ``produce_block()``), served to the adapters through its ASGI app.
* ``evm``: a fresh ``Bridge.sol`` per test whose committee is the devnet's
  three genesis notaries (threshold two); anvil stamps each block one second
  after its parent (the EVM light client's rule) for the test.
* ``store``: a SqlStore on SQLite with both chains and both routes.
* ``Notaries``: three REAL ``notary.Notary`` objects (own adapters,
  own light clients, own data directories) fed by ``StoreWorkSource``
  (``tests/timeouts/helpers.py``, with ``TestClock`` and ``Anvil``).

``anvil``/``chain`` are the folder's anvil (``tests.fixtures.anvil``); ``evm``
here replaces the plugin's (``tests.fixtures.relay``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.evm.node import AnvilNode
from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from tests.evm.chain import Chain
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET
from tests.fixtures.devnet import InProcessDevnet, in_process_devnet
from tests.fixtures.relay import NOTARIES, THRESHOLD
from tests.timeouts.helpers import IN, OUT, ROUTES, Anvil, TestClock


@pytest.fixture(scope="module")
def clock() -> TestClock:
    return TestClock()


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory, clock: TestClock) -> Iterator[InProcessDevnet]:
    with in_process_devnet(tmp_path_factory.mktemp("devnet-timeouts"), clock=clock.ms) as made:
        yield made


@pytest.fixture
def evm(anvil: AnvilNode, chain: Chain, clock: TestClock) -> Iterator[Anvil]:
    chain.call("anvil_setBlockTimestampInterval", 1)
    try:
        admin, alice = anvil.accounts[0].address, anvil.accounts[1].address
        relayer_key = anvil.accounts[3].private_key
        members = sorted(NOTARIES, key=lambda a: int(a, 16))
        bridge = chain.deploy("Bridge", LOCAL_CHAIN, admin, members, THRESHOLD, sender=admin)
        clock.reach(chain.timestamp())
        yield Anvil(anvil, chain, bridge, admin, alice, relayer_key)
    finally:
        chain.call("anvil_removeBlockTimestampInterval")


@pytest.fixture
def store(tmp_path: Path, devnet: InProcessDevnet, evm: Anvil) -> Iterator[Any]:
    """Both routes, scanning from the next block of each chain (older packets are not ours)."""
    from gateway.store import SqlStore

    sql = SqlStore(f"sqlite:///{tmp_path / 'hub.db'}")
    sql.migrate()
    sql.upsert_chain(ChainRecord(ChainId(DEVNET), "pujiang"))
    sql.upsert_chain(ChainRecord(ChainId(LOCAL_CHAIN), "evm"))
    starts = {OUT: devnet.node.tip.height + 1, IN: evm.chain.block_number() + 1}
    for route in ROUTES.values():
        sql.upsert_route(
            RouteRecord(
                route.route_id,
                ChainId(route.source),
                ChainId(route.destination),
                RouteProtocol.NOTARY,
                settings={"start_height": starts[route.route_id]},
            )
        )
    try:
        yield sql
    finally:
        sql.close()
