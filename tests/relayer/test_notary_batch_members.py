"""A notary proves a batch's members per block (issue #15: its CPU per member), and each member
is still checked exactly as alone: its listing looked up by position, its own proof verified
against its own block's verified state, its attributes decoded from the proven bytes, and
the same refusal as ``ChainVerifier.proven_event`` gives it on its own."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.block_listings import BlockListings
from adapters.pujiang import state_proofs
from core.errors import InvalidInput, PjgwError
from core.ids import ChainId, Height
from core.types import ChainEvent, EventKind
from notary.batches import BatchMemberRefused
from notary.verify import EventAt
from proofs.pujiang.light_client import PujiangLightClient
from tests.fixtures.anvil import LOCAL_CHAIN, Env
from tests.fixtures.devnet import CHAIN_ID as DEVNET
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.relayer.test_notary import OUT, Settings, close, make_notary
from tests.relayer.test_notary_batches import _root, _work, sends_in_one_block

OWN_ANVIL = True


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    from devnet.api import create_app
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(
        data_dir=tmp_path_factory.mktemp("devnet-members"), block_time=None, seed=DEVNET_SEED
    )
    node = DevnetNode(config)
    try:
        yield InProcessDevnet(node, httpx.ASGITransport(app=create_app(node)))
    finally:
        node.close()


# --- the listing's index (no chain) ----------------------------------------------------


class _Listed:
    """An adapter whose block listing is given, counting how often it is asked."""

    chain_id = ChainId("c")

    def __init__(self, events: list[ChainEvent]) -> None:
        self.listed = events
        self.asked = 0

    async def events(self, start: Height, end: Height) -> list[ChainEvent]:
        self.asked += 1
        return [e for e in self.listed if start <= e.height <= end]


def _event(position: int, tx: int, height: int = 5) -> ChainEvent:
    return ChainEvent(
        ChainId("c"), Height(height), EventKind.SEND_PACKET, bytes([tx]) * 32, (position,)
    )


def test_a_listing_is_indexed_by_position_once_keeping_the_first_event_at_a_position() -> None:
    first, twin, other = _event(0, 1), _event(0, 2), _event(3, 3)
    adapter = _Listed([first, twin, other])
    listings = BlockListings(4)

    async def scenario() -> tuple[Any, Any]:
        return await listings.at(adapter, 5), await listings.at(adapter, 5)  # type: ignore[arg-type]

    index, again = asyncio.run(scenario())
    assert index[(0,)] is first  # as a scan of the listing finds it
    assert index[(3,)] is other
    assert (1,) not in index
    assert again is index  # built once per listing
    assert adapter.asked == 1


def test_a_forgotten_listing_is_listed_and_indexed_again() -> None:
    adapter = _Listed([_event(0, 1)])
    listings = BlockListings(4)

    async def scenario() -> tuple[Any, Any]:
        index = await listings.at(adapter, 5)  # type: ignore[arg-type]
        adapter.listed = [_event(0, 9)]
        listings.forget("c", 5)
        return index, await listings.at(adapter, 5)  # type: ignore[arg-type]

    before, after = asyncio.run(scenario())
    assert before[(0,)].tx_hash == b"\x01" * 32
    assert after[(0,)].tx_hash == b"\x09" * 32
    assert adapter.asked == 2


# --- proven_events: each member as alone, per block ------------------------------------


def _places(items: list[Any]) -> list[EventAt]:
    return [EventAt(i.height, tuple(i.position), i.tx_hash) for i in items]


def _same(outcome: object) -> tuple[object, ...]:
    if isinstance(outcome, PjgwError):
        return ("refused", type(outcome), outcome.code, outcome.message)
    assert isinstance(outcome, ChainEvent)
    return ("proven", outcome.kind, outcome.position, outcome.tx_hash, outcome.raw,
            tuple(sorted(outcome.attributes.items())))  # fmt: skip


MALLEATE_PLACES = [
    # (what is broken, the place's change, the refusal's code)
    ("a position not listed", {"position": (9_999,)}, "notary-event-not-found"),
    ("another transaction", {"tx_hash": b"\x01" * 32}, "notary-event-not-found"),
    ("a longer position", {"position": (0, 0)}, "notary-event-not-found"),
]


@pytest.mark.parametrize(
    ("broken", "change", "code"), MALLEATE_PLACES, ids=[m[0] for m in MALLEATE_PLACES]
)
def test_proven_events_answer_each_place_as_proven_event_does_alone(
    devnet: InProcessDevnet,
    env: Env,
    evm_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
    change: dict[str, object],
    code: str,
) -> None:
    verified: list[bytes] = []
    honest = PujiangLightClient.verify_membership

    def recording(self: Any, state: Any, proof: Any, **kw: Any) -> None:
        verified.append(proof.value)
        honest(self, state, proof, **kw)

    hops: list[str] = []
    to_thread = asyncio.to_thread

    async def counting(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        hops.append(func.__qualname__)
        return await to_thread(func, *args, **kwargs)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    verifier = notary.verifiers[DEVNET]
    try:
        places = _places(sends_in_one_block(devnet, 3) + sends_in_one_block(devnet, 2))
        places[1] = dataclasses.replace(places[1], **change)  # type: ignore[arg-type]
        alone = []
        for place in places:
            try:
                alone.append(
                    loop.run_until_complete(
                        verifier.proven_event(place.height, place.position, place.tx_hash)
                    )
                )
            except PjgwError as err:
                alone.append(err)
        monkeypatch.setattr(PujiangLightClient, "verify_membership", recording)
        monkeypatch.setattr(asyncio, "to_thread", counting)
        together = loop.run_until_complete(verifier.proven_events(places))
    finally:
        monkeypatch.undo()
        loop.run_until_complete(close(notary))
        loop.close()
    assert [_same(o) for o in together] == [_same(o) for o in alone], broken
    assert isinstance(together[1], PjgwError), broken
    assert together[1].code == code, broken
    assert "no bridge event at" in together[1].message
    # Every listed member's OWN proof was verified, the blocks in one thread hop each.
    proven = [o for o in together if isinstance(o, ChainEvent)]
    assert sorted(verified) == sorted(e.raw for e in proven)
    assert len([h for h in hops if "_proven_block" in h]) == 2


def test_a_node_swapping_two_members_proofs_gets_the_batch_refused_naming_the_first(
    devnet: InProcessDevnet,
    env: Env,
    evm_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both proofs are valid, each for the OTHER member's leaf: the proven bytes are not the
    member's event (``PacketMismatch``), whatever the listing decoded for those bytes."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    source = notary.adapters[DEVNET]
    honest = source.prove_many

    async def swapping(events: list[object]) -> list[object]:
        proofs = list(await honest(events))
        proofs[1], proofs[2] = proofs[2], proofs[1]
        return proofs

    try:
        items = sends_in_one_block(devnet, 3)
        root = _root(notary, items)
        monkeypatch.setattr(source, "prove_many", swapping)
        with pytest.raises(BatchMemberRefused) as refused:
            loop.run_until_complete(notary.attest_batch(_work(items, root)))
        signed = notary.signed_log.check_batch(OUT, "delivery", [i.sequence for i in items], b"x")
    finally:
        loop.run_until_complete(close(notary))
        loop.close()
    assert refused.value.details["index"] == 1
    assert refused.value.details["reason"] == "notary-packet-mismatch"
    assert signed is None


# --- the Pujiang adapter decodes a proven leaf once --------------------------------------


def test_event_from_proof_answers_as_decoding_the_proven_bytes_for_every_pair(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings, tmp_path: Path
) -> None:
    """The adapter's memo of the leaves its listing decoded gives, for every (event, proof)
    pair of a block, crossed pairs and a proof of bytes it never listed included, exactly
    what decoding the proven bytes gives (``state_proofs.event_from_proof``)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    source = notary.adapters[DEVNET]
    try:
        items = sends_in_one_block(devnet, 3)
        height = Height(items[0].height)
        events = list(loop.run_until_complete(source.events(height, height)))
        proofs = loop.run_until_complete(source.prove_many(events))
        # Nothing is kept before the adapter is first asked to re-decode a proven event.
        kept_before = [source._leaves.get(p.value) for p in proofs]
        source.event_from_proof(events[0], proofs[0], b"")
        events = list(loop.run_until_complete(source.events(height, height)))
    finally:
        loop.run_until_complete(close(notary))
        loop.close()
    flipped = proofs[0].value[:-1] + bytes([proofs[0].value[-1] ^ 1])
    unlisted = dataclasses.replace(proofs[0], value=flipped)  # bytes the listing never saw
    pairs = [(e, p) for e in events for p in [*proofs, unlisted]]
    assert len(events) >= 3
    assert kept_before == [None] * len(proofs)
    assert all(source._leaves.get(p.value) is not None for p in proofs)  # the memo answers
    assert source._leaves.get(flipped) is None

    def answer(decode: Any, event: ChainEvent, proof: Any) -> tuple[object, ...]:
        try:
            return _same(decode(event, proof))
        except InvalidInput as err:
            return ("refused", type(err), err.code, err.message)

    for event, proof in pairs:
        memo = answer(lambda e, p: source.event_from_proof(e, p, b""), event, proof)
        fresh = answer(state_proofs.event_from_proof, event, proof)
        assert memo == fresh
    # The decoded attributes are the caller's own: changing them changes no later answer.
    first = source.event_from_proof(events[0], proofs[0], b"")
    first.attributes["sequence"] = 10**9
    assert source.event_from_proof(events[0], proofs[0], b"").attributes != first.attributes


# --- a refund batch's non-receipt: one verified final block, each member's own proof -----


def test_final_blocks_answer_each_packet_as_final_block_does_alone(
    devnet: InProcessDevnet,
    env: Env,
    evm_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.types import Packet

    def packet(sequence: int, dest: str = DEVNET) -> Packet:
        return Packet(ChainId(LOCAL_CHAIN), ChainId(dest), sequence, b"\x01" * 20,
                      b"\x02" * 20, "upj", 1)  # fmt: skip

    packets = [packet(900_001), packet(900_002, dest="elsewhere"), packet(900_003)]
    verified: list[bytes] = []
    honest = PujiangLightClient.verify_membership

    def recording(self: Any, state: Any, proof: Any, **kw: Any) -> None:
        verified.append(proof.key)
        honest(self, state, proof, **kw)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    verifier = notary.verifiers[DEVNET]
    try:
        alone = []
        for p in packets:
            try:
                alone.append(loop.run_until_complete(verifier.final_block(p)))
            except PjgwError as err:
                alone.append(err)
        monkeypatch.setattr(PujiangLightClient, "verify_membership", recording)
        together = loop.run_until_complete(verifier.final_blocks(packets))
    finally:
        monkeypatch.undo()
        loop.run_until_complete(close(notary))
        loop.close()

    def same(outcome: object) -> object:
        if isinstance(outcome, PjgwError):
            return (type(outcome), outcome.code, outcome.message)
        return outcome

    assert [same(o) for o in together] == [same(o) for o in alone]  # no block was made
    assert isinstance(together[1], InvalidInput)
    assert together[1].message == f"packet is for elsewhere, not {DEVNET}"
    assert [o.received for o in (together[0], together[2])] == [False, False]  # type: ignore[union-attr]
    bridge = notary.adapters[DEVNET].bridge()
    assert sorted(verified) == sorted(bridge.receipt_key(packets[i]) for i in (0, 2))
