# ruff: noqa: F811 - the anvil fixtures of tests/evm/conftest.py are imported by name
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
  own light clients, own data directories) fed by ``StoreWorkSource``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.node import AnvilNode
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.errors import PjgwError
from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from notary import Notary, Route
from notary.work import StoreWorkSource
from tests.adapters.conftest import CHAIN_ID as DEVNET
from tests.adapters.conftest import DEVNET_SEED, InProcessDevnet
from tests.evm.chain import Chain, Contract
from tests.evm.conftest import CHAIN_ID as EVM_CHAIN_ID
from tests.evm.conftest import LOCAL_CHAIN, anvil, chain  # noqa: F401 - fixtures re-declared
from tests.relayer.conftest import NOTARIES, NOTARY_KEYS, THRESHOLD

OUT = "devnet-to-anvil"
IN = "anvil-to-devnet"
ROUTES = {OUT: Route(OUT, DEVNET, LOCAL_CHAIN), IN: Route(IN, LOCAL_CHAIN, DEVNET)}


class TestClock:
    """Wall time plus an offset that only grows (seconds; ``ms()`` for the devnet)."""

    __test__ = False

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def ms(self) -> int:
        return int(self() * 1000)

    def reach(self, seconds: float) -> None:
        """Move the clock forward to at least ``seconds`` (never back)."""
        ahead = seconds - self()
        if ahead > 0:
            self.offset += ahead


@pytest.fixture(scope="module")
def clock() -> TestClock:
    return TestClock()


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory, clock: TestClock) -> Iterator[InProcessDevnet]:
    from devnet.api import create_app
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(
        data_dir=tmp_path_factory.mktemp("devnet-timeouts"), block_time=None, seed=DEVNET_SEED
    )
    node = DevnetNode(config, clock=clock.ms)
    try:
        yield InProcessDevnet(node, httpx.ASGITransport(app=create_app(node)))
    finally:
        node.close()


@dataclass
class Anvil:
    node: AnvilNode
    chain: Chain
    bridge: Contract
    admin: str
    alice: str
    relayer_key: str

    def rpc(self, method: str, *params: Any) -> Any:
        """A blocking JSON-RPC call of its own (usable inside a test's event loop)."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = httpx.post(self.node.url, json=body, timeout=10.0).json()
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer["result"]

    def timestamp(self) -> int:
        return int(self.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def travel(self, clock: TestClock, to: int) -> None:
        """Mine a block stamped ``to`` (or one second after the last) and follow with ``clock``."""
        stamp = max(to, self.timestamp() + 1)
        self.rpc("evm_setNextBlockTimestamp", stamp)
        self.rpc("evm_mine")
        clock.reach(stamp)

    def mine(self, blocks: int) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")


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


def evm_settings(env: Anvil, *, signer: bool) -> EvmChainSettings:
    return EvmChainSettings(
        chain=LOCAL_CHAIN,
        rpc_url=env.node.url,
        evm_chain_id=EVM_CHAIN_ID,
        bridge_address=env.bridge.address,
        confirmations=0,
        signer_key=env.relayer_key if signer else None,
        read_retries=1,
        retry_backoff=0.05,
        committee_threshold=THRESHOLD,
        committee=NOTARIES,
    )


def pujiang_settings(devnet: InProcessDevnet, *, signer: bool) -> PujiangSettings:
    from tests.adapters.conftest import account_seed

    return PujiangSettings(
        url=devnet.url,
        chain_id=DEVNET,
        relayer_key=account_seed(1).hex() if signer else None,
        retry_attempts=1,
        committee_threshold=THRESHOLD,
        committee=NOTARIES,
    )


def adapters_for(devnet: InProcessDevnet, env: Anvil, *, signer: bool) -> dict[ChainId, Any]:
    return {
        ChainId(DEVNET): PujiangAdapter(
            pujiang_settings(devnet, signer=signer), transport=devnet.transport
        ),
        ChainId(LOCAL_CHAIN): EvmAdapter(evm_settings(env, signer=signer)),
    }


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


@dataclass
class Notaries:
    """Three real notaries on the store's work, each with its own adapters and data dir."""

    members: list[tuple[Notary, StoreWorkSource]]
    refusals: list[tuple[str, str, PjgwError]] = field(default_factory=list)

    @classmethod
    def start(
        cls, store: Any, devnet: InProcessDevnet, env: Anvil, data: Path, clock: TestClock
    ) -> Notaries:
        members = []
        for i, key in enumerate(NOTARY_KEYS):
            notary = Notary(
                key,
                {str(k): a for k, a in adapters_for(devnet, env, signer=False).items()},
                ROUTES,
                data / f"notary-{i}",
                clock=clock,
            )
            members.append((notary, StoreWorkSource(store, notary.address, clock=clock)))
        return cls(members)

    async def round(self, kinds: frozenset[str]) -> int:
        """One round of every notary over the store's work of ``kinds``; attestations posted."""
        posted = 0
        for notary, source in self.members:
            for item in await source.fetch(50):
                if item.kind not in kinds:
                    continue
                try:
                    attestation = await notary.attest(item)
                except PjgwError as err:
                    self.refusals.append((item.transfer_id, item.kind, err))
                    continue
                await source.submit(attestation)
                posted += 1
        return posted

    async def close(self) -> None:
        for notary, _ in self.members:
            for adapter in notary.adapters.values():
                await adapter.aclose()
            notary.close()
