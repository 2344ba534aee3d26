"""``/v1/risk`` and held transfers over the API (a real SQLite store, the clock injected).

An admin writes a route's limits (every bad write a 422 problem naming its field); a
transfer created over the window limit answers 202 ``held`` with the rule, a readable
reason and its release time, and nothing is sent for it; supervisors and admins read the
limits, their usage and the held queue, and release or reject; a client key may not; the
key that created a transfer, and only it, cancels it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from core.states import TransferState
from gateway.store import SqlStore
from tests.gateway.helpers import ROUTE, Keys, StepClock
from tests.gateway.test_transfers_api import _events, assert_problem, body, post, signed_send

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

LIMIT: dict[str, Any] = {
    "route_id": ROUTE,
    "denom": "upj",
    "window": {"seconds": 3600, "amount": "1500"},
}
REASON = {"reason": "checked with the sender's bank"}


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


@pytest.fixture
def supervisor(store: SqlStore) -> str:
    return store.create_api_key("sup", "supervisor", 1.0)


async def _limit(api: httpx.AsyncClient, keys: Keys, limit: dict[str, Any] = LIMIT) -> Any:
    response = await api.put("/v1/risk/limits", json=limit, headers=_h(keys.admin))
    assert response.status_code == 200, response.text
    return response.json()


async def _held(api: httpx.AsyncClient, keys: Keys) -> dict[str, Any]:
    await _limit(api, keys)
    first = await post(api, keys, body(), "k1")
    assert first.status_code == 201, first.text
    second = await post(api, keys, body(signed_tx=_tx(1000, 1)), "k2")
    assert second.status_code == 202, second.text
    return second.json()


def _tx(amount: int, nonce: int) -> str:
    return "0x" + signed_send(amount, nonce=nonce).hex()


async def test_over_the_window_the_transfer_is_created_held_with_its_reason_and_nothing_is_sent(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: StepClock
) -> None:
    held = await _held(api, keys)
    assert held["state"] == TransferState.HELD
    hold = held["hold"]
    assert hold["rule"] == f"route:{ROUTE}/window/upj"
    assert hold["origin"] == "api"
    assert "1000 of 1500 already moved in the last 3600 s" in hold["reason"]
    assert "this transfer adds 1000" in hold["reason"]
    assert hold["release_at"] == pytest.approx(clock.now + 3600, abs=1.0)
    assert held["reason"].startswith(f"held by route:{ROUTE}/window/upj")
    # Journaled (its release sends it) but not sent: the relayer steps held transfers apart.
    action = store.action(held["id"], "source_submit")
    assert action is not None
    assert action.status == "recorded"
    detail = (await api.get(f"/v1/transfers/{held['id']}")).json()
    assert [h["state"] for h in detail["history"]] == ["requested", "held"]


async def test_over_a_rejecting_maximum_the_transfer_is_rejected_and_journals_nothing(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    await _limit(api, keys, {"route_id": ROUTE, "denom": "upj", "max_amount": "10",
                             "over_max": "reject"})  # fmt: skip
    response = await post(api, keys, body())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["state"] == TransferState.REJECTED
    assert "above the per-transfer maximum 10" in created["reason"]
    assert store.action(created["id"], "source_submit") is None


class StoppedHere(Exception):
    """The API process stopping between creating a transfer and screening it."""


async def test_a_replay_screens_a_transfer_whose_first_request_stopped_before_screening(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating and screening are two commits: a request cut between them leaves the
    transfer created, unscreened, nothing journaled. The client's replay (same key, same
    body) screens it before anything is journaled, as the first request would have."""
    from gateway.routers import transfers as router

    await _limit(api, keys, {"route_id": ROUTE, "denom": "upj", "max_amount": "10",
                             "over_max": "reject"})  # fmt: skip

    def stop_before_screening(*args: Any, **kwargs: Any) -> Any:
        raise StoppedHere

    monkeypatch.setattr(router, "screen", stop_before_screening)
    try:
        cut = await post(api, keys, body(), "k-cut")
        assert cut.status_code == 500, cut.text
    except StoppedHere:
        pass  # the transport re-raised it: the request never answered
    monkeypatch.undo()
    replay = await post(api, keys, body(), "k-cut")
    assert replay.status_code == 200, replay.text  # the first request created it
    again = replay.json()
    assert again["state"] == TransferState.REJECTED
    assert "above the per-transfer maximum 10" in again["reason"]
    assert store.action(again["id"], "source_submit") is None  # nothing to send


async def test_a_supervisor_reads_limits_usage_and_the_held_queue(
    api: httpx.AsyncClient, keys: Keys, supervisor: str
) -> None:
    held = await _held(api, keys)
    response = await api.get("/v1/risk", headers=_h(supervisor))
    assert response.status_code == 200, response.text
    risk = response.json()
    (limit,) = risk["limits"]
    assert limit["window"] == {"seconds": 3600, "amount": "1500", "used": "1000"}
    assert limit["minute_count"] == 1
    assert [t["id"] for t in risk["held"]] == [held["id"]]
    assert risk["held"][0]["hold"]["rule"] == f"route:{ROUTE}/window/upj"
    plain = await api.get("/v1/risk", headers=_h(keys.client))
    assert_problem(plain, 403, "forbidden")


async def test_the_held_queue_is_cursor_paged(
    api: httpx.AsyncClient, keys: Keys, supervisor: str
) -> None:
    await _limit(api, keys, {"route_id": ROUTE, "denom": "upj", "max_amount": "1"})
    made = []
    for i in range(3):
        r = await post(api, keys, body(signed_tx=_tx(1000, i)), f"p{i}")
        made.append(r.json()["id"])
    seen, cursor = [], None
    while True:
        params = {"held_limit": 2} | ({"held_cursor": cursor} if cursor else {})
        page = (await api.get("/v1/risk", params=params, headers=_h(supervisor))).json()
        seen += [t["id"] for t in page["held"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


async def test_a_supervisor_releases_a_held_transfer_and_the_audit_names_the_key(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, supervisor: str
) -> None:
    held = await _held(api, keys)
    response = await api.post(
        f"/v1/risk/held/{held['id']}/release", json=REASON, headers=_h(supervisor)
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == TransferState.REQUESTED
    assert response.json()["hold"] is None
    (entry,) = [
        e
        for e in store.audit_entries(subject_id=held["id"])[0]
        if e["after"] and e["after"].get("state") == "requested" and e["actor"] == "sup"
    ]
    assert "checked with the sender's bank" in entry["reason"]
    again = await api.post(
        f"/v1/risk/held/{held['id']}/release", json=REASON, headers=_h(supervisor)
    )
    assert_problem(again, 409, "conflict")


async def test_a_supervisor_rejects_a_held_transfer_nothing_having_left_its_owner(
    api: httpx.AsyncClient, keys: Keys, supervisor: str
) -> None:
    held = await _held(api, keys)
    response = await api.post(
        f"/v1/risk/held/{held['id']}/reject", json=REASON, headers=_h(supervisor)
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == TransferState.REJECTED


async def test_a_client_key_may_neither_release_nor_reject(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    held = await _held(api, keys)
    for verb in ("release", "reject"):
        response = await api.post(
            f"/v1/risk/held/{held['id']}/{verb}", json=REASON, headers=_h(keys.client)
        )
        assert_problem(response, 403, "forbidden")


async def test_only_the_owner_cancels_and_a_supervisor_cannot_write_limits(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, supervisor: str
) -> None:
    held = await _held(api, keys)
    other = store.create_api_key("other-app", "client", 1.0)
    stranger = await api.post(f"/v1/transfers/{held['id']}/cancel", json=REASON, headers=_h(other))
    assert_problem(stranger, 403, "forbidden")
    own = await api.post(f"/v1/transfers/{held['id']}/cancel", json=REASON, headers=_h(keys.client))
    assert own.status_code == 200, own.text
    assert own.json()["state"] == TransferState.REJECTED
    assert "cancelled by its owner" in own.json()["reason"]
    write = await api.put("/v1/risk/limits", json=LIMIT, headers=_h(supervisor))
    assert_problem(write, 403, "forbidden")


INVALID_WRITES = [
    # (the one broken part, the field the 422 names)
    ({"max_amount": "-5"}, ["body", "max_amount"]),
    ({"max_amount": "2" * 79}, ["body", "max_amount"]),
    ({"window": {"seconds": 0, "amount": "10"}}, ["body", "window", "seconds"]),
    ({"window": {"seconds": -3600, "amount": "10"}}, ["body", "window", "seconds"]),
    ({"window": {"seconds": 60, "amount": "-1"}}, ["body", "window", "amount"]),
    ({"window": {"seconds": 60}}, ["body", "window", "amount"]),
    ({"rate_per_minute": 0}, ["body", "rate_per_minute"]),
    ({"delay": {"threshold": "100", "seconds": 0}}, ["body", "delay", "seconds"]),
    ({"over_max": "drop"}, ["body", "over_max"]),
    ({"route_id": "no-such-route"}, ["body", "route_id"]),
    ({"denom": ""}, ["body", "denom"]),
    ({"denom": "up j"}, ["body", "denom"]),
    ({"colour": "red"}, ["body", "colour"]),
]


@pytest.mark.parametrize(("change", "loc"), INVALID_WRITES)
async def test_an_invalid_limit_write_is_a_422_naming_its_field(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, change: dict[str, Any], loc: list[str]
) -> None:
    response = await api.put("/v1/risk/limits", json=LIMIT | change, headers=_h(keys.admin))
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["loc"] for e in problem["errors"]] == [loc]
    assert store.risk_limits() == []


async def test_a_limit_is_removed_by_an_admin(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    await _limit(api, keys)
    params = {"route_id": ROUTE, "denom": "upj"}
    gone = await api.delete("/v1/risk/limits", params=params, headers=_h(keys.admin))
    assert gone.status_code == 204
    assert store.risk_limits() == []
    again = await api.delete("/v1/risk/limits", params=params, headers=_h(keys.admin))
    assert_problem(again, 404, "not-found")


async def _policy(api: httpx.AsyncClient, keys: Keys, action: str) -> None:
    rules = [{"name": "no-upj", "kind": "denom", "action": action, "mode": "deny",
              "values": ["upj"]}]  # fmt: skip
    response = await api.put(
        f"/v1/routes/{ROUTE}/policy", json={"rules": rules}, headers=_h(keys.admin)
    )
    assert response.status_code == 200, response.text


async def test_a_payload_policy_holds_a_transfer_at_creation_for_review_and_audits_the_rule(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    await _policy(api, keys, "hold")
    response = await post(api, keys, body())
    assert response.status_code == 202, response.text
    held = response.json()
    assert held["state"] == TransferState.HELD
    assert held["hold"]["rule"] == f"policy:{ROUTE}/no-upj"
    assert held["hold"]["release_at"] is None  # only a supervisor releases it
    decisions, _ = store.audit_entries(action="policy.decision", subject_id=held["id"])
    assert [(e["after"]["verdict"], e["after"]["rule"]) for e in decisions] == [
        ("hold", f"policy:{ROUTE}/no-upj")
    ]


async def test_a_payload_policy_that_rejects_refuses_the_transfer_before_anything_is_sent(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    await _policy(api, keys, "reject")
    response = await post(api, keys, body())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["state"] == TransferState.REJECTED
    assert f"policy:{ROUTE}/no-upj" in created["reason"]
    assert store.action(created["id"], "source_submit") is None


async def test_a_limit_and_a_policy_both_firing_the_policys_review_hold_applies(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    await _limit(api, keys, {"route_id": ROUTE, "denom": "upj", "delay": {
        "threshold": "1", "seconds": 60}})  # fmt: skip
    await _policy(api, keys, "hold")
    held = (await post(api, keys, body())).json()
    # A review hold (no release time) is stricter than the limit's timed delay.
    assert held["hold"]["rule"] == f"policy:{ROUTE}/no-upj"


async def test_the_event_stream_shows_the_hold_and_the_owners_cancel(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: StepClock
) -> None:
    held = await _held(api, keys)

    def later() -> None:
        time.sleep(0.3)
        store.cancel_held(held["id"], "acme", "not needed any more", clock())

    worker = threading.Thread(target=later)
    worker.start()
    response = await asyncio.wait_for(api.get(f"/v1/transfers/{held['id']}/events"), 10)
    worker.join()
    events = [e for _, e in _events(response.text)]
    assert [e["state"] for e in events] == ["requested", "held", "rejected"]
    assert events[1]["reason"].startswith(f"held by route:{ROUTE}/window/upj: ")
    assert "released at" in events[1]["reason"]
    assert events[2]["reason"] == "cancelled by its owner: not needed any more"
