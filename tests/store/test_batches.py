"""Batches in the store (issue #15): one transaction per batch operation, SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from core.batches import BatchKind, BatchTooLarge, MixedBatch
from core.errors import Conflict, InvalidTransition, LeaseLost
from core.records import ActionStatus, BatchState, SeenPacket, SignatureRecord
from core.seams import BatchStore
from core.states import TransferState
from core.types import ChainAction
from gateway.store import SqlStore
from tests.store.helpers import ROUTE_AB, ROUTE_BC, B, new_transfer

S = TransferState
DELIVERY = int(BatchKind.DELIVERY)


def _proven(store: SqlStore, n: int, *, route_id: str = ROUTE_AB, first: int = 1) -> list[str]:
    ids = []
    for i in range(first, first + n):
        t, _ = store.create_transfer(
            new_transfer(route_id=route_id, sequence=None if route_id != ROUTE_AB else i,
                         state=S.PROVEN),
            float(i),
        )  # fmt: skip
        ids.append(t.id)
    return ids


def _batch(store: SqlStore, ids: list[str], *, now: float = 100.0):
    return store.create_batch(
        ROUTE_AB, DELIVERY, 1, b"\x01" * 32, b"\x02" * 32, ids, now, hold_until=now + 60
    )


def test_sqlstore_satisfies_the_batch_store_protocol(store: SqlStore) -> None:
    assert isinstance(store, BatchStore)


def test_a_batch_is_recorded_with_its_members_in_leaf_order_and_holds_them(
    store: SqlStore,
) -> None:
    ids = _proven(store, 3)
    batch = _batch(store, list(reversed(ids)))
    assert batch.state is BatchState.ASSEMBLED
    assert batch.size == 3
    assert batch.transfer_ids == tuple(reversed(ids))
    assert store.batch(batch.id) == batch
    assert [t.id for t in store.batch_members(batch.id)] == list(reversed(ids))
    assert store.batched(ids, DELIVERY) == {t: batch.id for t in ids}
    # Held: no worker claims the members while the batch drives them.
    assert store.claim_due("w", 110.0, 30, 10, route_id=ROUTE_AB) == []
    assert len(store.claim_due("w", 161.0, 30, 10, route_id=ROUTE_AB)) == 3


def test_a_transfer_is_in_one_batch_of_a_kind(store: SqlStore) -> None:
    ids = _proven(store, 2)
    _batch(store, ids)
    with pytest.raises(Conflict):
        _batch(store, ids[:1])


def test_a_batch_mixing_routes_is_refused_naming_the_member(store: SqlStore) -> None:
    ab = _proven(store, 1)
    bc, _ = store.create_transfer(new_transfer(route_id=ROUTE_BC), 1.0)
    with pytest.raises(MixedBatch) as err:
        _batch(store, [ab[0], bc.id])
    assert err.value.details["position"] == 1


@pytest.mark.parametrize("n", [0, 257])
def test_a_batch_of_none_or_too_many_is_refused(store: SqlStore, n: int) -> None:
    with pytest.raises(BatchTooLarge):
        _batch(store, [f"tr_{i}" for i in range(n)])


def test_move_many_moves_every_member_in_one_transaction(store: SqlStore) -> None:
    ids = _proven(store, 5)
    commits: list[object] = []

    def count(conn: object) -> None:
        commits.append(conn)

    event.listen(store.engine, "commit", count)
    moved = store.move_many(ids, S.PROVEN, S.ATTESTED, "batch quorum", 200.0)
    event.remove(store.engine, "commit", count)
    assert moved == 5
    assert len(commits) == 1
    for t in ids:
        assert store.transfer(t).state is S.ATTESTED
        assert store.history(t)[-1].reason == "batch quorum"
    # Again: nothing left in ``proven`` (after a crash the move is not repeated).
    assert store.move_many(ids, S.PROVEN, S.ATTESTED, "again", 201.0) == 0
    sent = store.move_many(ids, S.ATTESTED, S.DEST_SUBMITTED, "sent", 202.0, dest_tx=b"\x07" * 32)
    assert sent == 5
    assert store.transfer(ids[0]).dest_tx == b"\x07" * 32
    assert store.history(ids[0])[-1].tx_hash == b"\x07" * 32
    assert store.history(ids[0])[-1].chain_id == str(B)


def test_move_many_refuses_a_move_outside_the_table(store: SqlStore) -> None:
    ids = _proven(store, 1)
    with pytest.raises(InvalidTransition):
        store.move_many(ids, S.PROVEN, S.COMPLETED, "skip", 1.0)


def test_batches_are_leased_and_compare_and_set(store: SqlStore) -> None:
    batch = _batch(store, _proven(store, 2))
    claimed = store.claim_batches("w1", 100.0, 30, 5, route_id=ROUTE_AB)
    assert [b.id for b in claimed] == [batch.id]
    assert store.claim_batches("w2", 101.0, 30, 5, route_id=ROUTE_AB) == []
    with pytest.raises(LeaseLost):
        store.set_batch_state(
            batch.id, BatchState.ASSEMBLED, BatchState.ATTESTED, 102.0, worker="w2"
        )
    store.set_batch_state(batch.id, BatchState.ASSEMBLED, BatchState.ATTESTED, 102.0, worker="w1")
    with pytest.raises(InvalidTransition):
        store.set_batch_state(batch.id, BatchState.ASSEMBLED, BatchState.ATTESTED, 103.0)
    store.release_batch(batch.id, "w1", retry_at=150.0)
    assert store.claim_batches("w2", 140.0, 30, 5, route_id=ROUTE_AB) == []
    assert [b.state for b in store.claim_batches("w2", 150.0, 30, 5, route_id=ROUTE_AB)] == [
        BatchState.ATTESTED
    ]


def test_batch_actions_are_journaled_idempotently(store: SqlStore) -> None:
    batch = _batch(store, _proven(store, 2))
    action = ChainAction("store_root", {"root": "0x01"}, "root:1")
    first = store.record_batch_action(batch.id, "store_root", B, action, 1.0, search_floor=7)
    again = store.record_batch_action(batch.id, "store_root", B, action, 2.0)
    assert again == first
    assert first.search_floor == 7
    store.mark_batch_action(first.id, ActionStatus.SENT, tx_hash=b"\x09" * 32)
    found = store.batch_actions(batch.id)
    assert list(found) == ["store_root"]
    assert found["store_root"].status is ActionStatus.SENT


def test_batch_signatures_and_batches_owed(store: SqlStore) -> None:
    ids = _proven(store, 3)
    batch = _batch(store, ids)
    owed = store.batches_owed("0xAA", 10)
    assert [(b.id, [t.id for t in members]) for b, members in owed] == [(batch.id, ids)]
    record = SignatureRecord(batch.id, "0xaa", batch.digest, b"\x05" * 65, 3.0)
    assert store.add_batch_signature(record) is True
    assert store.add_batch_signature(record) is False  # counted once
    assert store.batches_owed("0xaa", 10) == []
    assert [s.notary for s in store.batch_signatures(batch.id)] == ["0xaa"]
    store.set_batch_state(batch.id, BatchState.ASSEMBLED, BatchState.ATTESTED, 4.0)
    assert store.batches_owed("0xbb", 10) == []  # attested: nothing more to sign


def test_a_move_that_keeps_the_lease_leaves_the_transfers_to_the_pass_that_moves_them(
    store: SqlStore,
) -> None:
    """Two passes (of one relayer or two) must not step the same transfer: a bulk move in
    the middle of a pass keeps the pass's lease; a move without ``keep_lease`` frees it.
    (Freed at once, a transfer was leased by a second pass that batched it too, and the
    second ``create_batch`` failed on the batch membership's unique key.)"""
    ids = [t.id for t in (store.create_transfer(new_transfer(), 1.0)[0] for _ in range(2))]
    assert {t.id for t in store.claim_due("pass-1", 10.0, 60.0, 10)} == set(ids)
    kept, freed = ids
    store.move_many([kept], S.REQUESTED, S.SOURCE_COMMITTED, "seen", 11.0, keep_lease="pass-1")
    store.move_many([freed], S.REQUESTED, S.SOURCE_COMMITTED, "seen", 11.0)
    assert [t.id for t in store.claim_due("pass-2", 12.0, 60.0, 10)] == [freed]
    assert (store.transfer(kept).lease_owner, store.transfer(kept).state) == (
        "pass-1",
        S.SOURCE_COMMITTED,
    )


def test_batches_owed_read_each_members_place_in_one_query(store: SqlStore) -> None:
    """The members of every batch owed come in ONE query (two reads in all), each with
    exactly the fields of its transfer a work item needs."""
    seen = [
        SeenPacket(
            new_transfer(sequence=n, state=S.PROVEN, source_tx=bytes([n]) * 32),
            "seen",
            40 + n,
            (n, 1),
            b"event",
            {"sequence": n},
            {"sequence": n},
        )
        for n in range(1, 6)
    ]
    store.record_packets(seen, 1.0)
    ids = [store.transfer_by_packet(s.new.packet).id for s in seen]  # type: ignore[arg-type]
    first, second = ids[:2], ids[2:]
    batches = [_batch(store, first), _batch(store, list(reversed(second)), now=101.0)]
    selects: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        owed = store.batches_owed("0xaa", 10)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(selects) == 2
    assert [b.id for b, _members in owed] == [b.id for b in batches]
    for (batch, members), expected in zip(owed, [first, list(reversed(second))], strict=True):
        assert batch.transfer_ids == tuple(expected)
        assert [m.id for m in members] == expected
        for member in members:
            t = store.transfer(member.id)
            assert (member.route_id, member.packet, member.source_tx) == (
                t.route_id,
                t.packet,
                t.source_tx,
            )
            assert (member.source_height, member.source_position) == (
                t.source_height,
                t.source_position,
            )


def test_note_many_says_why_members_wait_with_one_history_line_per_change(
    store: SqlStore,
) -> None:
    ids = _proven(store, 3)
    assert store.note_many(ids, S.PROVEN, "waiting for notaries: 1 of 2", 5.0, hold_until=9.0) == 3
    assert store.note_many(ids, S.PROVEN, "waiting for notaries: 1 of 2", 6.0, hold_until=9.0) == 0
    for t in ids:
        record = store.transfer(t)
        assert record.reason == "waiting for notaries: 1 of 2"
        assert record.next_attempt_at == 9.0
        assert [h.reason for h in store.history(t)].count("waiting for notaries: 1 of 2") == 1


def test_a_packet_in_a_delivery_batch_is_owed_with_its_batch_not_alone(store: SqlStore) -> None:
    ids = []
    for i in range(1, 4):
        t, _ = store.create_transfer(new_transfer(sequence=i, state=S.SOURCE_FINAL), float(i))
        store.transition(
            t.id, S.SOURCE_FINAL, S.PROVEN, "proven", 5.0,
            source_tx=bytes([i]) * 32, source_height=9, source_position=(0, i),
        )  # fmt: skip
        ids.append(t.id)
    owed = {t.id for t, kind in store.statements_owed("0xaa", 10) if kind == "delivery"}
    assert owed == set(ids)
    _batch(store, ids[:2])
    owed = {t.id for t, kind in store.statements_owed("0xaa", 10) if kind == "delivery"}
    assert owed == {ids[2]}


def test_record_done_actions_journals_many_acknowledgements_in_one_transaction(
    store: SqlStore,
) -> None:
    ids = _proven(store, 3)
    action = ChainAction("receive_event", {"height": 5}, "ack:x")
    entries = [(t, "ack", B, action, b"\x03" * 32, 5) for t in ids]
    assert store.record_done_actions(entries, 9.0) == 3
    assert store.record_done_actions(entries, 10.0) == 0  # journaled once
    for t in ids:
        ack = store.action(t, "ack")
        assert ack is not None
        assert ack.status is ActionStatus.SUCCEEDED
        assert (ack.tx_hash, ack.height) == (b"\x03" * 32, 5)
