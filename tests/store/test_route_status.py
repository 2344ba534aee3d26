"""``report_route_status`` / ``route_statuses``: each relayer's latest word on each route."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.records import RouteStatusRecord
from gateway.store import SqlStore
from tests.store.helpers import ROUTE_AB, ROUTE_BC


def _status(
    route: str = ROUTE_AB, worker: str = "relayer-1", **changes: object
) -> RouteStatusRecord:
    values: dict[str, object] = {
        "route_id": route,
        "worker": worker,
        "state": "running",
        "reason": "scanned to a height 10",
        "cursor": 10,
        "since": 100.0,
        "updated_at": 100.0,
    }
    values.update(changes)
    return RouteStatusRecord(**values)  # type: ignore[arg-type]


def test_a_new_report_replaces_the_same_relayers_last_one(store: SqlStore) -> None:
    store.report_route_status(_status())
    store.report_route_status(
        _status(
            state="stopped", reason="light client of a frozen: fork", since=150.0, updated_at=150.0
        )
    )
    assert store.route_statuses() == [
        _status(
            state="stopped", reason="light client of a frozen: fork", since=150.0, updated_at=150.0
        )
    ]


def test_each_relayer_and_route_keeps_its_own_report_newest_first(store: SqlStore) -> None:
    store.report_route_status(_status(worker="relayer-1", updated_at=100.0))
    store.report_route_status(_status(worker="relayer-2", updated_at=120.0, cursor=None))
    store.report_route_status(
        _status(route=ROUTE_BC, state="error", reason="boom", updated_at=110.0)
    )
    found = [(s.route_id, s.worker, s.state, s.cursor) for s in store.route_statuses()]
    assert found == [
        (ROUTE_AB, "relayer-2", "running", None),
        (ROUTE_BC, "relayer-1", "error", 10),
        (ROUTE_AB, "relayer-1", "running", 10),
    ]


@pytest.mark.parametrize(
    ("field", "value", "refusal"),
    [
        ("state", "sleeping", "unknown route state 'sleeping'"),
        ("worker", "", "worker name of 1-128 characters"),
        ("worker", "w" * 129, "worker name of 1-128 characters"),
    ],
)
def test_a_malformed_report_is_refused(
    store: SqlStore, field: str, value: object, refusal: str
) -> None:
    with pytest.raises(InvalidInput, match=refusal):
        store.report_route_status(_status(**{field: value}))
    assert store.route_statuses() == []


def test_a_paused_route_is_reported_as_paused(store: SqlStore) -> None:
    """The engine reports a route an operator or a breaker paused as ``paused``."""
    store.report_route_status(_status(state="paused"))
    assert [s.state for s in store.route_statuses()] == ["paused"]
