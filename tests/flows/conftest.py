"""Fixtures for the flow tests: both routes between a devnet and anvil, one relayer, SqlStore.

From the ``tests.fixtures`` plugin: ``anvil``/``chain`` (the folder's anvil)
and ``evm`` (a fresh ``Bridge.sol`` per test whose committee is the devnet's
three genesis notaries, threshold two).

Added here:

* ``store``: ``SqlStore`` on SQLite with both chains and the route devnet ->
  anvil (``tests.fixtures.relay.hub_store``);
* ``devnet``: a FRESH in-process devnet node per test (35 ms), so the
  conservation law can be read exactly: its escrow and vouchers belong to this
  test's anvil bridge only;
* ``flows``: the pair wired for both directions: the route anvil -> devnet
  registered too, a ``TestToken`` (alice holds 10**24) and an
  ``ExampleMessageReceiver`` deployed, anvil stamping each block one second
  after its parent (the EVM light client refuses equal timestamps: anvil as a
  SOURCE needs it), and both routes starting at this test's first block.

``Flows`` and ``sign_all_proven`` (the stand-in for three notary processes)
are in ``tests/flows/helpers.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.ids import ChainId
from core.records import RouteProtocol, RouteRecord
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import InProcessDevnet, in_process_devnet
from tests.fixtures.relay import Anvil, hub_store
from tests.flows.helpers import ANVIL_TO_DEVNET, DEVNET_TO_ANVIL, Flows


@pytest.fixture
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    with in_process_devnet(tmp_path_factory.mktemp("devnet-flows")) as made:
        yield made


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    with hub_store(tmp_path / "hub.db") as sql:
        yield sql


@pytest.fixture
def flows(devnet: InProcessDevnet, evm: Anvil, store: Any) -> Iterator[Flows]:
    admin = evm.admin
    token = evm.chain.deploy("TestToken", "Test Token", "TT", sender=admin)
    receiver = evm.chain.deploy("ExampleMessageReceiver", evm.bridge.address, sender=admin)
    token.transact("mint", evm.alice, 10**24, sender=admin)
    evm.chain.call("anvil_setBlockTimestampInterval", 1)
    start = evm.chain.block_number() + 1
    store.upsert_route(
        RouteRecord(
            DEVNET_TO_ANVIL,
            ChainId(DEVNET_CHAIN),
            ChainId(LOCAL_CHAIN),
            RouteProtocol.NOTARY,
            settings={"start_height": 1},
        )
    )
    store.upsert_route(
        RouteRecord(
            ANVIL_TO_DEVNET,
            ChainId(LOCAL_CHAIN),
            ChainId(DEVNET_CHAIN),
            RouteProtocol.NOTARY,
            settings={"start_height": start},
        )
    )
    made = Flows(devnet, evm, token, receiver, store, start)
    try:
        yield made
    finally:
        evm.chain.call("anvil_removeBlockTimestampInterval")
