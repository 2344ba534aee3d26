"""The store's side of the circuit breakers (``gateway/store/breakers.py``), on SQLite and
PostgreSQL: a compare-and-set pause audited as ``breaker:<name>``, and the value certainly
in flight per denomination (``core.conservation.IN_FLIGHT_STATES``)."""

from __future__ import annotations

import itertools
import threading

import pytest

from core.errors import InvalidInput, NotFound
from core.ids import Height
from core.seams import BreakerStore, OperatorTools
from core.states import TransferState
from gateway.audit.context import acting_as
from gateway.store import SqlStore
from proofs.audit import validate_chain
from tests.store.helpers import HAPPY_PATH, ROUTE_AB, ROUTE_BC, new_transfer


def test_the_sql_store_offers_the_operator_tools_and_the_breaker_seams(store: SqlStore) -> None:
    assert isinstance(store, OperatorTools)
    assert isinstance(store, BreakerStore)


def test_a_trip_pauses_a_running_route_once_audited_as_the_breaker(store: SqlStore) -> None:
    paused = store.trip_breaker(ROUTE_AB, "conservation", "escrowed 1 < vouchers 2", 5.0)
    assert paused is not None
    assert paused.paused_reason == "breaker conservation: escrowed 1 < vouchers 2"
    assert store.trip_breaker(ROUTE_AB, "failure_rate", "3 of 4 failed", 6.0) is None
    assert store.route(ROUTE_AB).paused_reason == "breaker conservation: escrowed 1 < vouchers 2"
    entries, _ = store.audit_entries(subject="route", subject_id=ROUTE_AB)
    (entry,) = [e for e in entries if e["action"] == "route.pause"]
    assert (entry["actor"], entry["role"]) == ("breaker:conservation", "breaker")
    assert entry["at_ms"] == 5000
    assert entry["after"] == {"paused_reason": paused.paused_reason}


def test_an_operators_pause_is_never_replaced_by_a_breaker(store: SqlStore) -> None:
    with acting_as("sup", "supervisor"):
        store.pause_route(ROUTE_AB, "maintenance", 1.0)
    assert store.trip_breaker(ROUTE_AB, "client_frozen", "fork", 2.0) is None
    assert store.route(ROUTE_AB).paused_reason == "maintenance"


def test_an_operator_resumes_a_tripped_route_and_it_can_trip_again(store: SqlStore) -> None:
    store.trip_breaker(ROUTE_AB, "failure_rate", "5 of 5 failed", 1.0)
    with acting_as("ops", "admin"):
        assert store.resume_route(ROUTE_AB, "destination fixed", 2.0).paused_reason is None
    assert store.trip_breaker(ROUTE_AB, "failure_rate", "5 of 5 failed", 3.0) is not None
    entries, _ = store.audit_entries(subject="route", subject_id=ROUTE_AB)
    assert [(e["action"], e["actor"]) for e in entries if e["action"] != "route.register"] == [
        ("route.pause", "breaker:failure_rate"),
        ("route.resume", "ops"),
        ("route.pause", "breaker:failure_rate"),
    ]


def test_concurrent_trips_of_one_route_write_one_pause(store: SqlStore) -> None:
    results: list[object] = []

    def trip(i: int) -> None:
        results.append(store.trip_breaker(ROUTE_AB, "conservation", f"relayer {i}", float(i)))

    threads = [threading.Thread(target=trip, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r is not None for r in results) == 1
    entries, _ = store.audit_entries(action="route.pause")
    assert len(entries) == 1
    all_entries, _ = store.audit_entries(limit=1000)
    assert validate_chain(all_entries).hash == store.audit_head()[1]


@pytest.mark.parametrize(
    ("route_id", "breaker", "reason", "error"),
    [
        ("no-such-route", "conservation", "why", NotFound),
        (ROUTE_AB, "two words", "why", InvalidInput),
        (ROUTE_AB, "x" * 33, "why", InvalidInput),
        (ROUTE_AB, "conservation", "   ", InvalidInput),
    ],
    ids=["unknown route", "breaker not an identifier", "breaker name too long", "no reason"],
)
def test_a_trip_with_one_bad_field_is_refused(
    store: SqlStore, route_id: str, breaker: str, reason: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        store.trip_breaker(route_id, breaker, reason, 1.0)
    assert store.route(ROUTE_AB).paused_reason is None


def test_a_pair_is_paused_in_one_commit_each_route_with_its_own_reason(store: SqlStore) -> None:
    paused = store.trip_breakers(
        "conservation", [(ROUTE_AB, "deficit 9"), (ROUTE_BC, "the reverse is short")], 4.0
    )
    assert [p.paused_reason if p else None for p in paused] == [
        "breaker conservation: deficit 9",
        "breaker conservation: the reverse is short",
    ]
    entries, _ = store.audit_entries(action="route.pause")
    assert sorted((e["subject_id"], e["actor"]) for e in entries) == [
        (ROUTE_AB, "breaker:conservation"),
        (ROUTE_BC, "breaker:conservation"),
    ]


def test_a_pair_with_one_route_paused_already_pauses_only_the_other(store: SqlStore) -> None:
    with acting_as("sup", "supervisor"):
        store.pause_route(ROUTE_BC, "maintenance", 1.0)
    paused = store.trip_breakers("conservation", [(ROUTE_AB, "x"), (ROUTE_BC, "y")], 2.0)
    assert [p is not None for p in paused] == [True, False]
    assert store.route(ROUTE_BC).paused_reason == "maintenance"


@pytest.mark.parametrize(
    ("reasons", "error"),
    [
        ([(ROUTE_AB, "why"), ("no-such-route", "why")], NotFound),
        ([(ROUTE_AB, "why"), (ROUTE_BC, "  ")], InvalidInput),
        ([(ROUTE_AB, "why"), (ROUTE_AB, "again")], InvalidInput),
    ],
    ids=["second route unknown", "second reason empty", "a route twice"],
)
def test_a_pair_with_one_bad_member_pauses_neither(
    store: SqlStore, reasons: list[tuple[str, str]], error: type[Exception]
) -> None:
    with pytest.raises(error):
        store.trip_breakers("conservation", reasons, 1.0)
    assert store.route(ROUTE_AB).paused_reason is None
    assert store.route(ROUTE_BC).paused_reason is None
    entries, _ = store.audit_entries(action="route.pause")
    assert entries == []


def test_two_relayers_tripping_a_pair_from_opposite_ends_write_each_pause_once(
    store: SqlStore,
) -> None:
    """The rows are locked in route id order: opposite orders neither deadlock nor pause
    a route twice."""
    results: list[list[object]] = []
    orders = [[(ROUTE_AB, "a"), (ROUTE_BC, "b")], [(ROUTE_BC, "b"), (ROUTE_AB, "a")]] * 3

    def trip(reasons: list[tuple[str, str]]) -> None:
        results.append(list(store.trip_breakers("conservation", reasons, 1.0)))

    threads = [threading.Thread(target=trip, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == len(orders)
    assert sum(r is not None for pair in results for r in pair) == 2
    entries, _ = store.audit_entries(action="route.pause")
    assert sorted(e["subject_id"] for e in entries) == [ROUTE_AB, ROUTE_BC]


def _at(store: SqlStore, state: TransferState, sequence: int, height: int, amount: int) -> None:
    """A transfer of ROUTE_AB whose packet sits at ``height``, moved along to ``state``."""
    t, _ = store.create_transfer(new_transfer(sequence=sequence, amount=amount), 1.0)
    store.attach_source_event(t.id, "seen", 1.0, source_height=height)
    for old, new in itertools.pairwise(HAPPY_PATH[: HAPPY_PATH.index(state) + 1]):
        store.transition(t.id, old, new, "step", 2.0)


def test_value_in_flight_counts_only_packets_certainly_unsettled_at_or_below_the_height(
    store: SqlStore,
) -> None:
    _at(store, TransferState.REQUESTED, 1, 10, 1)  # recorded, not moved yet: counted
    _at(store, TransferState.SOURCE_FINAL, 2, 11, 20)  # counted
    _at(store, TransferState.PROVEN, 3, 12, 300)  # counted
    _at(store, TransferState.ATTESTED, 4, 12, 4_000)  # a delivery may be out: not counted
    _at(store, TransferState.DEST_SUBMITTED, 5, 12, 50_000)  # not counted
    _at(store, TransferState.COMPLETED, 6, 12, 600_000)  # minted: not counted
    _at(store, TransferState.PROVEN, 7, 13, 7_000_000)  # above the height: not counted
    store.create_transfer(new_transfer(amount=80_000_000), 1.0)  # no packet yet: not counted
    assert store.value_in_flight(ROUTE_AB, Height(12)) == {"upjt": 321}
    assert store.value_in_flight(ROUTE_AB, Height(13)) == {"upjt": 7_000_321}
    assert store.value_in_flight(ROUTE_AB, Height(0)) == {"upjt": 0}  # the denoms carried
    assert store.value_in_flight(ROUTE_BC, Height(99)) == {}
