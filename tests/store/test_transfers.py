"""Transfers: creation, idempotency, lookups, pagination, compare-and-set transitions."""

from __future__ import annotations

import itertools
import threading

import pytest

from core.errors import Conflict, InvalidInput, InvalidTransition, LeaseLost, NotFound
from core.ids import ChainId, PacketId
from core.records import NewTransfer, TransferKind
from core.seams import Store
from core.states import TransferState
from gateway.store import SqlStore
from tests.store.helpers import HAPPY_PATH, ROUTE_AB, ROUTE_BC, A, B, C, new_transfer

S = TransferState


def test_sqlstore_satisfies_the_store_protocol(store: SqlStore) -> None:
    assert isinstance(store, Store)


def test_create_transfer_stores_every_field_and_a_first_history_line(store: SqlStore) -> None:
    new = NewTransfer(
        route_id=ROUTE_AB,
        kind=TransferKind.MESSAGE,
        sender="alice",
        receiver="0xbob",
        denom="upjt",
        amount=7,
        payload=b"\x00\x01hello",
        timeout_height=2**64 - 1,
        timeout_time=1_900_000_000,
        packet=PacketId(A, B, 3),
        source_tx=b"\x11" * 32,
        state=S.SOURCE_COMMITTED,
        reason="seen on-chain",
    )
    record, created = store.create_transfer(new, 100.5)
    assert created
    assert record.id.startswith("tr_")
    got = store.transfer(record.id)
    assert got == record
    assert (got.route_id, got.kind, got.sender, got.receiver, got.denom) == (
        ROUTE_AB,
        TransferKind.MESSAGE,
        "alice",
        "0xbob",
        "upjt",
    )
    assert (got.amount, got.payload, got.timeout_height, got.timeout_time) == (
        7,
        b"\x00\x01hello",
        2**64 - 1,
        1_900_000_000,
    )
    assert (got.state, got.reason, got.packet, got.source_tx) == (
        S.SOURCE_COMMITTED,
        "seen on-chain",
        PacketId(A, B, 3),
        b"\x11" * 32,
    )
    assert (got.source_height, got.source_position, got.source_event, got.dest_tx) == (
        None,
        None,
        b"",
        None,
    )
    assert (got.attempts, got.next_attempt_at, got.created_at, got.updated_at) == (
        0,
        100.5,
        100.5,
        100.5,
    )
    assert (got.lease_owner, got.lease_until) == (None, None)
    (first,) = store.history(record.id)
    assert (first.state, first.reason, first.at, first.tx_hash, first.chain_id) == (
        S.SOURCE_COMMITTED,
        "seen on-chain",
        100.5,
        b"\x11" * 32,
        A,
    )


@pytest.mark.parametrize("amount", [0, 1, 2**64, 2**255 + 12345, 2**256 - 1])
def test_uint256_amounts_round_trip_exactly(store: SqlStore, amount: int) -> None:
    record, _ = store.create_transfer(new_transfer(amount=amount), 1.0)
    assert store.transfer(record.id).amount == amount
    assert type(store.transfer(record.id).amount) is int


@pytest.mark.parametrize("amount", [-1, 2**256])
def test_amount_outside_uint256_is_invalid_input(store: SqlStore, amount: int) -> None:
    with pytest.raises(InvalidInput):
        store.create_transfer(new_transfer(amount=amount), 1.0)


def test_uint64_sequence_max_round_trips_in_the_packet(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(sequence=2**64 - 1), 1.0)
    assert store.transfer(record.id).packet == PacketId(A, B, 2**64 - 1)
    found = store.transfer_by_packet(PacketId(A, B, 2**64 - 1))
    assert found is not None
    assert found.id == record.id


def test_same_idempotency_key_and_hash_returns_the_first_transfer(store: SqlStore) -> None:
    first, created = store.create_transfer(
        new_transfer(), 1.0, idempotency_key="key-1", request_hash=b"h1"
    )
    again, created_again = store.create_transfer(
        new_transfer(), 2.0, idempotency_key="key-1", request_hash=b"h1"
    )
    assert created
    assert not created_again
    assert again == first
    assert len(store.list_transfers()[0]) == 1


def test_same_idempotency_key_other_hash_is_conflict(store: SqlStore) -> None:
    store.create_transfer(new_transfer(), 1.0, idempotency_key="key-1", request_hash=b"h1")
    with pytest.raises(Conflict):
        store.create_transfer(
            new_transfer(amount=5), 2.0, idempotency_key="key-1", request_hash=b"h2"
        )
    assert len(store.list_transfers()[0]) == 1


def test_concurrent_creates_with_one_idempotency_key_make_one_transfer(store: SqlStore) -> None:
    results: list[tuple[str, bool]] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        barrier.wait()
        rec, created = store.create_transfer(
            new_transfer(), 1.0, idempotency_key="same", request_hash=b"h"
        )
        results.append((rec.id, created))

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({tid for tid, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_concurrent_creates_of_one_source_tx_with_other_keys_make_one_transfer(
    store: SqlStore,
) -> None:
    """The race of docs/api.md: one signed transaction, six requests, six idempotency keys."""
    results: list[tuple[str, bool]] = []
    barrier = threading.Barrier(6)

    def create(key: str) -> None:
        barrier.wait()
        rec, created = store.create_transfer(
            new_transfer(source_tx=b"\x5a" * 32), 1.0, idempotency_key=key, request_hash=b"h"
        )
        results.append((rec.id, created))

    threads = [threading.Thread(target=create, args=(f"key-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    assert len({tid for tid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(store.list_transfers()[0]) == 1


def test_one_source_tx_may_carry_several_packets(store: SqlStore) -> None:
    """A request's transfer is one per transaction (the oldest of it is returned, whatever the
    key); the watcher's transfers (packet set) of one transaction are one per packet."""
    tx = b"\x6b" * 32
    requested, created = store.create_transfer(new_transfer(source_tx=tx), 1.0)
    assert created
    again, created = store.create_transfer(new_transfer(source_tx=tx), 2.0, idempotency_key="k")
    assert not created
    assert again.id == requested.id
    first, created = store.create_transfer(new_transfer(sequence=1, source_tx=tx), 3.0)
    second, created_too = store.create_transfer(new_transfer(sequence=2, source_tx=tx), 3.0)
    assert created
    assert created_too
    assert len({requested.id, first.id, second.id}) == 3
    later, created = store.create_transfer(new_transfer(source_tx=tx), 4.0, idempotency_key="j")
    assert not created
    assert later.id == requested.id


def test_a_packet_is_tracked_once(store: SqlStore) -> None:
    first, _ = store.create_transfer(new_transfer(sequence=9), 1.0)
    again, created = store.create_transfer(new_transfer(sequence=9, amount=1), 2.0)
    assert not created
    assert again.id == first.id


def test_create_on_unknown_route_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.create_transfer(new_transfer(route_id="nowhere"), 1.0)


def test_create_with_packet_off_its_route_is_invalid_input(store: SqlStore) -> None:
    bad = new_transfer(route_id=ROUTE_BC, sequence=1)  # packet a->b on route b->c
    with pytest.raises(InvalidInput):
        store.create_transfer(bad, 1.0)


def test_unknown_transfer_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.transfer("tr_missing")
    with pytest.raises(NotFound):
        store.history("tr_missing")
    assert store.transfer_by_packet(PacketId(A, B, 1)) is None


def test_transfer_by_source_tx_finds_it_on_its_source_chain_only(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(source_tx=b"\xab" * 32), 1.0)
    found = store.transfer_by_source_tx(A, b"\xab" * 32)
    assert found is not None
    assert found.id == record.id
    assert store.transfer_by_source_tx(B, b"\xab" * 32) is None
    assert store.transfer_by_source_tx(A, b"\xac" * 32) is None


def test_list_transfers_pages_newest_first_without_gaps_or_repeats(store: SqlStore) -> None:
    ids = [store.create_transfer(new_transfer(), float(i // 2))[0].id for i in range(11)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page, cursor = store.list_transfers(after=cursor, limit=3)
        seen += [r.id for r in page]
        pages += 1
        if cursor is None:
            break
    assert pages == 4
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    times = [store.transfer(i).created_at for i in seen]
    assert times == sorted(times, reverse=True)


def test_list_transfers_filters_by_state_and_chain(store: SqlStore) -> None:
    ab, _ = store.create_transfer(new_transfer(), 1.0)
    bc, _ = store.create_transfer(new_transfer(route_id=ROUTE_BC), 2.0)
    store.transition(ab.id, S.REQUESTED, S.REJECTED, "policy", 3.0)
    assert [r.id for r in store.list_transfers(state=S.REJECTED)[0]] == [ab.id]
    assert [r.id for r in store.list_transfers(chain=A)[0]] == [ab.id]
    assert [r.id for r in store.list_transfers(chain=C)[0]] == [bc.id]
    assert {r.id for r in store.list_transfers(chain=B)[0]} == {ab.id, bc.id}
    assert store.list_transfers(chain=ChainId("chain-z")) == ([], None)


@pytest.mark.parametrize("cursor", ["garbage!", "", "bm90IGpzb24", "WzEsMiwzXQ"])
def test_list_transfers_rejects_a_forged_cursor(store: SqlStore, cursor: str) -> None:
    with pytest.raises(InvalidInput):
        store.list_transfers(after=cursor)


def test_transition_walks_the_happy_path_and_records_history_in_order(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    for i, (old, new) in enumerate(itertools.pairwise(HAPPY_PATH)):
        fields: dict[str, object] = {}
        if new is S.SOURCE_COMMITTED:
            fields = {
                "packet": PacketId(A, B, 1),
                "source_tx": b"\x01" * 32,
                "source_height": 12,
                "source_position": (3, 1),
                "source_event": b"raw-event",
            }
        if new is S.DEST_SUBMITTED:
            fields = {"dest_tx": b"\x02" * 32}
        record = store.transition(record.id, old, new, f"step {i}", 10.0 + i, **fields)
        assert record.state is new
    assert record.packet == PacketId(A, B, 1)
    assert (record.source_tx, record.source_height, record.source_position) == (
        b"\x01" * 32,
        12,
        (3, 1),
    )
    assert (record.source_event, record.dest_tx) == (b"raw-event", b"\x02" * 32)
    history = store.history(record.id)
    assert [h.state for h in history] == HAPPY_PATH
    assert [h.id for h in history] == sorted(h.id for h in history)
    assert [h.at for h in history] == [1.0] + [10.0 + i for i in range(6)]
    by_state = {h.state: h for h in history}
    assert (by_state[S.SOURCE_COMMITTED].tx_hash, by_state[S.SOURCE_COMMITTED].chain_id) == (
        b"\x01" * 32,
        A,
    )
    assert (by_state[S.DEST_SUBMITTED].tx_hash, by_state[S.DEST_SUBMITTED].chain_id) == (
        b"\x02" * 32,
        B,
    )
    tail = store.history(record.id, after_id=history[3].id)
    assert tail == history[4:]


def test_transition_outside_the_table_is_invalid_and_changes_nothing(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    with pytest.raises(InvalidTransition):
        store.transition(record.id, S.REQUESTED, S.COMPLETED, "skip", 2.0)
    assert store.transfer(record.id) == record
    assert len(store.history(record.id)) == 1


def test_transition_from_a_stale_state_is_invalid(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    store.transition(record.id, S.REQUESTED, S.SOURCE_COMMITTED, "sent", 2.0)
    with pytest.raises(InvalidTransition):
        store.transition(record.id, S.REQUESTED, S.SOURCE_COMMITTED, "again", 3.0)
    assert len(store.history(record.id)) == 2


def test_transition_of_unknown_transfer_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.transition("tr_missing", S.REQUESTED, S.SOURCE_COMMITTED, "x", 1.0)


def test_transition_of_an_unknown_field_is_invalid_input(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    with pytest.raises(InvalidInput):
        store.transition(record.id, S.REQUESTED, S.SOURCE_COMMITTED, "x", 2.0, amount=5)
    assert store.transfer(record.id).state is S.REQUESTED


def test_transition_to_a_packet_already_tracked_is_conflict(store: SqlStore) -> None:
    store.create_transfer(new_transfer(sequence=4), 1.0)
    other, _ = store.create_transfer(new_transfer(), 1.0)
    with pytest.raises(Conflict):
        store.transition(
            other.id, S.REQUESTED, S.SOURCE_COMMITTED, "x", 2.0, packet=PacketId(A, B, 4)
        )
    assert store.transfer(other.id).state is S.REQUESTED


def test_transition_by_a_worker_without_the_lease_is_lease_lost(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    with pytest.raises(LeaseLost):
        store.transition(record.id, S.REQUESTED, S.SOURCE_COMMITTED, "x", 2.0, worker="w1")
    store.claim_due("w2", 2.0, 30.0, 10)
    with pytest.raises(LeaseLost):
        store.transition(record.id, S.REQUESTED, S.SOURCE_COMMITTED, "x", 3.0, worker="w1")
    done = store.transition(record.id, S.REQUESTED, S.SOURCE_COMMITTED, "x", 3.0, worker="w2")
    assert (done.state, done.lease_owner) == (S.SOURCE_COMMITTED, "w2")


def test_transition_after_the_lease_expired_is_lease_lost(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    store.claim_due("w1", 2.0, 10.0, 10)
    with pytest.raises(LeaseLost):
        store.transition(record.id, S.REQUESTED, S.SOURCE_COMMITTED, "late", 12.0, worker="w1")


def _race(store: SqlStore, transfer_id: str, worker: str | None) -> list[str]:
    """Two threads move one transfer out of REQUESTED at once; each reports its outcome."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(target: TransferState) -> None:
        barrier.wait()
        try:
            store.transition(transfer_id, S.REQUESTED, target, f"to {target}", 50.0, worker=worker)
            outcomes.append(f"won:{target}")
        except InvalidTransition:
            outcomes.append("lost")

    threads = [threading.Thread(target=move, args=(t,)) for t in (S.SOURCE_COMMITTED, S.REJECTED)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.parametrize("with_worker", [False, True])
def test_two_threads_racing_one_transition_exactly_one_wins(
    store: SqlStore, with_worker: bool
) -> None:
    for round_ in range(5):
        record, _ = store.create_transfer(new_transfer(), float(round_))
        worker = None
        if with_worker:
            worker = "w"
            (claimed,) = store.claim_due("w", float(round_), 60.0, 1)
            assert claimed.id == record.id
        outcomes = _race(store, record.id, worker)
        assert sorted(o.split(":")[0] for o in outcomes) == ["lost", "won"]
        winner = next(o.split(":")[1] for o in outcomes if o.startswith("won"))
        assert store.transfer(record.id).state == winner
        assert [h.state for h in store.history(record.id)] == [S.REQUESTED, winner]
        if with_worker:
            store.release(record.id, "w")


def test_note_keeps_the_state_counts_an_attempt_and_defers(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    store.note(record.id, "node down, retrying", 2.0, retry_at=32.0)
    store.note(record.id, "node still down", 33.0, retry_at=93.0)
    got = store.transfer(record.id)
    assert (got.state, got.reason, got.attempts, got.next_attempt_at, got.updated_at) == (
        S.REQUESTED,
        "node still down",
        2,
        93.0,
        33.0,
    )
    assert [(h.state, h.reason) for h in store.history(record.id)][1:] == [
        (S.REQUESTED, "node down, retrying"),
        (S.REQUESTED, "node still down"),
    ]
    assert store.claim_due("w", 92.0, 10.0, 10) == []
    assert [r.id for r in store.claim_due("w", 93.0, 10.0, 10)] == [record.id]
    moved = store.transition(record.id, S.REQUESTED, S.SOURCE_COMMITTED, "ok", 94.0)
    assert (moved.attempts, moved.next_attempt_at) == (0, 94.0)


def test_a_repeated_wait_is_counted_but_written_to_history_and_audit_once(
    store: SqlStore,
) -> None:
    """A wait is noted every pass: the same reason again counts an attempt and defers, with
    no new history line or audit entry; another reason, or the first one back, is a line."""
    record, _ = store.create_transfer(new_transfer(), 1.0)
    reasons = ["waiting for the packet"] * 3 + ["node down"] * 2 + ["waiting for the packet"]
    for i, reason in enumerate(reasons):
        store.note(record.id, reason, 2.0 + i, retry_at=10.0 + i)
    got = store.transfer(record.id)
    assert (got.attempts, got.next_attempt_at, got.updated_at) == (6, 15.0, 7.0)
    assert [h.reason for h in store.history(record.id)][1:] == [
        "waiting for the packet",
        "node down",
        "waiting for the packet",
    ]
    entries, _ = store.audit_entries(
        subject="transfer", subject_id=record.id, action="transfer.note"
    )
    assert [e["reason"] for e in entries] == [
        "waiting for the packet",
        "node down",
        "waiting for the packet",
    ]


def test_note_on_unknown_transfer_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.note("tr_missing", "x", 1.0, retry_at=2.0)
