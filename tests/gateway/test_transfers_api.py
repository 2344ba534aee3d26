"""``/v1/transfers`` against a real SqlStore: idempotency, bounds, journal, pages, SSE."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest

from adapters.pujiang.actions import TxSigner, build_signed_tx
from core.states import TransferState
from gateway.problems import PROBLEM_MEDIA_TYPE, problem_type
from gateway.store import SqlStore
from proofs.pujiang.codec import compute_tx_hash, decode_transaction
from tests.gateway.helpers import EVM, PJ, ROUTE, Keys

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

ALICE = TxSigner(bytes(range(32)))
SENDER = "0x" + ALICE.address().hex()
RECEIVER = "0x" + "ab" * 20


def signed_send(
    amount: int = 1000, receiver: str = RECEIVER, nonce: int = 0, timeout_height: int = 500
) -> bytes:
    args = [EVM.encode(), bytes.fromhex(receiver[2:]), b"upj", amount, timeout_height, 0]
    return build_signed_tx(ALICE, PJ, nonce, "bridge_send", args)


def body(**over: Any) -> dict[str, Any]:
    amount = int(over.pop("amount_int", 1000))
    base: dict[str, Any] = {
        "route_id": ROUTE,
        "kind": "asset",
        "sender": SENDER,
        "receiver": RECEIVER,
        "denom": "upj",
        "amount": str(amount),
        "timeout_height": 500,
        "signed_tx": "0x" + signed_send(amount).hex(),
    }
    base.update(over)
    return base


def post(api: httpx.AsyncClient, keys: Keys, payload: dict[str, Any], key: str = "k1") -> Any:
    return api.post(
        "/v1/transfers", json=payload, headers={"X-API-Key": keys.client, "Idempotency-Key": key}
    )


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["type"] == problem_type(code)
    assert problem["status"] == status
    assert {"title", "detail", "instance"} <= problem.keys()
    return problem


async def test_create_with_signed_tx_stores_requested_and_journals_raw_tx(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    raw = signed_send()
    response = await post(api, keys, body())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["state"] == TransferState.REQUESTED
    assert response.headers["location"] == f"/v1/transfers/{created['id']}"
    tx_hash = "0x" + compute_tx_hash(decode_transaction(raw)).hex()
    assert created["source_tx"] == tx_hash

    action = store.action(created["id"], "source_submit")
    assert action is not None
    assert action.kind == "raw_tx"
    assert action.payload["tx"] == "0x" + raw.hex()
    assert action.idempotency_key == "tx:" + tx_hash
    assert action.chain_id == PJ

    detail = (await api.get(f"/v1/transfers/{created['id']}")).json()
    assert detail["actions"][0]["step"] == "source_submit"
    assert detail["transactions"][0] == {"role": "source", "chain_id": None, "tx_hash": tx_hash}
    assert [h["state"] for h in detail["history"]] == ["requested"]


async def test_same_idempotency_key_and_body_returns_the_same_transfer_with_200(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    first = await post(api, keys, body())
    again = await post(api, keys, body())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    page, _ = store.list_transfers()
    assert len(page) == 1


async def test_same_idempotency_key_with_another_body_is_409(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    assert (await post(api, keys, body())).status_code == 201
    other = body(amount_int=999)
    assert_problem(await post(api, keys, other), 409, "conflict")


async def test_idempotency_keys_are_scoped_per_api_key(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    other_client = store.create_api_key("globex", "client", 2.0)
    assert (await post(api, keys, body(amount_int=5))).status_code == 201
    response = await api.post(
        "/v1/transfers",
        json=body(amount_int=6),
        headers={"X-API-Key": other_client, "Idempotency-Key": "k1"},
    )
    assert response.status_code == 201


async def test_same_signed_tx_under_another_key_is_the_same_transfer(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    first = await post(api, keys, body(), key="a")
    second = await post(api, keys, body(), key="b")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]


async def test_missing_idempotency_key_is_422_problem(api: httpx.AsyncClient, keys: Keys) -> None:
    response = await api.post("/v1/transfers", json=body(), headers={"X-API-Key": keys.client})
    problem = assert_problem(response, 422, "invalid-input")
    assert ["header", "Idempotency-Key"] in [e["loc"] for e in problem["errors"]]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"amount": "0"}, None),  # asset transfers move something
        ({"amount": str(2**256)}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": 5}, "amount"),  # a JSON number, not a decimal string
        ({"payload": "0x" + "00" * (16 * 1024 + 1), "kind": "message"}, "payload"),
        ({"payload": "0xabc"}, "payload"),  # odd length
        ({"receiver": "0x1234"}, "receiver"),
        ({"receiver": "0x" + "aB" * 20}, "receiver"),  # mixed case, not EIP-55
        ({"sender": "pj1notanaddress"}, "sender"),
        ({"route_id": "nope"}, "route_id"),
        ({"timeout_height": 0}, None),  # no timeout at all
        ({"from_account": "alice"}, None),  # both ways in at once
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_out_of_bounds_bodies_are_422_problems(
    api: httpx.AsyncClient, keys: Keys, override: dict[str, Any], field: str | None
) -> None:
    problem = assert_problem(await post(api, keys, body(**override)), 422, "invalid-input")
    if field is not None:
        assert field in {str(loc) for e in problem["errors"] for loc in e["loc"]}


async def test_largest_amount_below_2_256_is_accepted(api: httpx.AsyncClient, keys: Keys) -> None:
    response = await post(api, keys, body(amount_int=2**256 - 1))
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == str(2**256 - 1)


@pytest.mark.parametrize(
    ("tx", "code"),
    [
        (lambda: signed_send(amount=1), "invalid-input"),  # args differ from the body
        (
            lambda: TxSigner(b"\x07" * 32).sign(decode_transaction(signed_send()).body),
            "invalid-input",
        ),
        (lambda: signed_send()[:-1] + bytes([signed_send()[-1] ^ 1]), "bad-signature"),
        (lambda: b"\x01\x02\x03", "invalid-input"),
    ],
    ids=["other-args", "other-signer", "bad-signature", "garbage"],
)
async def test_signed_tx_must_be_the_senders_send_of_this_body(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, tx: Any, code: str
) -> None:
    response = await post(api, keys, body(signed_tx="0x" + tx().hex()))
    assert_problem(response, 422, code)
    assert store.list_transfers()[0] == []


async def test_unknown_transfer_is_404_problem(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/v1/transfers/tr_nothing"), 404, "not-found")


async def test_pages_are_stable_while_transfers_are_inserted(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    for i in range(5):
        assert (await post(api, keys, body(amount_int=10 + i), key=f"p{i}")).status_code == 201
    first = (await api.get("/v1/transfers", params={"limit": 2})).json()
    for i in range(3):  # newer transfers arrive while the client pages
        assert (await post(api, keys, body(amount_int=90 + i), key=f"n{i}")).status_code == 201
    seen = [t["amount"] for t in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await api.get("/v1/transfers", params={"limit": 2, "cursor": cursor})).json()
        seen += [t["amount"] for t in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["14", "13", "12", "11", "10"]


async def test_list_filters_by_status_and_chain_and_bounds_limit(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    made = (await post(api, keys, body())).json()
    store.transition(made["id"], TransferState.REQUESTED, TransferState.REJECTED, "policy", clock())
    assert len((await api.get("/v1/transfers", params={"status": "rejected"})).json()["items"]) == 1
    assert (await api.get("/v1/transfers", params={"status": "requested"})).json()["items"] == []
    assert len((await api.get("/v1/transfers", params={"chain": EVM})).json()["items"]) == 1
    assert (await api.get("/v1/transfers", params={"chain": "other"})).json()["items"] == []
    assert_problem(await api.get("/v1/transfers", params={"limit": 1000}), 422, "invalid-input")
    assert_problem(await api.get("/v1/transfers", params={"status": "lost"}), 422, "invalid-input")
    assert_problem(await api.get("/v1/transfers", params={"cursor": "@@"}), 422, "invalid-input")


def _events(text: str) -> list[tuple[int, dict[str, Any]]]:
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            found.append((int(fields["id"]), json.loads(fields["data"])))
    return found


async def test_event_stream_delivers_a_change_made_by_another_thread_and_ends(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    made = (await post(api, keys, body())).json()

    def later() -> None:
        time.sleep(0.3)
        store.transition(
            made["id"], TransferState.REQUESTED, TransferState.REJECTED, "policy", clock()
        )

    worker = threading.Thread(target=later)
    worker.start()
    response = await asyncio.wait_for(api.get(f"/v1/transfers/{made['id']}/events"), 10)
    worker.join()
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert [e["state"] for _, e in events] == ["requested", "rejected"]
    assert events[1][1]["reason"] == "policy"

    resumed = await api.get(
        f"/v1/transfers/{made['id']}/events", headers={"Last-Event-ID": str(events[0][0])}
    )
    assert [e["state"] for _, e in _events(resumed.text)] == ["rejected"]


async def test_event_stream_of_unknown_transfer_is_404_problem(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/v1/transfers/tr_none/events"), 404, "not-found")


async def test_a_signed_tx_of_deeply_nested_rlp_is_refused_not_a_crash(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    from tests.proofs.test_rlp_bounds import nested_lists

    deep = "0x" + nested_lists(20_000).hex()
    problem = assert_problem(await post(api, keys, body(signed_tx=deep)), 422, "invalid-input")
    assert "deeper than" in problem["detail"]
