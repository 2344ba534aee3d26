"""``/v1/swaps`` against the real app on a real SqlStore (SQLite) and the rules of ``proofs.htlc``.

The chains are registered in the store with the settings an operator would
give; the timing figures the API uses come from those settings
(``chain_timing()``), and the expectations here are computed from the same
figures with ``proofs.htlc.timing``, so a test fails when the API and the
rules disagree.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.evm.settings import EvmChainSettings
from adapters.pujiang.settings import PujiangSettings
from core.ids import ChainId
from core.records import ChainRecord
from core.states import SwapState
from core.swaps import LegState
from gateway.problems import PROBLEM_MEDIA_TYPE, problem_type
from gateway.store import SqlStore
from proofs.htlc.timing import SwapTiming, compute_delta, compute_setup_time
from tests.gateway.helpers import Keys, StepClock

pytestmark = pytest.mark.anyio

PJ, EVM, EVM_NO_HTLC = "pj-swap", "anvil-swap", "anvil-plain"
HTLC_ADDRESS = "0x" + "5e" * 20
TOKEN = "0x" + "70" * 20
ALICE_PJ, BOB_PJ = "0x" + "a1" * 20, "0x" + "b0" * 20
ALICE_EVM, BOB_EVM = "0x" + "a2" * 20, "0x" + "b2" * 20
# As a chains file gives them: the chain id is the table's name, not a setting.
PJ_SETTINGS: dict[str, Any] = {"url": "http://pj.invalid"}
EVM_SETTINGS: dict[str, Any] = {
    "rpc_url": "http://anvil.invalid",
    "evm_chain_id": 31337,
    "htlc_address": HTLC_ADDRESS,
    "confirmations": 2,
}


@pytest.fixture
def swap_chains(store: SqlStore) -> None:
    store.upsert_chain(ChainRecord(ChainId(PJ), "pujiang", dict(PJ_SETTINGS)))
    store.upsert_chain(ChainRecord(ChainId(EVM), "evm", dict(EVM_SETTINGS)))
    plain = {**EVM_SETTINGS, "htlc_address": None}
    store.upsert_chain(ChainRecord(ChainId(EVM_NO_HTLC), "evm", plain))


def timing() -> SwapTiming:
    """What the hub must use for a pj -> anvil swap: both chains' own figures."""
    return SwapTiming(
        PujiangSettings(**PJ_SETTINGS, chain_id=PJ).chain_timing(),
        EvmChainSettings(**EVM_SETTINGS, chain=EVM).chain_timing(),
    )


def new_secret() -> tuple[bytes, str]:
    preimage = secrets.token_bytes(32)
    return preimage, "0x" + hashlib.sha256(preimage).hexdigest()


def body(hashlock: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "leg1": {
            "chain_id": PJ,
            "sender": ALICE_PJ,
            "receiver": BOB_PJ,
            "asset": "upj",
            "amount": "1000",
        },
        "leg2": {
            "chain_id": EVM,
            "sender": BOB_EVM,
            "receiver": ALICE_EVM,
            "asset": TOKEN,
            "amount": "5000",
        },
        "hashlock": hashlock,
        "delegate": {"claim_leg2": True},
    }
    for key, value in over.items():
        if key in ("leg1", "leg2", "delegate"):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def post(
    api: httpx.AsyncClient, keys: Keys, payload: dict[str, Any], key: str | None = None
) -> Any:
    headers = {"X-API-Key": keys.client, "Idempotency-Key": key or secrets.token_hex(8)}
    return api.post("/v1/swaps", json=payload, headers=headers)


def claim(api: httpx.AsyncClient, keys: Keys, swap_id: str, preimage: str) -> Any:
    return api.post(
        f"/v1/swaps/{swap_id}/claim",
        json={"preimage": preimage},
        headers={"X-API-Key": keys.client},
    )


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["type"] == problem_type(code)
    assert problem["status"] == status
    assert {"title", "detail", "instance"} <= problem.keys()
    return problem


async def created_swap(api: httpx.AsyncClient, keys: Keys, **over: Any) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    preimage, hashlock = new_secret()
    response = await post(api, keys, body(hashlock, **over))
    assert response.status_code == 201, response.text
    return response.json(), preimage


# --- creation --------------------------------------------------------------------------------


@pytest.mark.usefixtures("swap_chains")
async def test_create_without_timelocks_computes_a_safe_pair_with_the_lock_allowance(
    api: httpx.AsyncClient, keys: Keys, clock: StepClock
) -> None:
    before = clock.now
    swap, _ = await created_swap(api, keys)
    leg1, leg2 = swap["legs"]
    delta, setup = compute_delta(timing()), compute_setup_time(timing())
    assert swap["state"] == SwapState.PROPOSED
    assert swap["delta_seconds"] == delta
    assert leg1["timelock"] - leg2["timelock"] == delta
    allowance = math.ceil(timing().policy.lock_allowance_seconds)
    assert leg2["timelock"] == math.ceil(before + 0.001) + setup + allowance
    assert (leg1["state"], leg2["state"]) == (LegState.PENDING, LegState.PENDING)


@pytest.mark.usefixtures("swap_chains")
async def test_create_stores_both_legs_terms_and_delegations_as_given(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: StepClock
) -> None:
    t2 = int(clock.now) + compute_setup_time(timing()) + 100
    t1 = t2 + compute_delta(timing()) + 50
    preimage, hashlock = new_secret()
    payload = body(
        hashlock,
        leg1={"timelock": t1, "sender": ALICE_PJ.upper().replace("0X", "0x")},
        leg2={"timelock": t2, "asset": "native"},
        delegate={"claim_leg1": False, "refund_leg2": False},
    )
    response = await post(api, keys, payload)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/swaps/{created['id']}"

    stored = store.swap(created["id"])
    assert stored.hashlock == hashlib.sha256(preimage).digest()
    assert (stored.leg1.timelock, stored.leg2.timelock) == (t1, t2)
    assert (stored.leg1.chain_id, stored.leg2.chain_id) == (PJ, EVM)
    assert stored.leg1.sender == ALICE_PJ  # normalized to lower case
    assert (stored.leg1.asset, stored.leg1.amount) == ("upj", 1000)
    assert (stored.leg2.asset, stored.leg2.amount) == ("native", 5000)
    assert (stored.leg1.claim_delegated, stored.leg1.refund_delegated) == (False, True)
    assert (stored.leg2.claim_delegated, stored.leg2.refund_delegated) == (True, False)
    assert stored.preimage is None  # the secret never comes with a proposal


@pytest.mark.usefixtures("swap_chains")
async def test_create_refuses_a_preimage_in_the_proposal(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    preimage, hashlock = new_secret()
    response = await post(api, keys, {**body(hashlock), "preimage": "0x" + preimage.hex()})
    problem = assert_problem(response, 422, "invalid-input")
    assert preimage.hex() not in response.text
    assert ["body", "preimage"] in [e["loc"] for e in problem["errors"]]


@pytest.mark.usefixtures("swap_chains")
async def test_create_with_timelocks_closer_than_delta_is_unsafe_with_the_bounds_named(
    api: httpx.AsyncClient, keys: Keys, clock: StepClock
) -> None:
    delta = compute_delta(timing())
    t2 = int(clock.now) + compute_setup_time(timing()) + 100
    t1 = t2 + delta - 1
    _, hashlock = new_secret()
    response = await post(api, keys, body(hashlock, leg1={"timelock": t1}, leg2={"timelock": t2}))
    problem = assert_problem(response, 422, "htlc-unsafe-timelocks")
    assert (problem["delta"], problem["min_t1"], problem["max_t2"]) == (
        delta,
        t2 + delta,
        t1 - delta,
    )


@pytest.mark.usefixtures("swap_chains")
async def test_create_with_t2_earlier_than_t1_is_unsafe(
    api: httpx.AsyncClient, keys: Keys, clock: StepClock
) -> None:
    t1 = int(clock.now) + compute_setup_time(timing()) + 100
    _, hashlock = new_secret()
    payload = body(hashlock, leg1={"timelock": t1}, leg2={"timelock": t1 + 3600})
    assert_problem(await post(api, keys, payload), 422, "htlc-unsafe-timelocks")


@pytest.mark.usefixtures("swap_chains")
async def test_create_with_t2_too_soon_to_lock_and_claim_is_out_of_range(
    api: httpx.AsyncClient, keys: Keys, clock: StepClock
) -> None:
    t2 = int(clock.now) + compute_setup_time(timing()) - 5
    t1 = t2 + compute_delta(timing())
    _, hashlock = new_secret()
    response = await post(api, keys, body(hashlock, leg1={"timelock": t1}, leg2={"timelock": t2}))
    problem = assert_problem(response, 422, "htlc-timelock-out-of-range")
    assert problem["min_t2"] >= t2 + 5


@pytest.mark.usefixtures("swap_chains")
async def test_create_with_only_one_timelock_is_invalid_input(
    api: httpx.AsyncClient, keys: Keys, clock: StepClock
) -> None:
    _, hashlock = new_secret()
    payload = body(hashlock, leg1={"timelock": int(clock.now) + 10_000})
    assert_problem(await post(api, keys, payload), 422, "invalid-input")


@pytest.mark.usefixtures("swap_chains")
async def test_create_with_a_hashlock_already_used_is_409_hashlock_reused(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    _, hashlock = new_secret()
    assert (await post(api, keys, body(hashlock), key="first")).status_code == 201
    other_terms = body(hashlock, leg1={"amount": "999"})
    assert_problem(await post(api, keys, other_terms, key="second"), 409, "htlc-hashlock-reused")


@pytest.mark.usefixtures("swap_chains")
async def test_create_replayed_with_its_idempotency_key_returns_the_first_swap(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    _, hashlock = new_secret()
    payload = body(hashlock)
    first = await post(api, keys, payload, key="same")
    again = await post(api, keys, payload, key="same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    changed = body(hashlock, leg2={"amount": "1"})
    assert_problem(await post(api, keys, changed, key="same"), 409, "conflict")


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"leg1": {"chain_id": "nowhere"}}, "leg1.chain_id"),
        ({"leg2": {"chain_id": EVM_NO_HTLC}}, "leg2.chain_id"),
        ({"leg1": {"sender": "0x1234"}}, "leg1.sender"),
        ({"leg2": {"receiver": "0x" + "A2" * 19 + "a2"}}, "leg2.receiver"),  # bad EIP-55
        ({"leg2": {"asset": "TT"}}, "leg2.asset"),  # an EVM asset is native or an address
    ],
)
@pytest.mark.usefixtures("swap_chains")
async def test_create_with_one_bad_field_is_invalid_input_naming_it(
    api: httpx.AsyncClient, keys: Keys, over: dict[str, Any], field: str
) -> None:
    _, hashlock = new_secret()
    problem = assert_problem(await post(api, keys, body(hashlock, **over)), 422, "invalid-input")
    assert ["body", field] in [e["loc"] for e in problem["errors"]]


@pytest.mark.parametrize(
    "over",
    [
        {"leg2": {"chain_id": PJ}},  # both legs on one chain
        {"leg1": {"amount": "0"}},
        {"leg1": {"amount": "-1"}},
        {"hashlock": "0x" + "00" * 31},
        {"leg1": {"memo": "x"}},  # unknown field
    ],
)
@pytest.mark.usefixtures("swap_chains")
async def test_create_with_malformed_terms_is_invalid_input(
    api: httpx.AsyncClient, keys: Keys, over: dict[str, Any]
) -> None:
    _, hashlock = new_secret()
    payload = {**body(hashlock), **{k: v for k, v in over.items() if k == "hashlock"}}
    payload = body(payload["hashlock"], **{k: v for k, v in over.items() if k != "hashlock"})
    assert_problem(await post(api, keys, payload), 422, "invalid-input")


@pytest.mark.usefixtures("swap_chains")
async def test_create_with_sender_equal_to_receiver_is_invalid_terms(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    _, hashlock = new_secret()
    payload = body(hashlock, leg1={"receiver": ALICE_PJ})
    assert_problem(await post(api, keys, payload), 422, "htlc-invalid-terms")


@pytest.mark.usefixtures("swap_chains")
async def test_create_needs_a_client_key_and_an_idempotency_key(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    _, hashlock = new_secret()
    payload = body(hashlock)
    assert_problem(await api.post("/v1/swaps", json=payload), 401, "unauthorized")
    notary = {"X-API-Key": keys.notary, "Idempotency-Key": "n"}
    assert_problem(await api.post("/v1/swaps", json=payload, headers=notary), 403, "forbidden")
    no_idem = {"X-API-Key": keys.client}
    assert_problem(await api.post("/v1/swaps", json=payload, headers=no_idem), 422, "invalid-input")


# --- delegated claim -------------------------------------------------------------------------


@pytest.mark.usefixtures("swap_chains")
async def test_claim_with_the_right_preimage_is_kept_for_the_watchtower_and_never_echoed(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    swap, preimage = await created_swap(api, keys)
    assert swap["preimage_known"] is False
    response = await claim(api, keys, swap["id"], "0x" + preimage.hex())
    assert response.status_code == 202, response.text
    assert response.json()["preimage_known"] is True
    assert store.swap(swap["id"]).preimage == preimage
    detail = await api.get(f"/v1/swaps/{swap['id']}")
    for text in (response.text, detail.text, caplog.text):
        assert preimage.hex() not in text.lower()


@pytest.mark.usefixtures("swap_chains")
async def test_claim_with_a_wrong_preimage_is_422_wrong_preimage_and_stores_nothing(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    swap, _ = await created_swap(api, keys)
    wrong = secrets.token_bytes(32)
    response = await claim(api, keys, swap["id"], "0x" + wrong.hex())
    assert_problem(response, 422, "htlc-wrong-preimage")
    assert wrong.hex() not in response.text.lower()
    assert wrong.hex() not in caplog.text.lower()
    assert store.swap(swap["id"]).preimage is None


@pytest.mark.parametrize("preimage", ["0x" + "ab" * 31, "0x" + "zz" * 32, "ab" * 32 + "00"])
@pytest.mark.usefixtures("swap_chains")
async def test_claim_with_a_malformed_preimage_is_422_without_quoting_it(
    api: httpx.AsyncClient, keys: Keys, preimage: str
) -> None:
    swap, _ = await created_swap(api, keys)
    response = await claim(api, keys, swap["id"], preimage)
    assert_problem(response, 422, "invalid-input")
    assert preimage not in response.text


@pytest.mark.usefixtures("swap_chains")
async def test_claim_when_the_initiator_did_not_delegate_it_is_409(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    swap, preimage = await created_swap(api, keys, delegate={"claim_leg2": False})
    assert_problem(await claim(api, keys, swap["id"], "0x" + preimage.hex()), 409, "conflict")
    assert store.swap(swap["id"]).preimage is None


@pytest.mark.usefixtures("swap_chains")
async def test_claim_after_leg2_timelock_is_409_claim_window_closed(
    api: httpx.AsyncClient, keys: Keys, clock: StepClock
) -> None:
    swap, preimage = await created_swap(api, keys)
    clock.now = swap["legs"][1]["timelock"]
    response = await claim(api, keys, swap["id"], "0x" + preimage.hex())
    assert_problem(response, 409, "htlc-claim-window-closed")


@pytest.mark.usefixtures("swap_chains")
async def test_claim_of_an_unknown_swap_is_404(api: httpx.AsyncClient, keys: Keys) -> None:
    assert_problem(await claim(api, keys, "sw_" + "0" * 32, "0x" + "11" * 32), 404, "not-found")


@pytest.mark.usefixtures("swap_chains")
async def test_claim_needs_a_client_key(api: httpx.AsyncClient, keys: Keys) -> None:
    swap, preimage = await created_swap(api, keys)
    response = await api.post(
        f"/v1/swaps/{swap['id']}/claim", json={"preimage": "0x" + preimage.hex()}
    )
    assert_problem(response, 401, "unauthorized")


# --- reading ---------------------------------------------------------------------------------


def move(store: SqlStore, swap_id: str, new: SwapState, legs: dict[int, dict[str, object]]) -> None:
    """What the watchtower records when it sees a leg change on a chain."""
    current = store.swap(swap_id).state
    store.transition_swap(swap_id, current, new, f"test: {new}", 1_800_000_000.0, legs=legs)


@pytest.mark.usefixtures("swap_chains")
async def test_get_shows_each_legs_state_and_every_chain_transaction(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    swap, _ = await created_swap(api, keys)
    lock1, lock2, claim2 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    move(
        store,
        swap["id"],
        SwapState.INITIATOR_LOCKED,
        {1: {"state": LegState.LOCKED, "lock_tx": lock1, "lock_id": b"\x09" * 32}},
    )
    move(
        store,
        swap["id"],
        SwapState.RESPONDER_LOCKED,
        {2: {"state": LegState.LOCKED, "lock_tx": lock2}},
    )
    move(
        store,
        swap["id"],
        SwapState.RESPONDER_CLAIMED,
        {2: {"state": LegState.CLAIMED, "claim_tx": claim2}},
    )

    response = await api.get(f"/v1/swaps/{swap['id']}")
    assert response.status_code == 200
    got = response.json()
    assert got["state"] == SwapState.RESPONDER_CLAIMED
    assert [leg["state"] for leg in got["legs"]] == [LegState.LOCKED, LegState.CLAIMED]
    assert got["legs"][0]["lock_id"] == "0x" + "09" * 32
    txs = {(t["role"], t["chain_id"], t["tx_hash"]) for t in got["transactions"]}
    assert txs == {
        ("leg1_lock", PJ, "0x" + lock1.hex()),
        ("leg2_lock", EVM, "0x" + lock2.hex()),
        ("leg2_claim", EVM, "0x" + claim2.hex()),
    }
    states = [line["state"] for line in got["history"]]
    assert states[0] == SwapState.PROPOSED
    assert states[-1] == SwapState.RESPONDER_CLAIMED


@pytest.mark.usefixtures("swap_chains")
async def test_get_of_an_unknown_swap_is_404(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/v1/swaps/sw_" + "0" * 32), 404, "not-found")


@pytest.mark.usefixtures("swap_chains")
async def test_list_pages_newest_first_with_a_cursor_and_filters_by_state(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    ids = [(await created_swap(api, keys))[0]["id"] for _ in range(5)]
    move(store, ids[0], SwapState.INITIATOR_LOCKED, {1: {"state": LegState.LOCKED}})

    first = (await api.get("/v1/swaps", params={"limit": 2})).json()
    assert [s["id"] for s in first["items"]] == ids[::-1][:2]
    seen = [s["id"] for s in first["items"]]
    cursor = first["next_cursor"]
    ids.append((await created_swap(api, keys))[0]["id"])  # created while paging: not repeated
    while cursor:
        page = (await api.get("/v1/swaps", params={"limit": 2, "cursor": cursor})).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[:5][::-1]

    locked = (await api.get("/v1/swaps", params={"status": "initiator_locked"})).json()
    assert [s["id"] for s in locked["items"]] == [ids[0]]
    by_chain = (await api.get("/v1/swaps", params={"chain": EVM, "limit": 200})).json()
    assert len(by_chain["items"]) == 6


@pytest.mark.usefixtures("swap_chains")
async def test_list_with_an_unknown_status_is_invalid_input(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/v1/swaps", params={"status": "done"}), 422, "invalid-input")


@pytest.mark.usefixtures("swap_chains")
async def test_leg2_check_without_chain_adapters_is_503_not_ready(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    swap, _ = await created_swap(api, keys)
    problem = assert_problem(await api.get(f"/v1/swaps/{swap['id']}/leg2-check"), 503, "not-ready")
    assert problem["failed"] == [PJ]
    assert_problem(await api.get("/v1/swaps/sw_" + "0" * 32 + "/leg2-check"), 404, "not-found")


# --- server-sent events ----------------------------------------------------------------------


def sse_events(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append(
                {
                    **json.loads(fields["data"]),
                    "sse_id": fields.get("id"),
                    "event": fields.get("event"),
                }
            )
    return events


@pytest.mark.usefixtures("swap_chains")
async def test_events_stream_every_history_line_until_a_terminal_state(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    swap, _ = await created_swap(api, keys)
    swap_id = swap["id"]

    async def settle() -> None:
        await asyncio.sleep(0.1)
        await asyncio.to_thread(
            move, store, swap_id, SwapState.INITIATOR_LOCKED, {1: {"state": LegState.LOCKED}}
        )
        await asyncio.to_thread(
            move,
            store,
            swap_id,
            SwapState.REFUNDED,
            {1: {"state": LegState.REFUNDED, "refund_tx": b"\x07" * 32}},
        )

    task = asyncio.create_task(settle())
    response = await asyncio.wait_for(api.get(f"/v1/swaps/{swap_id}/events"), timeout=10)
    await task
    assert response.status_code == 200
    events = sse_events(response.text)
    assert [e["state"] for e in events] == ["proposed", "initiator_locked", "refunded"]
    assert {e["event"] for e in events} == {"swap"}
    assert events[-1]["leg"] == 1
    assert events[-1]["tx_hash"] == "0x" + "07" * 32

    resumed = await api.get(
        f"/v1/swaps/{swap_id}/events", headers={"Last-Event-ID": events[0]["sse_id"]}
    )
    assert [e["state"] for e in sse_events(resumed.text)] == ["initiator_locked", "refunded"]


@pytest.mark.usefixtures("swap_chains")
async def test_events_of_an_unknown_swap_is_404(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/v1/swaps/sw_" + "0" * 32 + "/events"), 404, "not-found")


def test_problem_table_lists_every_htlc_error_type(tmp_path: Path) -> None:
    from gateway.problems import problem_table
    from proofs.htlc import errors

    types = {t for t, _, _ in problem_table()}
    for name in errors.__all__:
        assert problem_type(getattr(errors, name).code) in types
