"""Watch leases (``Store.take_watch_lease``): one relayer process watches a source chain.

On SQLite and PostgreSQL: the first taker holds it, a live lease turns others away, the
holder renews it, an expired one is taken over (naming from whom) and the old holder
then stands by, a clean release frees it at once, and of many processes asking at the
same moment exactly one holds it."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from core.errors import InvalidInput
from core.records import WatchLease
from gateway.store import SqlStore

KEY = "chain:a"
LEASE = 10.0


def test_the_first_process_takes_a_lease_nobody_holds(store: SqlStore) -> None:
    assert store.take_watch_lease(KEY, "w1", 100.0, LEASE) == WatchLease(KEY, "w1", 110.0)


def test_a_live_lease_turns_another_process_away_and_stays_as_it_was(store: SqlStore) -> None:
    store.take_watch_lease(KEY, "w1", 100.0, LEASE)
    assert store.take_watch_lease(KEY, "w2", 109.9, LEASE) == WatchLease(KEY, "w1", 110.0)
    assert store.take_watch_lease(KEY, "w1", 105.0, LEASE) == WatchLease(KEY, "w1", 115.0)


def test_the_holder_renews_its_lease_at_each_pass(store: SqlStore) -> None:
    store.take_watch_lease(KEY, "w1", 100.0, LEASE)
    assert store.take_watch_lease(KEY, "w1", 108.0, LEASE).until == 118.0
    assert store.take_watch_lease(KEY, "w2", 117.0, LEASE).owner == "w1"  # renewed: still w1's


def test_an_expired_lease_is_taken_over_naming_the_old_holder_who_then_stands_by(
    store: SqlStore,
) -> None:
    store.take_watch_lease(KEY, "w1", 100.0, LEASE)
    taken = store.take_watch_lease(KEY, "w2", 110.0, LEASE)  # expired at exactly 110
    assert taken == WatchLease(KEY, "w2", 120.0, taken_from="w1")
    assert store.take_watch_lease(KEY, "w1", 111.0, LEASE) == WatchLease(KEY, "w2", 120.0)
    assert store.take_watch_lease(KEY, "w2", 112.0, LEASE) == WatchLease(KEY, "w2", 122.0)


def test_a_released_lease_is_free_at_once_and_a_release_by_another_changes_nothing(
    store: SqlStore,
) -> None:
    store.take_watch_lease(KEY, "w1", 100.0, LEASE)
    store.release_watch_lease(KEY, "w2")  # not its lease
    assert store.take_watch_lease(KEY, "w2", 101.0, LEASE).owner == "w1"
    store.release_watch_lease(KEY, "w1")
    assert store.take_watch_lease(KEY, "w2", 101.0, LEASE) == WatchLease(KEY, "w2", 111.0)


def test_each_chain_has_a_lease_of_its_own_and_the_cursor_is_untouched(store: SqlStore) -> None:
    store.advance_cursor(KEY, 7)
    store.take_watch_lease(KEY, "w1", 100.0, LEASE)
    assert store.take_watch_lease("chain:b", "w2", 100.0, LEASE).owner == "w2"
    assert store.cursor(KEY) == 7
    assert store.cursor("chain:b") is None


def test_of_processes_asking_at_once_exactly_one_holds_the_lease(store: SqlStore) -> None:
    workers = [f"w{i}" for i in range(6)]
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(workers))

    def ask(worker: str) -> None:
        barrier.wait()
        lease = store.take_watch_lease(KEY, worker, 100.0, LEASE)
        with lock:
            seen[lease.owner] += 1

    threads = [threading.Thread(target=ask, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 1  # every asker was told the same holder
    assert seen.most_common(1)[0][1] == len(workers)


@pytest.mark.parametrize(
    ("key", "worker", "seconds", "field"),
    [
        ("", "w1", LEASE, "key"),
        ("k" * 129, "w1", LEASE, "key"),
        (KEY, "", LEASE, "worker"),
        (KEY, "w" * 129, LEASE, "worker"),
        (KEY, "w1", 0.0, "lease_seconds"),
        (KEY, "w1", -1.0, "lease_seconds"),
    ],
    ids=["empty-key", "long-key", "empty-worker", "long-worker", "zero-lease", "negative-lease"],
)
def test_take_watch_lease_refuses_a_bad_argument(
    store: SqlStore, key: str, worker: str, seconds: float, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.take_watch_lease(key, worker, 100.0, seconds)
    assert refused.value.details["field"] == field
