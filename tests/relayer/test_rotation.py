"""The relayer's Pujiang client follows a real validator-set rotation of the devnet.

``ClientKeeper`` verifies a far header by skipping; when the set that signed
it shares too little power with the trusted set (``InsufficientPower``,
``trust-overlap``) it halves the step (bisection). Here the rotation is real:
the devnet's validators sign a ``validator_update`` handing the chain to four
other keys (overlap 0), blocks are produced by the new set, and a packet sent
after that must still be proven by the relayer, attested (the notary
stand-in of ``conftest.sign_proven``) and delivered to ``Bridge.sol`` on
anvil.

* rotation: the skip from the trusted height to the packet's height is first
  shown to fail ``trust-overlap``; the relayer delivers the packet anyway, its
  stored light-client record holds the adjacent pair across the rotation
  (the only step that can cross a set with no overlap), and the headers the
  relayer fetched (a recording subclass of ``PujiangAdapter``) include heights
  between the anchor and the packet;
* expiry: the same rotation while the relayer's trusted state is older than
  its trusting period (the relayer's clock moved past it) leaves no chain of
  trust: the packet is not proven nor delivered, the transfer says the trusted
  state expired, and the client is neither advanced nor re-anchored.

Each test gets its own devnet node (function scope: a rotation changes the
chain for good), real anvil and a SqlStore on SQLite.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.pujiang import PujiangAdapter
from core.errors import InsufficientPower
from core.ids import ChainId, Height
from core.records import RouteProtocol, RouteRecord
from core.states import TransferState
from core.types import HeaderUpdate
from devnet import keys
from proofs.pujiang import codec
from relayer.engine import Relayer
from relayer.settings import ClientParams
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.fixtures.relay import ROUTE, Anvil, evm_adapter, pujiang_adapter, sign_proven
from tests.relayer.test_engine_e2e import (
    AMOUNT,
    FAST,
    deliveries_on_anvil,
    voucher_balance,
)

NEW_SET = {4: 10, 5: 10, 6: 10, 7: 10}  # the genesis set is derived keys 0..3: overlap 0
BLOCKS_AFTER_ROTATION = 6
TRUSTING_PERIOD = 60  # seconds, the smallest ClientParams allows (expiry test)


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[InProcessDevnet]:
    """A fresh in-process devnet per test (overrides the conftest's module-scoped one)."""
    from devnet.api import create_app
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(data_dir=tmp_path / "devnet", block_time=None, seed=DEVNET_SEED)
    node = DevnetNode(config)
    try:
        yield InProcessDevnet(node, httpx.ASGITransport(app=create_app(node)))
    finally:
        node.close()


class RecordingPujiangAdapter(PujiangAdapter):
    """The real adapter, which also writes down every height whose header it was asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_calls: list[int] = []

    async def header(self, height: Height) -> HeaderUpdate:
        self.header_calls.append(int(height))
        return await super().header(height)


class MovableClock:
    """Unix seconds of the relayer: the wall clock plus an offset a test may raise."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def register_route(devnet: InProcessDevnet, store: Any) -> None:
    """Scan from the next block: earlier blocks hold no packet of this test."""
    store.upsert_route(
        RouteRecord(
            ROUTE,
            ChainId(DEVNET_CHAIN),
            ChainId(LOCAL_CHAIN),
            RouteProtocol.NOTARY,
            settings={"start_height": devnet.node.height + 1},
        )
    )


def commit(devnet: InProcessDevnet, who: int, kind: str, args: list[object]) -> dict[str, Any]:
    """Account ``who`` signs one transaction; the next block holds it; its receipt."""
    node = devnet.node
    account = keys.account_key(DEVNET_SEED, who)
    nonce = node.committed_nonce(codec.compute_address(bytes(account.verify_key)))
    tx_hash = node.submit(keys.sign_tx(account, DEVNET_CHAIN, nonce, kind, args))
    node.produce_block()
    receipt: dict[str, Any] = node.query_tx(tx_hash)
    assert receipt["status"] == "committed", receipt
    return receipt


def send_packet(devnet: InProcessDevnet, env: Anvil) -> tuple[bytes, int]:
    """Alice sends ``AMOUNT`` upj to her anvil address; (tx hash, packet height)."""
    deadline_ms = (max(env.chain.timestamp(), int(time.time())) + 3600) * 1000
    args = [LOCAL_CHAIN.encode(), bytes.fromhex(env.alice[2:]), b"upj", AMOUNT, 0, deadline_ms]
    receipt = commit(devnet, 0, "bridge_send", args)
    return bytes.fromhex(receipt["tx_hash"][2:]), int(receipt["height"])


def rotate(devnet: InProcessDevnet, powers: dict[int, int]) -> int:
    """All of the current set hand the chain to derived keys ``powers``; the first height
    the new set signs (the update's block + 2, ``devnet/modules/validators.py``)."""
    node = devnet.node
    current = node.validators(node.height + 1)
    new_set = node.keyring.make_set(powers)
    args = keys.sign_valset_update(
        DEVNET_CHAIN,
        1,  # a fresh node: the genesis epoch is 0
        new_set,
        current,
        node.keyring.secrets,
        list(range(len(current))),
        node.hash_fn,
    )
    receipt = commit(devnet, 2, "validator_update", args)
    (changed,) = [e for e in receipt["events"] if e["kind"] == "validator_set_changed"]
    effective = int(receipt["height"]) + 2
    assert int(changed["attributes"]["effective_height"]) == effective, changed
    for _ in range(BLOCKS_AFTER_ROTATION):
        node.produce_block()
    signer_keys = {v.bls_pubkey for v in node.validators(node.height)}
    assert signer_keys.isdisjoint(v.bls_pubkey for v in current)  # replaced entirely
    return effective


def relayer_for(
    store: Any, devnet: InProcessDevnet, env: Anvil, name: str, clock: MovableClock, **changes: Any
) -> tuple[Relayer, RecordingPujiangAdapter]:
    source = RecordingPujiangAdapter(pujiang_adapter(devnet).settings, transport=devnet.transport)
    adapters = {ChainId(DEVNET_CHAIN): source, ChainId(LOCAL_CHAIN): evm_adapter(env)}
    settings = FAST.model_copy(update=changes)
    return Relayer(store, adapters, worker_id=name, clock=clock, settings=settings), source


async def run_passes(relayer: Relayer, store: Any, tx_hash: bytes, passes: int = 60) -> Any:
    """Passes (signing as the notaries between them) until the transfer completes or
    ``passes`` ran; the transfer. The relayer's watch leases are released and its adapters
    closed after."""
    source = relayer.adapters[ChainId(DEVNET_CHAIN)]
    dest = relayer.adapters[ChainId(LOCAL_CHAIN)]
    try:
        for _ in range(passes):
            await relayer.run_once()
            await sign_proven(store, source, dest, time.time())  # type: ignore[arg-type]
            found = store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)
            if found is not None and found.state is TransferState.COMPLETED:
                return found
            await asyncio.sleep(0.01)
        return store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)
    finally:
        await relayer.release_watches()  # its process ends: the next relayer watches at once
        for adapter in relayer.adapters.values():
            await adapter.aclose()  # type: ignore[attr-defined]


def completed(store: Any, transfer: Any) -> Any:
    """``transfer``, asserted completed (the failure shows its history)."""
    assert transfer is not None, "the watcher never recorded the packet"
    reasons = [h.reason for h in store.history(transfer.id)]
    assert transfer.state is TransferState.COMPLETED, reasons
    return transfer


def anchor_first(
    store: Any, devnet: InProcessDevnet, env: Anvil, clock: MovableClock, **changes: Any
) -> int:
    """The first pass: a packet relayed end to end anchors the client; the trusted height."""
    register_route(devnet, store)
    tx_hash, height = send_packet(devnet, env)
    relayer, _ = relayer_for(store, devnet, env, "relayer-first", clock, **changes)
    completed(store, asyncio.run(run_passes(relayer, store, tx_hash)))
    record = store.client(ChainId(DEVNET_CHAIN))
    assert record is not None
    assert int(record.trusted_height) == height
    assert max(record.consensus_states) == height
    return height


def stored_heights(store: Any) -> list[int]:
    return sorted(store.client(ChainId(DEVNET_CHAIN)).consensus_states)


def direct_skip_error(store: Any, devnet: InProcessDevnet, trusted: int, target: int) -> Exception:
    """What the light client says to the one skip ``trusted -> target`` (the stored state)."""
    chain = ChainId(DEVNET_CHAIN)
    adapter = pujiang_adapter(devnet)
    lc = adapter.light_client()
    persist = adapter.client_codec()
    record = store.client(chain)
    client = persist.decode_client(record.client_state)
    state = persist.decode_consensus(record.consensus_states[trusted], client)

    async def fetch() -> HeaderUpdate:
        try:
            return await adapter.header(Height(target))
        finally:
            await adapter.aclose()

    header = asyncio.run(fetch())
    try:
        lc.verify_header(client, state, header, int(time.time()))
    except Exception as err:  # the caller asserts which
        return err
    raise AssertionError(f"the skip {trusted} -> {target} was accepted")


# --- the tests --------------------------------------------------------------------------------


def test_a_packet_after_a_full_validator_rotation_is_delivered_through_bisection(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    clock = MovableClock()
    anchor = anchor_first(store, devnet, evm, clock)
    effective = rotate(devnet, NEW_SET)
    before = voucher_balance(evm, evm.alice)
    tx_hash, target = send_packet(devnet, evm)
    assert anchor < effective - 1 < effective < target

    skip = direct_skip_error(store, devnet, anchor, target)
    assert isinstance(skip, InsufficientPower)
    assert skip.details["check"] == "trust-overlap"
    assert stored_heights(store)[-1] == anchor  # nothing verified past the anchor yet

    relayer, source = relayer_for(store, devnet, evm, "relayer-after-rotation", clock)
    done = completed(store, asyncio.run(run_passes(relayer, store, tx_hash)))

    assert voucher_balance(evm, evm.alice) == before + AMOUNT
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1
    record = store.client(ChainId(DEVNET_CHAIN))
    assert not record.frozen
    assert int(record.trusted_height) >= target
    heights = stored_heights(store)
    assert target in heights
    between = [h for h in heights if anchor < h < target]
    assert between, heights
    # A set with no overlap is crossed only by the adjacent step: last old-set header ->
    # first new-set header; both must be stored states.
    assert {effective - 1, effective} <= set(heights), heights
    fetched_between = {h for h in source.header_calls if anchor < h < target}
    assert {effective - 1, effective} <= fetched_between, source.header_calls
    assert target in source.header_calls


def test_a_packet_past_a_rotation_with_an_expired_trusted_state_is_not_delivered(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    clock = MovableClock()
    params = {"clients": {DEVNET_CHAIN: ClientParams(trusting_period=TRUSTING_PERIOD)}}
    anchor = anchor_first(store, devnet, evm, clock, **params)
    rotate(devnet, NEW_SET)
    before = voucher_balance(evm, evm.alice)
    tx_hash, target = send_packet(devnet, evm)
    anchored = stored_heights(store)
    clock.offset = 2 * TRUSTING_PERIOD  # every trusted state is now past its trusting period

    relayer, source = relayer_for(store, devnet, evm, "relayer-expired", clock, **params)
    t = asyncio.run(run_passes(relayer, store, tx_hash, passes=5))

    assert t.state is TransferState.SOURCE_FINAL  # not proven, so never attested nor sent
    assert "header-expired" in t.reason, t.reason
    assert f"trusted state at height {anchor} expired" in t.reason, t.reason
    assert voucher_balance(evm, evm.alice) == before
    assert deliveries_on_anvil(evm, t.packet.sequence) == 0
    record = store.client(ChainId(DEVNET_CHAIN))
    assert not record.frozen
    assert int(record.trusted_height) == anchor  # not advanced, not re-anchored on the node
    assert stored_heights(store) == anchored
    assert not [h for h in source.header_calls if anchor < h < target]  # no bisection either
