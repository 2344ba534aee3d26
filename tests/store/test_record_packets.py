"""``record_packets``: a watcher's chunk of packets in one transaction, with the same outcome
as ``create_transfer`` then ``attach_source_event`` per packet (issue #15)."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import InvalidInput, NotFound
from core.ids import PacketId
from core.records import SeenPacket
from core.states import TransferState
from gateway.store import SqlStore
from tests.store.helpers import A, B, C, new_transfer

S = TransferState


def seen(sequence: int, *, tx: bytes | None = None, height: int = 7, **kw: object) -> SeenPacket:
    tx_hash = tx if tx is not None else bytes([sequence]) * 32
    new = new_transfer(sequence=sequence, source_tx=tx_hash, reason=f"packet seen on {A}")
    new = dataclasses.replace(new, **kw)  # type: ignore[arg-type]
    return SeenPacket(
        new=new,
        reason=f"send_packet {sequence} seen in block {height}",
        source_height=height,
        source_position=(sequence,),
        source_event=b"event-%d" % sequence,
        packet_data={"sequence": sequence},
        source_attributes={"sequence": sequence},
    )


def test_new_packets_are_created_with_their_event_and_two_history_lines(
    store: SqlStore,
) -> None:
    assert store.record_packets([seen(1), seen(2)], 50.0) == 2
    for sequence in (1, 2):
        got = store.transfer_by_packet(PacketId(A, B, sequence))
        assert got is not None
        assert (got.state, got.source_height, got.source_position, got.source_event) == (
            S.REQUESTED,
            7,
            (sequence,),
            b"event-%d" % sequence,
        )
        assert (got.source_tx, got.packet_data, got.next_attempt_at) == (
            bytes([sequence]) * 32,
            {"sequence": sequence},
            50.0,
        )
        assert [(h.state, h.reason) for h in store.history(got.id)] == [
            (S.REQUESTED, f"packet seen on {A}"),
            (S.REQUESTED, f"send_packet {sequence} seen in block 7"),
        ]


def test_the_same_outcome_as_create_then_attach(store: SqlStore) -> None:
    one = seen(1)
    made, _ = store.create_transfer(one.new, 50.0)
    store.attach_source_event(
        made.id,
        one.reason,
        50.0,
        packet=one.new.packet,
        source_tx=one.new.source_tx,
        source_height=one.source_height,
        source_position=one.source_position,
        source_event=one.source_event,
        packet_data=dict(one.packet_data),
        source_attributes=dict(one.source_attributes),
    )
    store.record_packets([seen(2)], 50.0)
    first = store.transfer_by_packet(PacketId(A, B, 1))
    second = store.transfer_by_packet(PacketId(A, B, 2))
    assert first is not None
    assert second is not None
    fields = ("state", "source_height", "attempts", "next_attempt_at", "lease_owner", "kind")
    assert [getattr(first, f) for f in fields] == [getattr(second, f) for f in fields]
    assert [(h.state, h.reason.split()[0]) for h in store.history(first.id)] == [
        (h.state, h.reason.split()[0]) for h in store.history(second.id)
    ]


def test_an_api_transfer_of_the_source_tx_gets_the_packet(store: SqlStore) -> None:
    tx = b"\x42" * 32
    made, _ = store.create_transfer(new_transfer(source_tx=tx), 40.0)
    assert store.record_packets([seen(5, tx=tx)], 50.0) == 1
    got = store.transfer(made.id)
    assert (got.packet, got.source_height, got.source_event) == (PacketId(A, B, 5), 7, b"event-5")
    assert store.list_transfers()[0] == [got]  # no second transfer


def test_a_chunk_read_again_records_nothing_twice(store: SqlStore) -> None:
    store.record_packets([seen(1), seen(2)], 50.0)
    got = store.transfer_by_packet(PacketId(A, B, 1))
    assert got is not None
    lines = len(store.history(got.id))
    assert store.record_packets([seen(1), seen(2), seen(3)], 60.0) == 1
    assert len(store.history(got.id)) == lines
    assert len(store.list_transfers()[0]) == 3


def test_a_moved_transfer_is_left_alone(store: SqlStore) -> None:
    store.record_packets([seen(1)], 50.0)
    got = store.transfer_by_packet(PacketId(A, B, 1))
    assert got is not None
    store.transition(got.id, S.REQUESTED, S.SOURCE_COMMITTED, "committed", 55.0)
    assert store.record_packets([seen(1, height=9)], 60.0) == 0
    assert store.transfer(got.id).source_height == 7


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        ({"packet": None}, InvalidInput),
        ({"source_tx": None}, InvalidInput),
        ({"packet": PacketId(A, C, 2)}, InvalidInput),  # does not travel the route
        ({"amount": -1}, InvalidInput),
        ({"route_id": "no-such-route"}, NotFound),
    ],
    ids=["no-packet", "no-source-tx", "other-route", "negative-amount", "unknown-route"],
)
def test_one_bad_packet_refuses_the_whole_chunk(
    store: SqlStore, broken: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        store.record_packets([seen(1), seen(2, **broken)], 50.0)
    assert store.list_transfers()[0] == []
