"""Fixtures for the relayer's end-to-end tests: a devnet node, anvil, a SqlStore on SQLite.

* ``anvil`` / ``chain``: the real anvil process of ``tests/evm/conftest.py``
  (re-declared here by import: pytest only sees fixtures of a conftest on the
  test's own path).
* ``devnet``: a devnet node in this process (blocks only on ``produce_block()``),
  served to the adapter through its ASGI app, keys from ``DEVNET_SEED``.
* ``bridge``: a fresh ``Bridge.sol`` per test on anvil whose committee is the
  devnet genesis notaries (three, threshold two), so the same three keys
  attest both directions.
* ``store``: ``gateway.store.SqlStore`` on a SQLite file, migrated, with both
  chains and the route devnet -> anvil registered.

The test's stand-in for notary processes (``sign_proven``) signs the digest
with the devnet notary keys straight into the store; real notary processes are
tested in ``test_notary.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.node import AnvilNode
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.ids import ChainId, Height
from core.records import ChainRecord, RouteProtocol, RouteRecord, SignatureRecord
from core.states import TransferState
from devnet import keys
from proofs.notary.ecdsa import sign
from tests.adapters.conftest import CHAIN_ID as DEVNET_CHAIN
from tests.adapters.conftest import DEVNET_SEED, InProcessDevnet, account_seed
from tests.evm.chain import Chain, Contract
from tests.evm.conftest import CHAIN_ID as EVM_CHAIN_ID
from tests.evm.conftest import LOCAL_CHAIN, anvil, chain  # noqa: F401 - fixtures re-declared

ROUTE = "devnet-to-anvil"
THRESHOLD = 2
NOTARY_KEYS = [bytes(keys.notary_key(DEVNET_SEED, i).secret) for i in range(3)]
NOTARIES = tuple(
    "0x" + keys.notary_address(keys.notary_key(DEVNET_SEED, i)).hex() for i in range(3)
)


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    from devnet.api import create_app
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(
        data_dir=tmp_path_factory.mktemp("devnet-relayer"), block_time=None, seed=DEVNET_SEED
    )
    node = DevnetNode(config)
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
    relayer: str
    relayer_key: str


@pytest.fixture
def evm(anvil: AnvilNode, chain: Chain) -> Anvil:  # noqa: F811 - the imported fixtures
    admin, alice, _bob, relayer = (a.address for a in anvil.accounts[:4])
    relayer_key = anvil.accounts[3].private_key
    members = sorted(NOTARIES, key=lambda a: int(a, 16))  # the bridge wants increasing order
    bridge = chain.deploy("Bridge", LOCAL_CHAIN, admin, members, THRESHOLD, sender=admin)
    return Anvil(anvil, chain, bridge, admin, alice, relayer, relayer_key)


def pujiang_adapter(devnet: InProcessDevnet) -> PujiangAdapter:
    settings = PujiangSettings(
        url=devnet.url,
        chain_id=DEVNET_CHAIN,
        relayer_key=account_seed(1).hex(),
        retry_attempts=1,
        committee_threshold=THRESHOLD,
        committee=NOTARIES,
    )
    return PujiangAdapter(settings, transport=devnet.transport)


def evm_adapter(env: Anvil) -> EvmAdapter:
    settings = EvmChainSettings(
        chain=LOCAL_CHAIN,
        rpc_url=env.node.url,
        evm_chain_id=EVM_CHAIN_ID,
        bridge_address=env.bridge.address,
        confirmations=0,
        signer_key=env.relayer_key,
        read_retries=1,
        retry_backoff=0.05,
        committee_threshold=THRESHOLD,
        committee=NOTARIES,
    )
    return EvmAdapter(settings)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[object]:
    from gateway.store import SqlStore

    sql = SqlStore(f"sqlite:///{tmp_path / 'hub.db'}")
    sql.migrate()
    sql.upsert_chain(ChainRecord(ChainId(DEVNET_CHAIN), "pujiang"))
    sql.upsert_chain(ChainRecord(ChainId(LOCAL_CHAIN), "evm"))
    sql.upsert_route(
        RouteRecord(ROUTE, ChainId(DEVNET_CHAIN), ChainId(LOCAL_CHAIN), RouteProtocol.NOTARY)
    )
    try:
        yield sql
    finally:
        sql.close()


async def sign_proven(
    store: object,
    source: PujiangAdapter,
    dest: EvmAdapter,
    now: float,
    *,
    route_id: str | None = None,
) -> int:
    """Stand-in for three notary processes: sign every ``proven`` transfer's delivery digest
    (of ``route_id`` only, when given).

    Reads the packet back from the devnet itself (as a notary would, without
    the relayer's help) and signs the anvil bridge's digest with each key.
    """
    proven, _ = store.list_transfers(state=TransferState.PROVEN)  # type: ignore[attr-defined]
    signed = 0
    for t in proven:
        if route_id is not None and t.route_id != route_id:
            continue
        height = Height(t.source_height)
        (event,) = [
            e
            for e in await source.events(height, height)
            if tuple(e.position) == tuple(t.source_position)
        ]
        packet = source.bridge().packet_of(event)
        digest = dest.bridge().delivery_digest(packet)
        for key, address in zip(NOTARY_KEYS, NOTARIES, strict=True):
            record = SignatureRecord(t.id, address, digest, sign(key, digest), now)
            store.add_signature(record, t.route_id, packet.sequence)  # type: ignore[attr-defined]
            signed += 1
    return signed
