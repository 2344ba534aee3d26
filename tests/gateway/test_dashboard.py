"""The operator dashboard over ASGI: who sees, who acts, search, escaping, the session cookie.

Real store (SQLite file), real app, no browser: ``tests/e2e/test_dashboard_browser.py``
drives the pages in Chromium. Keys: ``client`` stands for a read key (any known key
reads the dashboard), ``admin`` acts.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.ids import ChainId, Height, PacketId
from core.records import (
    ClientRecord,
    NewTransfer,
    RouteStatusRecord,
    SignatureRecord,
    TransferKind,
)
from core.states import TransferState
from gateway.sessions import COOKIE
from gateway.store import SqlStore
from tests.gateway.helpers import EVM, PJ, ROUTE, Keys
from tests.store.test_swaps import new_swap

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

PAGES = [
    "/ui",
    "/ui/chains",
    "/ui/routes",
    "/ui/transfers",
    "/ui/swaps",
    "/ui/notaries",
    "/ui/relayers",
]
HOSTILE = '<script>alert("pwned")</script>'
SOURCE_TX = bytes.fromhex("ab" * 32)
DEST_TX = bytes.fromhex("cd" * 32)


@pytest.fixture
def seeded(store: SqlStore, clock: Any) -> dict[str, str]:
    """Two transfers (one with a hostile sender and reason), a client, a notary statement,
    a relayer's report: something on every page."""
    now = clock()
    plain, _ = store.create_transfer(
        NewTransfer(
            ROUTE,
            TransferKind.ASSET,
            "0x" + "aa" * 20,
            "0x" + "bb" * 20,
            "upj",
            5,
            packet=PacketId(ChainId(PJ), ChainId(EVM), 1),
            source_tx=SOURCE_TX,
        ),
        now,
    )
    store.transition(plain.id, TransferState.REQUESTED, TransferState.SOURCE_COMMITTED, "seen", now)
    store.transition(
        plain.id, TransferState.SOURCE_COMMITTED, TransferState.SOURCE_FINAL, "final", now
    )
    store.transition(plain.id, TransferState.SOURCE_FINAL, TransferState.PROVEN, "proven", now)
    store.transition(plain.id, TransferState.PROVEN, TransferState.ATTESTED, "quorum", now)
    store.transition(
        plain.id, TransferState.ATTESTED, TransferState.DEST_SUBMITTED, "sent", now, dest_tx=DEST_TX
    )
    hostile, _ = store.create_transfer(
        NewTransfer(ROUTE, TransferKind.MESSAGE, HOSTILE, "0x" + "cc" * 20, payload=b"<b>"), now
    )
    store.note(hostile.id, f"waiting: {HOSTILE}", now, retry_at=now + 600)
    store.add_signature(
        SignatureRecord(plain.id, "0x" + "99" * 20, b"\x01" * 32, b"\x02" * 65, now), ROUTE, 1
    )
    store.save_client(
        ClientRecord(
            ChainId(PJ),
            b"{}",
            {},
            Height(42),
            frozen=True,
            frozen_reason="fork at 41",
            updated_at=now,
            evidence=b'{"kind": "fork", "height": 41}',
        )
    )
    store.report_route_status(
        RouteStatusRecord(
            ROUTE, "relayer-7", "stopped", f"light client of {PJ} frozen", 40, now, now
        )
    )
    swap, _ = store.create_swap(new_swap(), now)
    return {"plain": plain.id, "hostile": hostile.id, "swap": swap.id}


async def login(api: httpx.AsyncClient, key: str) -> str:
    """Sign in through the form; the CSRF token the pages then carry."""
    response = await api.post("/ui/login", data={"api_key": key, "next": "/ui/routes"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ui/routes"
    page = await api.get("/ui/routes")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("path", [*PAGES, "/ui/transfers/tr_x", "/ui/swaps/sw_x"])
async def test_a_page_without_a_key_sends_the_browser_to_the_login_form(
    api: httpx.AsyncClient, path: str
) -> None:
    response = await api.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/login?next={path}"


@pytest.mark.parametrize("path", PAGES)
async def test_a_read_key_sees_every_page_with_a_strict_content_security_policy(
    api: httpx.AsyncClient, keys: Keys, seeded: dict[str, str], path: str
) -> None:
    response = await api.get(path, headers={"X-API-Key": keys.client})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    # no inline script: every <script> names its file
    assert re.findall(r"<script(?![^>]*\bsrc=)", response.text) == []
    assert keys.client not in response.text


async def test_the_pages_show_what_the_store_holds(
    api: httpx.AsyncClient, keys: Keys, seeded: dict[str, str]
) -> None:
    headers = {"X-API-Key": keys.client}
    chains = (await api.get("/ui/chains", headers=headers)).text
    assert "fork at 41" in chains
    assert "42" in chains
    assert "&#34;kind&#34;: &#34;fork&#34;" in chains
    routes = (await api.get("/ui/routes", headers=headers)).text
    assert "relayer-7" in routes
    assert f"light client of {PJ} frozen" in routes
    notaries = (await api.get("/ui/notaries", headers=headers)).text
    assert "0x" + "99" * 20 in notaries
    assert seeded["plain"] in notaries
    relayers = (await api.get("/ui/relayers", headers=headers)).text
    assert "relayer-7" in relayers
    assert seeded["hostile"] in relayers
    assert "1 waiting" in relayers
    detail = (await api.get(f"/ui/transfers/{seeded['plain']}", headers=headers)).text
    for text in ("dest_submitted", "quorum", "0x" + "ab" * 32, "0x" + "cd" * 32, "0x" + "99" * 20):
        assert text in detail
    swaps = (await api.get("/ui/swaps", headers=headers)).text
    assert f"/ui/swaps/{seeded['swap']}" in swaps
    assert "ucny on chain-a" in swaps
    swap = (await api.get(f"/ui/swaps/{seeded['swap']}", headers=headers)).text
    assert "0xalice-a → 0xbob-a" in swap
    assert "proposed" in swap
    missing = await api.get("/ui/transfers/tr_none", headers=headers)
    assert missing.status_code == 404
    assert "no transfer" in missing.text


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ("0x" + "ab" * 32, {"plain"}),  # the source transaction
        ("CD" * 32, {"plain"}),  # the destination transaction, any case, no 0x
        ("0x" + "AA" * 20, {"plain"}),  # the sender, another case
        ("0x" + "cc" * 20, {"hostile"}),  # a receiver
        (HOSTILE, {"hostile"}),  # an address as typed, however odd
        ("0x" + "ee" * 32, set()),
    ],
)
async def test_search_finds_transfers_by_transaction_hash_or_address(
    api: httpx.AsyncClient, keys: Keys, seeded: dict[str, str], query: str, finds: set[str]
) -> None:
    response = await api.get(
        "/ui/transfers", params={"q": query}, headers={"X-API-Key": keys.client}
    )
    assert response.status_code == 200
    shown = {name for name, tid in seeded.items() if f"/ui/transfers/{tid}" in response.text}
    assert shown == finds


async def test_search_by_id_finds_the_transfer(
    api: httpx.AsyncClient, keys: Keys, seeded: dict[str, str]
) -> None:
    response = await api.get(
        "/ui/transfers", params={"q": seeded["hostile"]}, headers={"X-API-Key": keys.client}
    )
    assert f"/ui/transfers/{seeded['hostile']}" in response.text
    assert f"/ui/transfers/{seeded['plain']}" not in response.text


@pytest.mark.parametrize("path", ["/ui/transfers", "/ui/relayers", "/ui/transfers/{hostile}"])
async def test_hostile_strings_are_shown_as_text_never_as_markup(
    api: httpx.AsyncClient, keys: Keys, seeded: dict[str, str], path: str
) -> None:
    response = await api.get(path.format(**seeded), headers={"X-API-Key": keys.client})
    assert response.status_code == 200
    assert HOSTILE not in response.text
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in response.text


async def test_login_with_an_unknown_key_is_refused_and_sets_no_cookie(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/ui/login", data={"api_key": "pjgw_nobody"})
    assert response.status_code == 401
    assert "not valid" in response.text
    assert "pjgw_nobody" not in response.text
    assert COOKIE not in response.headers.get("set-cookie", "")


async def test_login_sets_an_httponly_strict_cookie_that_never_shows_the_key(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    response = await api.post("/ui/login", data={"api_key": keys.client, "next": "//evil.example"})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui"  # no open redirect
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    assert keys.client not in cookie
    assert (await api.get("/ui")).status_code == 200


async def test_a_cross_site_login_post_is_refused(api: httpx.AsyncClient, keys: Keys) -> None:
    response = await api.post(
        "/ui/login", data={"api_key": keys.admin}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert COOKIE not in response.headers.get("set-cookie", "")


async def test_a_read_key_cannot_act(api: httpx.AsyncClient, keys: Keys, store: SqlStore) -> None:
    by_header = await api.post(f"/ui/routes/{ROUTE}/disable", headers={"X-API-Key": keys.client})
    assert by_header.status_code == 403
    assert "needs admin" in by_header.text
    csrf = await login(api, keys.client)
    assert "Pause (disable)" not in (await api.get("/ui/routes")).text  # no button either
    by_session = await api.post(f"/ui/routes/{ROUTE}/disable", data={"csrf": csrf})
    assert by_session.status_code == 403
    assert store.route(ROUTE).enabled


async def test_an_action_without_a_key_is_401(api: httpx.AsyncClient, store: SqlStore) -> None:
    response = await api.post(f"/ui/routes/{ROUTE}/disable")
    assert response.status_code == 401
    assert store.route(ROUTE).paused_reason is None


async def test_admin_pauses_and_resumes_a_route_through_the_forms(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    csrf = await login(api, keys.admin)
    paused = await api.post(f"/ui/routes/{ROUTE}/disable", data={"csrf": csrf})
    assert paused.status_code == 303
    assert store.route(ROUTE).paused_reason == "paused from the dashboard by ops"
    assert "Resume" in (await api.get("/ui/routes")).text
    entries, _ = store.audit_entries(action="route.pause")
    assert [e["actor"] for e in entries] == ["ops"]  # the audit log names the operator
    resumed = await api.post(f"/ui/routes/{ROUTE}/enable", data={"csrf": csrf})
    assert resumed.status_code == 303
    assert store.route(ROUTE).paused_reason is None


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
async def test_an_admin_session_form_without_its_csrf_token_is_refused(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, csrf: str | None
) -> None:
    await login(api, keys.admin)
    data = {} if csrf is None else {"csrf": csrf}
    response = await api.post(f"/ui/routes/{ROUTE}/disable", data=data)
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert store.route(ROUTE).paused_reason is None


async def test_admin_retry_makes_a_waiting_transfer_due_now(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, seeded: dict[str, str], clock: Any
) -> None:
    waiting = seeded["hostile"]
    assert store.transfer(waiting).next_attempt_at > clock.now
    response = await api.post(f"/ui/transfers/{waiting}/retry", headers={"X-API-Key": keys.admin})
    assert response.status_code == 303
    record = store.transfer(waiting)
    assert record.next_attempt_at <= clock.now
    assert record.attempts == 0
    entries, _ = store.audit_entries(subject_id=waiting, action="transfer.retry_now")
    assert [e["actor"] for e in entries] == ["ops"]  # audited, naming the operator


async def test_the_session_cookie_reads_the_event_stream_but_never_writes_the_api(
    app: FastAPI, api: httpx.AsyncClient, keys: Keys, seeded: dict[str, str]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"require_read_key": True})
    assert (await api.get(f"/v1/transfers/{seeded['plain']}")).status_code == 401
    await login(api, keys.admin)
    assert (await api.get(f"/v1/transfers/{seeded['plain']}")).status_code == 200
    route = {"route_id": "via-cookie", "source": PJ, "destination": EVM}
    assert (await api.post("/v1/routes", json=route)).status_code == 401


async def test_a_logged_out_or_tampered_session_is_no_session(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    await login(api, keys.client)
    sealed = api.cookies[COOKIE]
    api.cookies.clear()
    tampered = await api.get("/ui", headers={"Cookie": f"{COOKIE}={sealed[:-4]}AAAA"})
    assert tampered.status_code == 303
    csrf = await login(api, keys.client)
    assert (await api.post("/ui/logout", data={"csrf": csrf})).status_code == 303
    assert COOKIE not in api.cookies
    assert (await api.get("/ui")).status_code == 303


async def test_the_dashboard_is_not_in_the_openapi_document(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/ui")]


async def test_the_live_update_script_is_served_by_the_hub(api: httpx.AsyncClient) -> None:
    response = await api.get("/ui/static/live.js")
    assert response.status_code == 200
    assert "EventSource" in response.text
    assert "innerHTML" not in response.text


async def test_a_route_a_breaker_paused_shows_the_breakers_reason_and_an_admin_resumes_it(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    store.trip_breaker(ROUTE, "failure_rate", "5 of the last 5 deliveries failed", 1.0)
    csrf = await login(api, keys.admin)
    page = (await api.get("/ui/routes")).text
    assert "breaker failure_rate: 5 of the last 5 deliveries failed" in page
    assert "Resume" in page
    resumed = await api.post(f"/ui/routes/{ROUTE}/enable", data={"csrf": csrf})
    assert resumed.status_code == 303
    assert store.route(ROUTE).paused_reason is None
    entries, _ = store.audit_entries(subject="route", subject_id=ROUTE)
    assert [(e["action"], e["actor"]) for e in entries if e["action"] != "route.register"] == [
        ("route.pause", "breaker:failure_rate"),
        ("route.resume", "ops"),
    ]
