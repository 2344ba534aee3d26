"""The dashboard's transfer page of a held transfer: a line with the rule, the reason and the
release time; a supervisor (signed in, with the form's CSRF token) releases or rejects it
there, audited under its key; a client key may look but not act."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from core.records import RiskLimitRecord
from core.states import TransferState
from gateway.store import SqlStore
from relayer.risk.holds import screen
from tests.gateway.helpers import ROUTE, Keys
from tests.gateway.test_dashboard import login
from tests.store.helpers import new_transfer

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]


def _held(store: SqlStore, now: float, **limit: Any) -> str:
    store.put_risk_limit(RiskLimitRecord(ROUTE, "upjt", **limit), now)
    record, _ = store.create_transfer(new_transfer(route_id=ROUTE), now)
    (held,) = screen(store, [record], TransferState.REQUESTED, "api", now, recheck=300.0)
    assert held.state is TransferState.HELD
    return held.id


async def test_the_page_shows_the_hold_and_its_release_time(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    held = _held(store, clock.now, delay_threshold=1, delay_seconds=600)
    page = await api.get(f"/ui/transfers/{held}", headers={"X-API-Key": keys.client})
    assert page.status_code == 200
    line = re.search(r'<p class="hold" id="transfer-hold">(.*?)</p>', page.text, re.S)
    assert line is not None
    text = " ".join(line.group(1).split())
    assert f"route:{ROUTE}/delay/upjt" in text
    assert "large transfers wait 600 s" in text
    assert "released by itself at" in text
    assert "hold/release" not in page.text  # a client key sees no buttons


async def test_a_signed_in_supervisor_releases_it_from_the_page(
    api: httpx.AsyncClient, store: SqlStore, clock: Any
) -> None:
    held = _held(store, clock.now, max_amount=1)
    csrf = await login(api, store.create_api_key("sup", "supervisor", 1.0))
    page = await api.get(f"/ui/transfers/{held}")
    assert "waits for a supervisor" in page.text
    assert f'action="/ui/transfers/{held}/hold/release"' in page.text
    response = await api.post(
        f"/ui/transfers/{held}/hold/release", data={"csrf": csrf, "reason": "sender verified"}
    )
    assert response.status_code == 303, response.text
    assert store.transfer(held).state is TransferState.REQUESTED
    (entry,) = [e for e in store.audit_entries(subject_id=held)[0] if e["actor"] == "sup"]
    assert entry["reason"] == "released by a supervisor: sender verified (sup)"


async def test_a_supervisor_rejects_and_a_client_key_is_refused(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    held = _held(store, clock.now, max_amount=1)
    refused = await api.post(
        f"/ui/transfers/{held}/hold/reject",
        data={"reason": "no"},
        headers={"X-API-Key": keys.client},
    )
    assert refused.status_code == 403
    assert store.transfer(held).state is TransferState.HELD
    supervisor = store.create_api_key("sup", "supervisor", 1.0)
    response = await api.post(
        f"/ui/transfers/{held}/hold/reject",
        data={"reason": "sanctioned"},
        headers={"X-API-Key": supervisor},
    )
    assert response.status_code == 303, response.text
    assert store.transfer(held).state is TransferState.REJECTED
