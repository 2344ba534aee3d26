"""The risk half of the store (``RiskStore``) on SQLite and PostgreSQL: limits written and
validated, screening against the window read in the same transaction, the held queue, and
a supervisor's or owner's decision on a held transfer — with the hub's real checks
(``relayer.risk``) and the clock passed in."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from core.errors import Conflict, InvalidInput
from core.records import RiskLimitRecord
from core.states import TransferState
from gateway.audit.context import acting_as
from gateway.problems import Forbidden
from gateway.store import SqlStore
from relayer.risk.holds import screen
from tests.store.helpers import ROUTE_AB, new_transfer

S = TransferState
T0 = 1_000_000.0
WINDOW = RiskLimitRecord(ROUTE_AB, "upjt", window_seconds=3600, window_amount=2500)


def _api(store: SqlStore, now: float, amount: int = 1000, owner: str = "app") -> Any:
    """A transfer created as the API does and screened at once (origin ``api``)."""
    record, _ = store.create_transfer(new_transfer(amount=amount, created_by=owner), now)
    (after,) = screen(store, [record], S.REQUESTED, "api", now, recheck=300.0)
    return after


def _source(store: SqlStore, now: float, seq: int, amount: int = 1000) -> Any:
    """A packet seen on the source (no API), moved to ``proven`` and screened there."""
    record, _ = store.create_transfer(new_transfer(sequence=seq, amount=amount), now)
    for a, b in [(S.REQUESTED, S.SOURCE_COMMITTED), (S.SOURCE_COMMITTED, S.SOURCE_FINAL)]:
        store.transition(record.id, a, b, "step", now)
    proven = store.transition(record.id, S.SOURCE_FINAL, S.PROVEN, "proven", now)
    (after,) = screen(store, [proven], S.PROVEN, "source", now, recheck=300.0)
    return after


def test_a_limit_is_written_read_back_replaced_and_audited(store: SqlStore) -> None:
    with acting_as("ops", "admin"):
        store.put_risk_limit(WINDOW, T0)
        store.put_risk_limit(replace(WINDOW, window_amount=5000, rate_per_minute=3), T0 + 1)
    (limit,) = store.risk_limits(ROUTE_AB)
    assert (limit.window_amount, limit.rate_per_minute, limit.updated_at) == (5000, 3, T0 + 1)
    entries, _ = store.audit_entries(action="risk.limit")
    assert [e["actor"] for e in entries] == ["ops", "ops"]
    assert entries[1]["before"]["limit"]["window_amount"] == 2500
    assert entries[1]["after"]["limit"]["window_amount"] == 5000


INVALID_LIMITS = [
    # (the one broken field, the field the refusal names)
    ({"route_id": "no-such-route"}, "route_id"),
    ({"denom": ""}, "denom"),
    ({"denom": " upjt"}, "denom"),
    ({"max_amount": -1}, "max_amount"),
    ({"max_amount": 2**256}, "max_amount"),
    ({"window_amount": -5}, "window_amount"),
    ({"window_seconds": 0}, "window_seconds"),
    ({"window_seconds": -60}, "window_seconds"),
    ({"window_seconds": None}, "window_seconds"),
    ({"window_amount": None}, "window_amount"),
    ({"over_max": "drop"}, "over_max"),
    ({"rate_per_minute": 0}, "rate_per_minute"),
    ({"delay_threshold": 10}, "delay_seconds"),
    ({"delay_seconds": 10}, "delay_threshold"),
    ({"delay_seconds": 0, "delay_threshold": 10}, "delay_seconds"),
]


@pytest.mark.parametrize(("change", "field"), INVALID_LIMITS)
def test_an_invalid_limit_is_refused_naming_its_field(
    store: SqlStore, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        store.put_risk_limit(replace(WINDOW, **change), T0)  # type: ignore[arg-type]
    assert caught.value.details["field"] == field
    assert store.risk_limits() == []


def test_without_limits_every_transfer_is_admitted_at_the_api(store: SqlStore) -> None:
    t = _api(store, T0)
    assert (t.state, t.admitted_at, t.created_by) == (S.REQUESTED, T0, "app")


def test_over_the_window_a_transfer_is_held_until_the_oldest_ages_out_then_released(
    store: SqlStore,
) -> None:
    store.put_risk_limit(WINDOW, T0)
    first = _api(store, T0)
    second = _api(store, T0 + 10)
    third = _api(store, T0 + 20)  # 1000 + 1000 + 1000 > 2500
    assert (first.state, second.state) == (S.REQUESTED, S.REQUESTED)
    assert third.state is S.HELD
    assert third.hold.rule == f"route:{ROUTE_AB}/window/upjt"
    assert third.hold.release_at == T0 + 3600  # the first ages out of the window then
    assert third.hold.origin == "api"
    assert "2000 of 2500 already moved in the last 3600 s" in third.hold.reason
    assert third.next_attempt_at == T0 + 3600  # due at its release time, not before
    assert store.held_transfers()[0] == [third]
    # Too early: still held (and still due at the same time); once the first aged out: back.
    (early,) = screen(store, [third], S.HELD, "api", T0 + 3599, recheck=300.0)
    assert early.state is S.HELD
    (released,) = screen(store, [third], S.HELD, "api", T0 + 3600, recheck=300.0)
    assert (released.state, released.admitted_at, released.hold) == (S.REQUESTED, T0 + 3600, None)
    assert "released" in released.reason
    assert [h.state for h in store.history(third.id)] == [S.REQUESTED, S.HELD, S.REQUESTED]


def test_rejected_and_refunded_transfers_leave_the_window(store: SqlStore) -> None:
    store.put_risk_limit(WINDOW, T0)
    first = _api(store, T0, amount=2000)
    with acting_as("ops", "admin"):
        store.reject_transfer(first.id, "never sent", T0 + 1)
    assert _api(store, T0 + 2, amount=2000).state is S.REQUESTED


def test_a_transfer_checked_at_the_api_is_not_counted_again(store: SqlStore) -> None:
    store.put_risk_limit(WINDOW, T0)
    t = _api(store, T0, amount=2500)
    store.transition(t.id, S.REQUESTED, S.SOURCE_COMMITTED, "sent", T0)
    store.transition(t.id, S.SOURCE_COMMITTED, S.SOURCE_FINAL, "final", T0)
    proven = store.transition(t.id, S.SOURCE_FINAL, S.PROVEN, "proven", T0)
    (after,) = screen(store, [proven], S.PROVEN, "source", T0 + 1, recheck=300.0)
    assert (after.state, after.admitted_at) == (S.PROVEN, T0)
    assert len(store.risk_view(ROUTE_AB, T0 + 1).admitted) == 1


def test_over_the_maximum_a_transfer_is_rejected_at_the_api_or_held_for_review(
    store: SqlStore,
) -> None:
    store.put_risk_limit(RiskLimitRecord(ROUTE_AB, "upjt", max_amount=500, over_max="reject"), T0)
    rejected = _api(store, T0)
    assert rejected.state is S.REJECTED
    assert rejected.reason.startswith(f"rejected by route:{ROUTE_AB}/max/upjt: amount 1000")
    store.put_risk_limit(RiskLimitRecord(ROUTE_AB, "upjt", max_amount=500, over_max="hold"), T0)
    held = _api(store, T0)
    assert (held.state, held.hold.release_at) == (S.HELD, None)
    assert held.next_attempt_at == T0 + 300.0  # looked at every hold_recheck, not released


def test_a_packet_rejected_after_it_left_the_source_waits_held_for_its_refund(
    store: SqlStore,
) -> None:
    store.put_risk_limit(RiskLimitRecord(ROUTE_AB, "upjt", max_amount=500, over_max="reject"), T0)
    t = _source(store, T0, seq=1)
    assert (t.state, t.hold.origin, t.hold.decision) == (S.HELD, "source", "rejected")
    assert "refunded once its timeout passes" in t.reason
    moved = store.transition(t.id, S.HELD, S.TIMED_OUT, "timeout passed", T0 + 10)
    assert moved.state is S.TIMED_OUT
    assert moved.hold is None


def test_a_large_transfer_waits_its_delay_from_creation(store: SqlStore) -> None:
    store.put_risk_limit(
        RiskLimitRecord(ROUTE_AB, "upjt", delay_threshold=1000, delay_seconds=600), T0
    )
    small = _api(store, T0, amount=999)
    large = _api(store, T0, amount=1000)
    assert small.state is S.REQUESTED
    assert (large.state, large.hold.release_at) == (S.HELD, T0 + 600)
    (after,) = screen(store, [large], S.HELD, "api", T0 + 600, recheck=300.0)
    assert after.state is S.REQUESTED


def test_the_rate_limit_holds_the_transfer_past_the_minute(store: SqlStore) -> None:
    store.put_risk_limit(RiskLimitRecord(ROUTE_AB, "*", rate_per_minute=2), T0)
    _api(store, T0)
    _api(store, T0 + 5)
    third = _api(store, T0 + 6)
    assert (third.state, third.hold.release_at) == (S.HELD, T0 + 60)
    assert third.hold.rule == f"route:{ROUTE_AB}/rate/*"


def test_a_source_packet_over_the_window_is_held_and_released_back_to_proven(
    store: SqlStore,
) -> None:
    store.put_risk_limit(WINDOW, T0)
    _source(store, T0, seq=1, amount=2000)
    held = _source(store, T0 + 1, seq=2)
    assert (held.state, held.hold.origin, held.hold.release_at) == (S.HELD, "source", T0 + 3600)
    (after,) = screen(store, [held], S.HELD, "source", T0 + 3600, recheck=300.0)
    assert after.state is S.PROVEN


def test_a_supervisor_releases_and_rejects_and_an_owner_cancels(store: SqlStore) -> None:
    store.put_risk_limit(RiskLimitRecord(ROUTE_AB, "upjt", max_amount=500), T0)
    a, b, c = (_api(store, T0 + i) for i in range(3))
    with acting_as("sup", "supervisor"):
        released = store.release_held(a.id, "checked with the sender", T0 + 5)
        rejected = store.reject_held(b.id, "sanctioned receiver", T0 + 5)
    with pytest.raises(Forbidden):
        store.cancel_held(c.id, "somebody-else", "mine now", T0 + 5)
    cancelled = store.cancel_held(c.id, "app", "changed my mind", T0 + 5)
    assert (released.state, released.admitted_at) == (S.REQUESTED, T0 + 5)
    assert rejected.state is S.REJECTED
    assert "sanctioned receiver" in rejected.reason
    assert cancelled.state is S.REJECTED
    assert "cancelled by its owner" in cancelled.reason
    with pytest.raises(Conflict):
        store.release_held(b.id, "again", T0 + 6)
    actions = [e["action"] for e in store.audit_entries(subject_id=a.id)[0]]
    assert actions[-1] == "transfer.transition"
    assert store.audit_entries(subject_id=a.id)[0][-1]["actor"] == "sup"


def test_a_cancelled_source_packet_stays_held_until_its_timeout(store: SqlStore) -> None:
    store.put_risk_limit(RiskLimitRecord(ROUTE_AB, "upjt", max_amount=500), T0)
    t = _source(store, T0, seq=1)
    with acting_as("sup", "supervisor"):
        after = store.reject_held(t.id, "review refused", T0 + 1)
    assert (after.state, after.hold.decision, after.next_attempt_at) == (
        S.HELD,
        "rejected",
        T0 + 1,
    )
    with pytest.raises(Conflict):
        store.release_held(t.id, "changed my mind", T0 + 2)


def test_the_held_queue_pages_oldest_first(store: SqlStore) -> None:
    store.put_risk_limit(RiskLimitRecord(ROUTE_AB, "upjt", max_amount=500), T0)
    ids = [_api(store, T0 + i).id for i in range(5)]
    seen, cursor = [], None
    while True:
        page, cursor = store.held_transfers(after=cursor, limit=2)
        seen += [t.id for t in page]
        if cursor is None:
            break
    assert seen == ids


def test_two_writers_screening_one_route_never_overfill_its_window(store: SqlStore) -> None:
    store.put_risk_limit(replace(WINDOW, window_amount=10_000), T0)
    made = [store.create_transfer(new_transfer(amount=1000), T0)[0] for _ in range(20)]
    results: list[Any] = []

    def worker(part: list[Any]) -> None:
        for t in part:
            results.extend(screen(store, [t], S.REQUESTED, "api", T0 + 1, recheck=300.0))

    threads = [threading.Thread(target=worker, args=(made[i::2],)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    admitted = [t for t in results if t.state is S.REQUESTED]
    assert len(admitted) == 10
    assert len([t for t in results if t.state is S.HELD]) == 10


def test_tightening_a_limit_loses_no_transfer_in_flight(store: SqlStore) -> None:
    inflight = [_source(store, T0, seq=i) for i in range(1, 4)]  # admitted before any limit
    store.put_risk_limit(RiskLimitRecord(ROUTE_AB, "upjt", max_amount=10), T0 + 1)
    for t in inflight:  # admitted ones are never checked again: they go on
        (after,) = screen(store, [t], S.PROVEN, "source", T0 + 2, recheck=300.0)
        assert after.state is S.PROVEN
    late = _source(store, T0 + 3, seq=9)
    assert late.state is S.HELD  # the new limit applies to what comes after it
    every = store.list_transfers(limit=100)[0]
    assert len(every) == 4
