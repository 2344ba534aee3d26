"""Work distribution: ``claim_due`` leases, expiry, release, and concurrent workers."""

from __future__ import annotations

import threading
from collections import Counter

from core.states import TransferState
from gateway.store import SqlStore
from tests.store.helpers import new_transfer

S = TransferState


def test_claim_due_takes_due_non_terminal_transfers_oldest_first(store: SqlStore) -> None:
    old, _ = store.create_transfer(new_transfer(), 1.0)
    mid, _ = store.create_transfer(new_transfer(), 2.0)
    new, _ = store.create_transfer(new_transfer(), 3.0)
    later, _ = store.create_transfer(new_transfer(), 4.0)
    store.note(later.id, "wait", 4.0, retry_at=100.0)  # not due yet
    done, _ = store.create_transfer(new_transfer(), 0.5)
    store.transition(done.id, S.REQUESTED, S.REJECTED, "policy", 0.6)  # terminal
    claimed = store.claim_due("w1", 10.0, 30.0, 2)
    assert [r.id for r in claimed] == [old.id, mid.id]
    assert all((r.lease_owner, r.lease_until) == ("w1", 40.0) for r in claimed)
    rest = store.claim_due("w1", 10.0, 30.0, 10)
    assert [r.id for r in rest] == [new.id]


def test_claim_due_takes_the_longest_waiting_first_not_the_oldest(store: SqlStore) -> None:
    """An old transfer that just took a step and is due again soon must not starve a newer
    one that has been due for longer (a relayer under load re-claimed the same old batch)."""
    old, _ = store.create_transfer(new_transfer(), 1.0)
    new, _ = store.create_transfer(new_transfer(), 2.0)
    store.note(old.id, "waiting for notaries", 5.0, retry_at=5.5)
    claimed = store.claim_due("w1", 10.0, 30.0, 1)
    assert [r.id for r in claimed] == [new.id]


def test_a_leased_transfer_is_not_claimed_by_another_worker(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    assert [r.id for r in store.claim_due("w1", 2.0, 30.0, 10)] == [record.id]
    assert store.claim_due("w2", 31.9, 30.0, 10) == []
    assert store.claim_due("w1", 31.9, 30.0, 10) == []  # not re-handed to its holder either


def test_an_expired_lease_lets_another_worker_take_over(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    store.claim_due("w1", 2.0, 30.0, 10)
    taken = store.claim_due("w2", 32.0, 30.0, 10)
    assert [(r.id, r.lease_owner, r.lease_until) for r in taken] == [(record.id, "w2", 62.0)]
    store.release(record.id, "w1")  # the old holder's late release changes nothing
    assert store.transfer(record.id).lease_owner == "w2"


def test_release_frees_the_transfer_for_anyone(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    store.claim_due("w1", 2.0, 30.0, 10)
    store.release(record.id, "w1")
    got = store.transfer(record.id)
    assert (got.lease_owner, got.lease_until) == (None, None)
    assert [r.id for r in store.claim_due("w2", 3.0, 30.0, 10)] == [record.id]


def test_concurrent_workers_never_claim_the_same_transfer(store: SqlStore) -> None:
    total = 60
    for i in range(total):
        store.create_transfer(new_transfer(), float(i))
    claims: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def work(name: str) -> None:
        barrier.wait()
        while True:
            got = store.claim_due(name, 1000.0, 600.0, 3)
            if not got:
                return
            with lock:
                claims.update(r.id for r in got)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claims) == total
    assert set(claims.values()) == {1}
    owners = {store.transfer(tid).lease_owner for tid in claims}
    assert owners <= {"w0", "w1", "w2", "w3"}


def test_work_queue_counts_waiting_transfers_and_one_workers_live_leases(store: SqlStore) -> None:
    """The relayer's ``pjgw_relayer_backoff_queue`` and ``pjgw_relayer_leases_held``."""
    due, _ = store.create_transfer(new_transfer(), 1.0)
    waiting, _ = store.create_transfer(new_transfer(), 1.0)
    store.note(waiting.id, "retrying: node down", 2.0, retry_at=50.0)
    done, _ = store.create_transfer(new_transfer(), 1.0)
    store.note(done.id, "wait", 2.0, retry_at=50.0)
    store.transition(done.id, S.REQUESTED, S.REJECTED, "policy", 3.0)  # terminal: not counted
    assert store.work_queue("w1", 10.0) == (1, 0)
    assert [r.id for r in store.claim_due("w1", 10.0, 30.0, 10)] == [due.id]
    assert store.work_queue("w1", 10.0) == (1, 1)
    assert store.work_queue("w2", 10.0) == (1, 0)  # another worker's lease is not ours
    assert store.work_queue("w1", 45.0) == (1, 0)  # the lease ran out at 40
    assert store.work_queue("w1", 60.0) == (0, 0)  # the backoff is over: due again


def test_a_claim_with_nothing_due_takes_no_write_transaction(
    store: SqlStore, monkeypatch: object
) -> None:
    """An idle route's poll is a read: on SQLite each write transaction is a ``BEGIN
    IMMEDIATE`` that queues behind (and holds up) the writers that have work."""
    waiting, _ = store.create_transfer(new_transfer(), 1.0)
    store.note(waiting.id, "wait", 1.0, retry_at=100.0)
    writes = Counter[str]()
    real_write = store._write

    def counted() -> object:
        writes["write"] += 1
        return real_write()

    monkeypatch.setattr(store, "_write", counted)  # type: ignore[attr-defined]
    assert store.claim_due("w1", 10.0, 30.0, 5) == []
    assert store.claim_batches("w1", 10.0, 30.0, 5, route_id=waiting.route_id) == []
    assert store.claim_due_swaps("w1", 10.0, 30.0, 5) == []
    assert writes["write"] == 0
    claimed = store.claim_due("w1", 100.0, 30.0, 5)  # due now: leased in a write
    assert [r.id for r in claimed] == [waiting.id]
    assert writes["write"] == 1
