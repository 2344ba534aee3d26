"""Committee rotation driven by the hub (issue #20), on real anvil and the real devnet node.

The committee of a route's destination bridge is rotated from the devnet's three
genesis notaries (threshold 2) to three other keys (threshold 2), while packets
are in flight:

* transfers are sent and the relayer runs until the OLD committee certified some
  of them (``rotation_in_flight`` > 0); the rotation is then requested, and more
  transfers are sent during the hold;
* the OLD committee's notaries sign the rotation through ``Notary.attest_rotation``
  (each checks it against its own ``next_committee`` configuration and logs it in
  its signed log); the stand-in of ``tests/flows/helpers.py`` signs packets with
  the old keys until the rotation is done, with the new keys after;
* the relayer drains (every packet the old committee certified lands BEFORE the
  rotation transaction), rotates, adopts the new committee; every transfer
  completes once, conservation holds when read from both chains;
* afterwards the old committee's certificates are refused by the chain (a single
  packet certificate and a batch root of the old epoch), and a second send of the
  same rotation is refused as stale (what the driver reads as done after a crash).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.batches import BatchKind, BatchStatement
from core.committee import RotationState, RotationStatement
from core.errors import ChainRejected
from core.ids import ChainId
from core.states import TransferState
from core.types import Packet
from devnet import keys
from notary.service import Notary
from notary.work import StoreWorkSource
from proofs.notary.ecdsa import sign
from relayer.engine import Relayer
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED
from tests.fixtures.relay import NOTARIES, NOTARY_KEYS
from tests.flows import helpers
from tests.flows.conservation import NATIVE, Asset, check_conservation
from tests.flows.helpers import ANVIL_TO_DEVNET, DEVNET_TO_ANVIL, Flows, close

AMOUNT = 777
UPJ = Asset(DEVNET_CHAIN, "upj")
NEW_KEYS = [bytes(keys.notary_key(DEVNET_SEED, i).secret) for i in (3, 4, 5)]
NEW = tuple("0x" + keys.notary_address(keys.notary_key(DEVNET_SEED, i)).hex() for i in (3, 4, 5))
NEW_THRESHOLD = 2
S = TransferState


def _notaries(flows: Flows, chain: str, data_dir: Path) -> list[Notary]:
    """The OLD committee's three notaries with their own read-only adapter of ``chain`` and
    the next committee their operators agreed to in their configuration."""
    options = {
        chain: {
            "next_committee": list(NEW),
            "next_committee_threshold": NEW_THRESHOLD,
            "next_committee_epoch": 2,
        }
    }
    made = []
    for i, key in enumerate(NOTARY_KEYS):
        made.append(
            Notary(
                key,
                {chain: _read_only_adapter(flows, chain)},
                {},
                data_dir / f"notary-{i}",
                chain_options=options,
            )
        )
    return made


def _read_only_adapter(flows: Flows, chain: str) -> Any:
    if chain == LOCAL_CHAIN:
        return EvmAdapter(
            EvmChainSettings(
                chain=LOCAL_CHAIN,
                rpc_url=flows.evm.node.url,
                evm_chain_id=EVM_CHAIN_ID,
                bridge_address=flows.evm.bridge.address,
                confirmations=0,
            )
        )
    return PujiangAdapter(
        PujiangSettings(url=flows.devnet.url, chain_id=DEVNET_CHAIN),
        transport=flows.devnet.transport,
    )


async def _notaries_sign(store: Any, notaries: list[Notary]) -> int:
    source = StoreWorkSource(store, notaries[0].address)
    signed = 0
    for work in await source.fetch_rotations():
        for notary in notaries:
            await source.submit_rotation(await notary.attest_rotation(work))
            signed += 1
    return signed


async def _rotate_with_traffic(
    flows: Flows,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    route: str,
    chain: str,
    send: Any,
    source_chain: str,
    attestation: str,
) -> dict[str, Any]:
    """The scenario of the module docstring; what the assertions need."""
    store = flows.store
    first = [await asyncio.to_thread(send) for _ in range(3)]
    relayer: Relayer = flows.relayer(rotation_hold_grace=0.0, attestation=attestation)
    notaries = _notaries(flows, chain, tmp_path)
    in_flight_at_request: tuple[int, int] = (0, 0)
    rotation = None
    late: list[bytes] = []

    async def request_if_in_flight() -> None:
        """The operator's request, made the moment the old committee has certified packets
        the chain has not taken yet (between passes, or inside one: ``move`` below)."""
        nonlocal rotation, in_flight_at_request
        if rotation is not None or sum(in_flight_at_request):
            return
        in_flight = store.rotation_in_flight(ChainId(chain))
        if not sum(in_flight):
            return
        in_flight_at_request = in_flight  # before any await: concurrent steps ask once
        current = await relayer.adapters[ChainId(chain)].committee_onchain()
        statement = RotationStatement.make(chain, current.epoch + 1, NEW_THRESHOLD, NEW)
        rotation = store.create_rotation(route, statement, time.time(), requested_by="test")

    move = relayer.ctx.move

    async def move_then_request(t: Any, new: S, reason: str, **fields: object) -> Any:
        moved = await move(t, new, reason, **fields)
        if new in (S.ATTESTED, S.DEST_SUBMITTED):
            await request_if_in_flight()
        return moved

    monkeypatch.setattr(relayer.ctx, "move", move_then_request)
    try:
        for _ in range(400):
            await relayer.run_once()
            done = rotation is not None and store.rotation(rotation.id).state is RotationState.DONE
            if done:
                monkeypatch.setattr(helpers, "NOTARY_KEYS", NEW_KEYS)
                monkeypatch.setattr(helpers, "NOTARIES", NEW)
            await helpers.sign_all_proven(store, relayer, time.time())
            flows.devnet.node.produce_block()
            await request_if_in_flight()
            if rotation is not None and not late:
                late = [await asyncio.to_thread(send) for _ in range(2)]  # in the hold
            if rotation is not None:
                await _notaries_sign(store, notaries)
            hashes = first + late
            found = [flows.transfer_of(source_chain, h) for h in hashes]
            if (
                done
                and len(found) == 5
                and all(t is not None and t.state is S.COMPLETED for t in found)
            ):
                return {
                    "rotation": store.rotation(rotation.id),
                    "in_flight": in_flight_at_request,
                    "first": [flows.transfer_of(source_chain, h) for h in first],
                    "late": [flows.transfer_of(source_chain, h) for h in late],
                    "live": await relayer.adapters[ChainId(chain)].committee_onchain(),
                    "bridge": relayer.ctx.bridge(ChainId(chain)),
                    "relayer_adapter": relayer.adapters[ChainId(chain)],
                    "signatures": store.rotation_signatures(rotation.id),
                    "notaries": [n.signed_log.rotations_signed() for n in notaries],
                }
            await asyncio.sleep(0.01)
        states = [None if t is None else t.state for t in found]
        state = None if rotation is None else store.rotation(rotation.id)
        raise AssertionError(f"not done: rotation {state}, transfers {states}")
    finally:
        for n in notaries:
            for adapter in n.adapters.values():
                await adapter.aclose()
            n.close()
        await close(relayer)


def _check_common(outcome: dict[str, Any], chain: str) -> None:
    rotation = outcome["rotation"]
    assert rotation.state is RotationState.DONE
    assert rotation.tx_hash is not None
    assert sum(outcome["in_flight"]) > 0  # the old committee had certified packets in flight
    live = outcome["live"]
    assert (live.epoch, live.threshold, live.members) == (2, NEW_THRESHOLD, tuple(sorted(NEW)))
    bridge = outcome["bridge"]
    assert bridge.committee_epoch() == 2
    assert bridge.committee() == (NEW_THRESHOLD, tuple(sorted(NEW)))
    assert {s.notary for s in outcome["signatures"]} == {n.lower() for n in NOTARIES}
    for signed in outcome["notaries"]:  # each notary logged exactly one rotation
        assert [(c, e) for c, e, _d in signed] == [(chain, 2)]


@pytest.mark.parametrize("attestation", ["batch", "packet"])
def test_a_rotation_of_the_anvil_bridge_drains_the_old_committee_and_loses_no_packet(
    flows: Flows, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, attestation: str
) -> None:
    def send() -> bytes:
        return flows.devnet_send(flows.alice_anvil, "upj", AMOUNT)

    outcome = asyncio.run(
        _rotate_with_traffic(
            flows,
            monkeypatch,
            tmp_path,
            DEVNET_TO_ANVIL,
            LOCAL_CHAIN,
            send,
            DEVNET_CHAIN,
            attestation,
        )
    )
    _check_common(outcome, LOCAL_CHAIN)
    chain = flows.evm.chain
    rotated_at = int(
        chain.call("eth_getTransactionReceipt", "0x" + outcome["rotation"].tx_hash.hex())[
            "blockNumber"
        ],
        16,
    )

    def block_of(t: Any) -> int:
        return int(
            chain.call("eth_getTransactionReceipt", "0x" + t.dest_tx.hex())["blockNumber"], 16
        )

    assert all(block_of(t) < rotated_at for t in outcome["first"])  # drained before
    assert all(block_of(t) > rotated_at for t in outcome["late"])  # held, certified after
    ledger = check_conservation(*flows.views(), [UPJ])[0]
    assert (ledger.escrowed, ledger.outstanding, ledger.in_flight) == (5 * AMOUNT, 5 * AMOUNT, 0)

    # The old committee's certificates are refused now: one packet, and a root of epoch 1.
    bridge = outcome["bridge"]
    packet = Packet(
        source_chain=ChainId(DEVNET_CHAIN),
        dest_chain=ChainId(LOCAL_CHAIN),
        sequence=10_000,
        sender=flows.alice_devnet,
        receiver=flows.alice_anvil,
        denom="upj",
        amount=1,
        payload=b"",
        timeout_height=0,
        timeout_time_ms=flows.anvil_deadline_s() * 1000,
    )
    digest = bridge.delivery_digest(packet)
    old = bridge.deliver_action(packet, [sign(k, digest) for k in NOTARY_KEYS])
    with pytest.raises(Exception, match="signer not in committee"):
        flows.evm.bridge.transact("receivePacket", *old.payload["args"], sender=flows.evm.admin)
    statement = BatchStatement(DEVNET_CHAIN, LOCAL_CHAIN, 1, BatchKind.DELIVERY, 1, b"\x01" * 32)
    root_digest = bridge.batch_digest(statement)
    root = bridge.store_root_action(statement, [sign(k, root_digest) for k in NOTARY_KEYS])
    with pytest.raises(Exception, match="root of another epoch"):
        flows.evm.bridge.transact("submitRoot", *root.payload["args"], sender=flows.evm.admin)

    # A second send of the same rotation (a crash before it was marked done) is stale.
    async def again() -> str:
        adapter = outcome["relayer_adapter"]
        statement = outcome["rotation"].statement
        rot_digest = bridge.rotation_digest(statement)
        action = bridge.rotate_action(statement, [sign(k, rot_digest) for k in NOTARY_KEYS])
        fresh = EvmAdapter(helpers.anvil_settings(flows.evm))
        try:
            with pytest.raises(ChainRejected) as refused:
                await fresh.submit(action)
        finally:
            await fresh.aclose()
        del adapter
        return str(refused.value.details.get("reason") or refused.value.message)

    reason = asyncio.run(again())
    assert bridge.is_stale_rotation_refusal(reason), reason


@pytest.mark.parametrize("attestation", ["batch", "packet"])
def test_a_rotation_of_the_devnet_bridge_drains_the_old_committee_and_loses_no_packet(
    flows: Flows, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, attestation: str
) -> None:
    evm = flows.evm
    wei = 10**12

    def send() -> bytes:
        receipt = evm.bridge.transact(
            "sendNative",
            DEVNET_CHAIN,
            flows.alice_devnet,
            0,
            flows.anvil_deadline_s(),
            sender=evm.alice,
            value=wei,
        )
        return flows.anvil_tx_hash(receipt)

    outcome = asyncio.run(
        _rotate_with_traffic(
            flows,
            monkeypatch,
            tmp_path,
            ANVIL_TO_DEVNET,
            DEVNET_CHAIN,
            send,
            LOCAL_CHAIN,
            attestation,
        )
    )
    _check_common(outcome, DEVNET_CHAIN)
    node = flows.devnet.node
    rotated_at = node.query_tx(outcome["rotation"].tx_hash)["height"]
    assert all(node.query_tx(t.dest_tx)["height"] < rotated_at for t in outcome["first"])
    assert all(node.query_tx(t.dest_tx)["height"] > rotated_at for t in outcome["late"])
    asset = Asset(LOCAL_CHAIN, NATIVE)
    ledger = check_conservation(*flows.views(), [asset])[0]
    assert (ledger.escrowed, ledger.outstanding, ledger.in_flight) == (5 * wei, 5 * wei, 0)

    # The old committee's certificate is refused by the devnet's bridge module now.
    bridge = outcome["bridge"]
    packet = Packet(
        source_chain=ChainId(LOCAL_CHAIN),
        dest_chain=ChainId(DEVNET_CHAIN),
        sequence=10_000,
        sender=bytes.fromhex(evm.alice[2:]),
        receiver=flows.alice_devnet,
        denom=NATIVE,
        amount=1,
        payload=b"",
        timeout_height=0,
        timeout_time_ms=flows.devnet_deadline_ms(),
    )
    digest = bridge.delivery_digest(packet)
    old = bridge.deliver_action(packet, [sign(k, digest) for k in NOTARY_KEYS])
    refusal = asyncio.run(_devnet_refusal(flows, old))
    assert "not a member of the committee" in refusal, refusal
    rotation = outcome["rotation"]
    rot_digest = bridge.rotation_digest(rotation.statement)
    again = bridge.rotate_action(rotation.statement, [sign(k, rot_digest) for k in NEW_KEYS])
    refusal = asyncio.run(_devnet_refusal(flows, again))
    assert bridge.is_stale_rotation_refusal(refusal), refusal


async def _devnet_refusal(flows: Flows, action: Any) -> str:
    """The devnet's refusal of ``action`` sent by the relayer account: at intake or in its
    block's receipt."""
    from tests.fixtures.relay import pujiang_adapter

    adapter = pujiang_adapter(flows.devnet)
    try:
        try:
            tx_hash = await adapter.submit(action)
        except ChainRejected as err:
            return f"{err.details.get('reason_code', '')}: {err.message}"
        flows.devnet.node.produce_block()
        receipt = await adapter.receipt(tx_hash)
        assert receipt.success is False, "the devnet took the old committee's certificate"
        return receipt.reason
    finally:
        await adapter.aclose()
