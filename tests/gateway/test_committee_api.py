"""``/v1/committee`` and ``/v1/notary/rotations`` over ASGI with a real store: a dry run stores
nothing, a request is stored and audited under the calling key, one open rotation per chain,
and notaries' signatures are checked (recover to the notary, over the chain's digest) and kept
once. The chain is an adapter stand-in answering its committee (the rotations on real chains
are ``tests/flows/test_committee_rotation.py``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.evm.bridge import EvmBridge
from adapters.evm.certificate import BridgeDomain, compute_rotation_digest
from core.committee import CommitteeState
from core.ids import ChainId
from gateway.store import SqlStore
from proofs.notary.ecdsa import sign
from tests.fixtures.relay import NOTARIES, NOTARY_KEYS
from tests.gateway.helpers import EVM, ROUTE, Keys

pytestmark = pytest.mark.anyio
DOMAIN = BridgeDomain(31337, "0x" + "42" * 20)
NEW = sorted("0x" + c * 40 for c in "def")


class ChainStandIn:
    """What the API asks an adapter about its bridge's committee."""

    def __init__(self) -> None:
        self.current = CommitteeState(1, 2, tuple(sorted(NOTARIES)))

    async def committee_onchain(self) -> CommitteeState:
        return self.current

    def bridge(self) -> EvmBridge:
        return EvmBridge(ChainId(EVM), DOMAIN, 2, NOTARIES, 1)


@pytest.fixture
def hub(app: FastAPI, chains: None) -> FastAPI:
    app.state.adapters = {EVM: ChainStandIn()}
    return app


def body(**changes: Any) -> dict[str, Any]:
    return {"route_id": ROUTE, "members": NEW, "threshold": 2, **changes}


async def test_a_dry_run_answers_the_plan_and_stores_nothing(
    hub: FastAPI, api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    answer = await api.post(
        "/v1/committee/rotations", json=body(dry_run=True), headers={"X-API-Key": keys.admin}
    )
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    assert plan["chain"] == EVM
    assert plan["statement"] == {"epoch": 2, "threshold": 2, "members": NEW}
    assert plan["digest"] == "0x" + compute_rotation_digest(DOMAIN, 2, NEW, 2).hex()
    assert plan["current"]["epoch"] == 1
    assert plan["in_flight"] == {"transfers": 0, "batches": 0}
    assert plan["rotation"] is None
    assert store.rotations() == []


async def test_a_request_is_stored_audited_and_a_second_open_one_refused(
    hub: FastAPI, api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    admin = {"X-API-Key": keys.admin}
    answer = await api.post("/v1/committee/rotations", json=body(), headers=admin)
    assert answer.status_code == 200, answer.text
    rotation = answer.json()["rotation"]
    assert (rotation["state"], rotation["epoch"], rotation["requested_by"]) == (
        "draining",
        2,
        "ops",
    )
    (entry,), _ = store.audit_entries(action="rotation.request")
    assert (entry["actor"], entry["subject_id"]) == ("ops", rotation["id"])
    again = await api.post("/v1/committee/rotations", json=body(), headers=admin)
    assert again.status_code == 409
    listed = await api.get("/v1/committee/rotations", headers=admin)
    assert [r["id"] for r in listed.json()] == [rotation["id"]]
    status = await api.get("/v1/committee/status", headers=admin)
    (chain,) = status.json()
    assert chain["chain"] == EVM
    assert chain["live"]["epoch"] == 1
    assert chain["open_rotation"]["id"] == rotation["id"]


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"threshold": 1}, 422),  # not a majority of 3
        ({"members": [NEW[0], NEW[0], NEW[1]]}, 422),  # twice
        ({"route_id": "nope"}, 404),
        ({"side": "sideways"}, 422),
    ],
)
async def test_a_bad_request_is_refused(
    hub: FastAPI, api: httpx.AsyncClient, keys: Keys, changes: dict[str, Any], status: int
) -> None:
    answer = await api.post(
        "/v1/committee/rotations", json=body(**changes), headers={"X-API-Key": keys.admin}
    )
    assert answer.status_code == status, answer.text


async def test_only_an_admin_rotates(hub: FastAPI, api: httpx.AsyncClient, keys: Keys) -> None:
    for key in (keys.client, keys.notary):
        answer = await api.post("/v1/committee/rotations", json=body(), headers={"X-API-Key": key})
        assert answer.status_code == 403


async def test_notaries_get_the_rotation_and_their_signature_is_checked_and_kept_once(
    hub: FastAPI, api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    made = await api.post("/v1/committee/rotations", json=body(), headers={"X-API-Key": keys.admin})
    rotation_id = made.json()["rotation"]["id"]
    notary = {"X-API-Key": keys.notary}
    (work,) = (await api.get("/v1/notary/rotations", headers=notary)).json()
    digest = compute_rotation_digest(DOMAIN, 2, NEW, 2)
    assert work["digest"] == "0x" + digest.hex()
    assert (work["epoch"], work["members"]) == (2, NEW)
    path = f"/v1/notary/rotations/{rotation_id}/signatures"
    good = {
        "notary": NOTARIES[0],
        "digest": "0x" + digest.hex(),
        "signature": "0x" + sign(NOTARY_KEYS[0], digest).hex(),
    }
    first = await api.post(path, json=good, headers=notary)
    assert first.json()["accepted"] is True
    second = await api.post(path, json=good, headers=notary)
    assert second.json()["accepted"] is False
    other = b"\x09" * 32
    for broken, status in (
        ({"notary": NOTARIES[1]}, 422),  # does not recover to this notary
        (
            {"digest": "0x" + other.hex(), "signature": "0x" + sign(NOTARY_KEYS[0], other).hex()},
            422,
        ),
    ):
        answer = await api.post(path, json=good | broken, headers=notary)
        assert answer.status_code == status, answer.text
    unknown = await api.post("/v1/notary/rotations/nope/signatures", json=good, headers=notary)
    assert unknown.status_code == 404
    assert len(store.rotation_signatures(rotation_id)) == 1


async def test_a_notary_process_fetches_and_posts_a_rotation_over_http(
    hub: FastAPI, api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    from notary.rotations import RotationAttestation
    from notary.work import HttpWorkSource

    await api.post("/v1/committee/rotations", json=body(), headers={"X-API-Key": keys.admin})
    source = HttpWorkSource(
        "http://hub", keys.notary, NOTARIES[1], transport=httpx.ASGITransport(app=hub)
    )
    try:
        (work,) = await source.fetch_rotations()
        assert (work.chain_id, work.epoch, work.members) == (EVM, 2, tuple(NEW))
        digest = compute_rotation_digest(DOMAIN, 2, NEW, 2)
        signed = sign(NOTARY_KEYS[1], digest)
        await source.submit_rotation(
            RotationAttestation(work.rotation_id, NOTARIES[1], digest, signed)
        )
    finally:
        await source.aclose()
    (kept,) = store.rotation_signatures(work.rotation_id)
    assert (kept.notary, kept.signature) == (NOTARIES[1].lower(), signed)
