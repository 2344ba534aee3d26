"""The supervisor role, ``/v1/audit`` and the operator tools over the API (a real SQLite store).

A supervisor reads everything (the audit log included) and may pause and resume a
route; every other mutating endpoint answers its key with 403 problem+json. Each
change made through the API lands in the audit log under the calling key's name
and the request's id.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from core.ids import Height
from core.states import TransferState
from gateway.app import create_app
from gateway.routes import api_routes
from gateway.settings import Settings
from gateway.store import SqlStore
from proofs.audit import is_checkpoint_signed_by, signer_address, validate_chain
from tests.gateway.helpers import BACK, EVM, PJ, ROUTE, Keys, StepClock
from tests.gateway.test_transfers_api import assert_problem, body, post

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

AUDIT_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SUPERVISOR_MAY = {
    ("POST", "/v1/routes/{route_id}/pause"),
    ("POST", "/v1/routes/{route_id}/resume"),
    ("POST", "/v1/risk/held/{transfer_id}/release"),
    ("POST", "/v1/risk/held/{transfer_id}/reject"),
    ("POST", "/v1/routes/{route_id}/policy/dry-run"),  # evaluates a sample, changes nothing
}
REASON = {"reason": "checking conservation"}


@pytest.fixture
def supervisor(store: SqlStore) -> str:
    return store.create_api_key("sup", "supervisor", 1.0)


def _h(key: str, **extra: str) -> dict[str, str]:
    return {"X-API-Key": key, **extra}


def _mutating(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path_format)
        for route in api_routes(app)
        for method in route.methods
        if method not in ("GET", "HEAD")
    )


async def test_a_supervisor_key_is_refused_by_every_mutating_endpoint_but_pause_resume_dry_run(
    app: FastAPI, api: httpx.AsyncClient, supervisor: str
) -> None:
    endpoints = _mutating(app)
    assert ("POST", "/v1/transfers") in endpoints  # the list is the app's, not ours
    assert ("POST", "/v1/chains") in endpoints
    refused = [e for e in endpoints if e not in SUPERVISOR_MAY]
    assert len(refused) >= 10
    for method, path in refused:
        url = path.format(
            transfer_id="tr_x",
            swap_id="sw_x",
            chain_id=PJ,
            route_id=ROUTE,
            seq=1,
            rotation_id="rot_x",
        )
        response = await api.request(
            method, url, json={}, headers=_h(supervisor, **{"Idempotency-Key": "s1"})
        )
        problem = assert_problem(response, 403, "forbidden")
        assert "supervisor" in problem["detail"], (method, path)


async def test_a_supervisor_pauses_and_resumes_a_route_recorded_under_its_name(
    api: httpx.AsyncClient, supervisor: str, store: SqlStore
) -> None:
    response = await api.post(
        f"/v1/routes/{ROUTE}/pause", json=REASON, headers=_h(supervisor, **{"X-Request-Id": "r-7"})
    )
    assert response.status_code == 200, response.text
    assert response.json()["paused_reason"] == "checking conservation"
    assert response.headers["x-request-id"] == "r-7"
    assert store.route(ROUTE).paused_reason == "checking conservation"
    listed = {r["route_id"]: r for r in (await api.get("/v1/routes")).json()}
    assert listed[ROUTE]["paused_reason"] == "checking conservation"
    assert listed[BACK]["paused_reason"] is None
    resumed = await api.post(
        f"/v1/routes/{ROUTE}/resume", json={"reason": "ok"}, headers=_h(supervisor)
    )
    assert resumed.json()["paused_reason"] is None
    again = await api.post(
        f"/v1/routes/{ROUTE}/resume", json={"reason": "ok"}, headers=_h(supervisor)
    )
    assert_problem(again, 409, "conflict")
    missing = await api.post("/v1/routes/nope/pause", json=REASON, headers=_h(supervisor))
    assert_problem(missing, 404, "not-found")
    entries, _ = store.audit_entries(subject="route", actor="sup")
    assert [(e["action"], e["role"]) for e in entries] == [
        ("route.pause", "supervisor"),
        ("route.resume", "supervisor"),
    ]
    assert entries[0]["request_id"] == "r-7"


async def test_the_audit_log_is_read_by_supervisors_and_admins_only(
    api: httpx.AsyncClient, supervisor: str, keys: Keys
) -> None:
    assert_problem(await api.get("/v1/audit"), 401, "unauthorized")
    assert_problem(await api.get("/v1/audit", headers=_h(keys.client)), 403, "forbidden")
    assert (await api.get("/v1/audit", headers=_h(keys.admin))).status_code == 200
    page = (await api.get("/v1/audit", headers=_h(supervisor))).json()
    assert page["head"]["seq"] == len(page["entries"]) > 0
    assert page["next"] is None


async def test_changes_through_the_api_name_the_key_and_the_request(
    api: httpx.AsyncClient, keys: Keys, supervisor: str
) -> None:
    created = await post(api, keys, body())
    assert created.status_code == 201, created.text
    transfer_id = created.json()["id"]
    request_id = created.headers["x-request-id"]
    assert len(request_id) == 16  # made for us (8 random bytes, hex): none was sent
    route = {"route_id": "extra", "source": PJ, "destination": EVM, "protocol": "notary"}
    registered = await api.post(
        "/v1/routes", json=route, headers=_h(keys.admin, **{"X-Request-Id": "bad id!"})
    )
    assert registered.status_code == 201, registered.text
    entries = (await api.get("/v1/audit", headers=_h(supervisor), params={"limit": 1000})).json()
    by_subject = {e["subject_id"]: e for e in entries["entries"]}
    made = by_subject[transfer_id]
    assert (made["action"], made["actor"], made["role"], made["request_id"]) == (
        "transfer.create", "acme", "client", request_id,
    )  # fmt: skip
    extra = by_subject["extra"]
    assert (extra["action"], extra["actor"]) == ("route.register", "ops")
    assert extra["request_id"] == registered.headers["x-request-id"] != "bad id!"


async def test_audit_filters_pages_and_exports_json_lines_that_verify(
    api: httpx.AsyncClient, keys: Keys, supervisor: str, store: SqlStore
) -> None:
    for i in range(3):
        assert (await post(api, keys, body(amount_int=100 + i), key=f"k{i}")).status_code == 201
    mine = await api.get("/v1/audit", headers=_h(supervisor), params={"actor": "acme", "limit": 2})
    first = mine.json()
    assert [e["actor"] for e in first["entries"]] == ["acme", "acme"]
    rest = await api.get(
        "/v1/audit",
        headers=_h(supervisor),
        params={"actor": "acme", "limit": 2, "after": first["next"]},
    )
    assert len(rest.json()["entries"]) >= 1
    assert rest.json()["entries"][0]["seq"] > first["entries"][-1]["seq"]
    for how in ({"params": {"format": "ndjson"}}, {"headers": {"Accept": "application/x-ndjson"}}):
        headers = {**_h(supervisor), **how.get("headers", {})}
        lines = await api.get("/v1/audit", headers=headers, params=how.get("params"))
        assert lines.headers["content-type"].startswith("application/x-ndjson")
        entries = [json.loads(line) for line in lines.text.splitlines()]
        assert validate_chain(entries).hash == store.audit_head()[1]
    bad = await api.get("/v1/audit", headers=_h(supervisor), params={"limit": 0})
    assert_problem(bad, 422, "invalid-input")


async def test_checkpoints_are_signed_by_the_hub_key_or_refused_without_one(
    api: httpx.AsyncClient, keys: Keys, supervisor: str, tmp_path: Path, store: SqlStore
) -> None:
    refused = await api.post("/v1/audit/checkpoints", headers=_h(keys.admin))
    problem = assert_problem(refused, 501, "not-implemented")
    assert AUDIT_KEY not in problem["detail"]
    signed_app = create_app(
        Settings(data_dir=tmp_path, audit_key=SecretStr(AUDIT_KEY)), store, clock=StepClock()
    )
    transport = httpx.ASGITransport(app=signed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as hub:
        made = await hub.post("/v1/audit/checkpoints", headers=_h(keys.admin))
        assert made.status_code == 201, made.text
        assert AUDIT_KEY not in made.text
        cp = made.json()
        listed = (await hub.get("/v1/audit/checkpoints", headers=_h(supervisor))).json()
    assert listed == [cp]
    assert cp["signer"] == "0x" + signer_address(bytes.fromhex(AUDIT_KEY)).hex()
    assert is_checkpoint_signed_by(
        cp["signer"], cp["seq"], bytes.fromhex(cp["hash"]), cp["at_ms"],
        bytes.fromhex(cp["signature"][2:]),
    )  # fmt: skip
    last = store.audit_entries(action="audit.checkpoint")[0][-1]
    assert last["after"]["seq"] == cp["seq"]


async def test_retry_now_and_reject_are_admin_tools_recorded_with_their_reason(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    created = (await post(api, keys, body())).json()
    later = 1_800_000_000.0  # the StepClock starts at 1.7e9
    store.note(created["id"], "node down", 2.0, retry_at=later)
    assert_problem(
        await api.post(
            f"/v1/transfers/{created['id']}/retry", json=REASON, headers=_h(keys.client)
        ),
        403,
        "forbidden",
    )
    retried = await api.post(
        f"/v1/transfers/{created['id']}/retry", json=REASON, headers=_h(keys.admin)
    )
    assert retried.status_code == 200, retried.text
    assert store.transfer(created["id"]).next_attempt_at < later
    assert store.transfer(created["id"]).attempts == 0
    empty = await api.post(
        f"/v1/transfers/{created['id']}/reject", json={"reason": ""}, headers=_h(keys.admin)
    )
    assert_problem(empty, 422, "invalid-input")
    rejected = await api.post(
        f"/v1/transfers/{created['id']}/reject", json={"reason": "sanctioned sender"},
        headers=_h(keys.admin),
    )  # fmt: skip
    assert rejected.json()["state"] == TransferState.REJECTED
    again = await api.post(
        f"/v1/transfers/{created['id']}/reject", json=REASON, headers=_h(keys.admin)
    )
    assert_problem(again, 409, "conflict")
    actions = [e["action"] for e in store.audit_entries(subject_id=created["id"])[0]]
    assert actions[-2:] == ["transfer.retry_now", "transfer.reject"]


async def test_a_chain_cursor_rewinds_within_its_floor_only(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    store.advance_cursor(f"chain:{PJ}", Height(90))
    rewound = await api.post(
        f"/v1/chains/{PJ}/cursor/rewind", json={"height": 20, **REASON}, headers=_h(keys.admin)
    )
    assert rewound.status_code == 200, rewound.text
    assert rewound.json() == {
        "chain_id": PJ, "cursor": f"chain:{PJ}", "old_height": 90, "new_height": 20, "floor": 0,
    }  # fmt: skip
    assert store.cursor(f"chain:{PJ}") == 20
    forward = await api.post(
        f"/v1/chains/{PJ}/cursor/rewind", json={"height": 50, **REASON}, headers=_h(keys.admin)
    )
    assert_problem(forward, 422, "invalid-input")
    nowhere = await api.post(
        "/v1/chains/nope/cursor/rewind", json={"height": 1, **REASON}, headers=_h(keys.admin)
    )
    assert_problem(nowhere, 404, "not-found")


async def test_equivocation_evidence_is_listed_for_supervisors(
    api: httpx.AsyncClient, supervisor: str, keys: Keys
) -> None:
    assert (await api.get("/v1/evidence/equivocations", headers=_h(supervisor))).json() == []
    assert_problem(
        await api.get("/v1/evidence/equivocations", headers=_h(keys.client)), 403, "forbidden"
    )
