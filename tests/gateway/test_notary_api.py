"""``/v1/notary``: work items for proven / timed-out packets, attestations, equivocation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from eth_account import Account

import gateway.routers.notary as notary_router
from core.ids import ChainId, Height, PacketId
from core.records import NewTransfer, TransferKind
from core.states import TransferState
from core.steps import Step
from core.types import ChainAction
from gateway.routers.notary import BatchWorkCache
from gateway.schemas.notary import BatchWorkOut
from gateway.store import SqlStore
from relayer.settings import RelayerSettings
from tests.gateway.helpers import EVM, PJ, ROUTE, Keys
from tests.gateway.test_transfers_api import assert_problem

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

NOTARY = Account.from_key(b"\x01" * 32)
OTHER = Account.from_key(b"\x02" * 32)
DIGEST = b"\xd1" * 32


def transfer_in(store: SqlStore, clock: Any, sequence: int, state: TransferState) -> str:
    new = NewTransfer(
        route_id=ROUTE,
        kind=TransferKind.ASSET,
        sender="0x" + "01" * 20,
        receiver="0x" + "02" * 20,
        denom="upj",
        amount=5,
        timeout_height=100,
        packet=PacketId(ChainId(PJ), ChainId(EVM), sequence),
        state=TransferState.SOURCE_FINAL,
        reason="seen on-chain",
    )
    record, _ = store.create_transfer(new, clock())
    nxt = TransferState.PROVEN if state is TransferState.PROVEN else TransferState.TIMED_OUT
    store.transition(
        record.id,
        TransferState.SOURCE_FINAL,
        nxt,
        "proven",
        clock(),
        source_tx=b"\x77" * 32,
        source_height=Height(42),
        source_position=(0, 3),
    )
    return record.id


def signed(account: Any, digest: bytes) -> str:
    sig = Account.unsafe_sign_hash(digest, account.key)
    return "0x" + sig.signature.hex().removeprefix("0x")


def attestation(
    transfer_id: str, digest: bytes = DIGEST, account: Any = NOTARY, kind: str = "delivery"
) -> dict[str, str]:
    return {
        "transfer_id": transfer_id,
        "notary": account.address,
        "kind": kind,
        "digest": "0x" + digest.hex(),
        "signature": signed(account, digest),
    }


async def test_work_items_list_proven_and_timed_out_packets_until_signed(
    app: Any, api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    app.state.relayer_settings = RelayerSettings(attestation="packet")
    proven = transfer_in(store, clock, 1, TransferState.PROVEN)
    timed_out = transfer_in(store, clock, 2, TransferState.TIMED_OUT)
    headers = {"X-API-Key": keys.notary}
    params = {"notary": NOTARY.address, "limit": 10}
    items = (await api.get("/v1/notary/requests", params=params, headers=headers)).json()
    by_id = {i["transfer_id"]: i for i in items}
    assert by_id[proven] == {
        "transfer_id": proven,
        "route_id": ROUTE,
        "source_chain": PJ,
        "dest_chain": EVM,
        "sequence": 1,
        "height": 42,
        "tx_hash": "0x" + "77" * 32,
        "position": [0, 3],
        "kind": "delivery",
    }
    assert by_id[timed_out]["kind"] == "nondelivery"

    response = await api.post("/v1/notary/attestations", json=attestation(proven), headers=headers)
    assert response.status_code == 200, response.text
    assert [s.notary for s in store.signatures(proven)] == [NOTARY.address.lower()]
    items = (await api.get("/v1/notary/requests", params=params, headers=headers)).json()
    assert [i["transfer_id"] for i in items] == [timed_out]
    other = {"notary": OTHER.address, "limit": 10}
    assert len((await api.get("/v1/notary/requests", params=other, headers=headers)).json()) == 2


async def test_a_hub_attesting_in_batches_owes_no_per_packet_delivery_statement(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    """Batch mode (the default): a proven packet is signed with its batch, so the
    per-packet work lists only non-deliveries (issue #15: notaries signed every packet
    twice, and each per-packet signature was a store write)."""
    transfer_in(store, clock, 1, TransferState.PROVEN)
    timed_out = transfer_in(store, clock, 2, TransferState.TIMED_OUT)
    headers = {"X-API-Key": keys.notary}
    params = {"notary": NOTARY.address, "limit": 10}
    items = (await api.get("/v1/notary/requests", params=params, headers=headers)).json()
    assert [(i["transfer_id"], i["kind"]) for i in items] == [(timed_out, "nondelivery")]


async def test_second_digest_for_one_packet_is_409_equivocation_with_evidence(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    proven = transfer_in(store, clock, 1, TransferState.PROVEN)
    headers = {"X-API-Key": keys.notary}
    assert (
        await api.post("/v1/notary/attestations", json=attestation(proven), headers=headers)
    ).status_code == 200
    same = await api.post("/v1/notary/attestations", json=attestation(proven), headers=headers)
    assert same.status_code == 200  # the same attestation again is harmless
    twin = attestation(proven, digest=b"\xd2" * 32)
    problem = assert_problem(
        await api.post("/v1/notary/attestations", json=twin, headers=headers), 409, "equivocation"
    )
    [evidence] = store.equivocations()
    assert problem["evidence_id"] == evidence.id
    assert (evidence.digest_a, evidence.digest_b) == (DIGEST, b"\xd2" * 32)


async def test_signature_of_another_key_is_rejected(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    proven = transfer_in(store, clock, 1, TransferState.PROVEN)
    forged = attestation(proven)
    forged["signature"] = signed(OTHER, DIGEST)
    response = await api.post(
        "/v1/notary/attestations", json=forged, headers={"X-API-Key": keys.notary}
    )
    assert_problem(response, 422, "bad-signature")
    assert store.signatures(proven) == []


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _high_s_twin(signature: str) -> str:
    """The malleated twin of a valid signature: (r, n - s, v flipped) recovers the same key."""
    raw = bytes.fromhex(signature[2:])
    s = SECP256K1_N - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([raw[64] ^ 1])).hex()


def _v_minus_27(signature: str) -> str:
    raw = bytes.fromhex(signature[2:])
    return "0x" + (raw[:64] + bytes([raw[64] - 27])).hex()


@pytest.mark.parametrize(
    ("malleate", "code"),
    [
        pytest.param(_high_s_twin, "quorum-high-s", id="high-s twin of a valid signature"),
        pytest.param(_v_minus_27, "quorum-bad-v", id="v 0/1 instead of 27/28"),
        pytest.param(lambda sig: sig[:-2], "invalid-input", id="64 bytes (the schema refuses)"),
    ],
)
async def test_intake_refuses_what_the_quorum_would_not_count(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any, malleate: Any, code: str
) -> None:
    """Intake and quorum share one recovery rule (low s, v 27/28): a twin is never stored."""
    proven = transfer_in(store, clock, 1, TransferState.PROVEN)
    body = attestation(proven)
    body["signature"] = malleate(body["signature"])
    headers = {"X-API-Key": keys.notary}
    assert_problem(await api.post("/v1/notary/attestations", json=body, headers=headers), 422, code)
    assert store.signatures(proven) == []
    valid = attestation(proven)
    accepted = await api.post("/v1/notary/attestations", json=valid, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert [s.signature.hex() for s in store.signatures(proven)] == [valid["signature"][2:]]


async def test_attestation_for_a_packet_in_the_wrong_state_is_409(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    proven = transfer_in(store, clock, 1, TransferState.PROVEN)
    nondelivery = attestation(proven, kind="nondelivery")
    response = await api.post(
        "/v1/notary/attestations", json=nondelivery, headers={"X-API-Key": keys.notary}
    )
    assert_problem(response, 409, "conflict")


async def test_attestation_for_unknown_transfer_is_404(api: httpx.AsyncClient, keys: Keys) -> None:
    response = await api.post(
        "/v1/notary/attestations", json=attestation("tr_none"), headers={"X-API-Key": keys.notary}
    )
    assert_problem(response, 404, "not-found")


# --- batches (issue #15) ------------------------------------------------------------------

BATCH_DIGEST = b"\xbd" * 32


def batch_of(store: SqlStore, clock: Any, sequences: list[int]) -> Any:
    ids = [transfer_in(store, clock, s, TransferState.PROVEN) for s in sequences]
    return store.create_batch(
        ROUTE, 0, 1, b"\xaa" * 32, BATCH_DIGEST, ids, clock(), hold_until=clock() + 60
    )


def batch_attestation(
    batch: str, digest: bytes = BATCH_DIGEST, account: Any = NOTARY, **changes: str
) -> dict[str, str]:
    body = {
        "batch_id": batch,
        "notary": account.address,
        "digest": "0x" + digest.hex(),
        "signature": signed(account, digest),
    }
    return {**body, **changes}


async def test_batches_owed_list_every_member_in_leaf_order_until_signed(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    batch = batch_of(store, clock, [11, 12, 13])
    headers = {"X-API-Key": keys.notary}
    params = {"notary": NOTARY.address, "limit": 4}
    (owed,) = (await api.get("/v1/notary/batches", params=params, headers=headers)).json()
    assert owed["batch_id"] == batch.id
    assert (owed["kind"], owed["epoch"], owed["size"]) == ("delivery", 1, 3)
    assert owed["root"] == "0x" + "aa" * 32
    assert [m["sequence"] for m in owed["members"]] == [11, 12, 13]
    assert {m["kind"] for m in owed["members"]} == {"delivery"}
    posted = await api.post(
        "/v1/notary/batch-attestations", json=batch_attestation(batch.id), headers=headers
    )
    assert posted.status_code == 200, posted.text
    assert posted.json() == {
        "batch_id": batch.id,
        "notary": NOTARY.address.lower(),
        "accepted": True,
    }
    again = await api.post(
        "/v1/notary/batch-attestations", json=batch_attestation(batch.id), headers=headers
    )
    assert again.json()["accepted"] is False  # counted once
    assert (await api.get("/v1/notary/batches", params=params, headers=headers)).json() == []


async def test_a_batch_answer_is_built_once_and_served_to_each_poll(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any, monkeypatch: Any
) -> None:
    """A batch's work never changes once assembled: notaries polling until they sign get
    the answer built the first time (issue #15: rebuilt per poll it cost the hub)."""
    built: list[str] = []
    real = notary_router._batch_work_out

    def counting(*args: Any) -> Any:
        work = real(*args)
        built.append(work.batch_id)
        return work

    monkeypatch.setattr(notary_router, "_batch_work_out", counting)
    first, second = batch_of(store, clock, [21, 22]), batch_of(store, clock, [23])
    headers = {"X-API-Key": keys.notary}
    params = {"notary": NOTARY.address, "limit": 4}
    answers = [
        (await api.get("/v1/notary/batches", params=params, headers=headers)).json()
        for _ in range(3)
    ]
    assert answers[0] == answers[1] == answers[2]
    assert [b["batch_id"] for b in answers[0]] == [first.id, second.id]
    assert sorted(built) == sorted([first.id, second.id])  # each built once for 3 polls


def test_the_batch_work_cache_keeps_the_most_recently_used() -> None:
    def work(batch_id: str) -> BatchWorkOut:
        return BatchWorkOut(
            batch_id=batch_id,
            route_id=ROUTE,
            source_chain="a",
            dest_chain="b",
            kind="delivery",
            epoch=1,
            size=0,
            root="0x",
            digest="0x",
            members=[],
        )

    cache = BatchWorkCache(kept=2)
    for batch_id in ("b1", "b2"):
        cache.put(work(batch_id))
    assert cache.get("b1") is not None  # b1 used: b2 is now the oldest
    cache.put(work("b3"))
    assert [cache.get(b) is not None for b in ("b1", "b2", "b3")] == [True, False, True]


@pytest.mark.parametrize("limit", [0, 17])
async def test_batches_owed_are_bounded(api: httpx.AsyncClient, keys: Keys, limit: int) -> None:
    response = await api.get(
        "/v1/notary/batches",
        params={"notary": NOTARY.address, "limit": limit},
        headers={"X-API-Key": keys.notary},
    )
    assert_problem(response, 422, "invalid-input")


BAD_BATCH_ATTESTATIONS = [
    # (the broken field, the body's change, status, problem code)
    ("digest", {"digest": b"\x01" * 32}, 422, "invalid-input"),
    ("signature", {"signature": "0x" + "11" * 65}, 422, None),
    ("signer", {"account": OTHER, "notary": NOTARY.address}, 422, "bad-signature"),
    ("batch", {"batch_id": "ba_unknown"}, 404, "not-found"),
]


@pytest.mark.parametrize(
    ("field", "change", "status", "code"),
    BAD_BATCH_ATTESTATIONS,
    ids=[b[0] for b in BAD_BATCH_ATTESTATIONS],
)
async def test_a_batch_attestation_with_one_broken_field_is_refused(
    api: httpx.AsyncClient,
    keys: Keys,
    store: SqlStore,
    clock: Any,
    field: str,
    change: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    batch = batch_of(store, clock, [21])
    changes = dict(change)
    digest = changes.pop("digest", BATCH_DIGEST)
    account = changes.pop("account", NOTARY)
    body = batch_attestation(batch.id, digest, account, **changes)
    response = await api.post(
        "/v1/notary/batch-attestations", json=body, headers={"X-API-Key": keys.notary}
    )
    assert response.status_code == status, (field, response.text)
    if code is not None:
        assert_problem(response, status, code)
    assert store.batch_signatures(batch.id) == []


async def test_an_error_ack_batch_names_where_each_member_failed_on_its_destination(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    failed, unknown = (transfer_in(store, clock, s, TransferState.PROVEN) for s in (31, 32))
    where = {"height": 77, "tx_hash": "0x" + "ee" * 32, "position": [1, 4]}
    action = ChainAction("failed_event", where, "failed:31")
    store.record_done_actions(
        [(failed, Step.FAILED, ChainId(EVM), action, b"\xee" * 32, Height(77))], clock()
    )
    store.create_batch(
        ROUTE, 3, 1, b"\xab" * 32, BATCH_DIGEST, [failed, unknown], clock(), hold_until=clock()
    )
    params = {"notary": NOTARY.address, "limit": 4}
    (owed,) = (
        await api.get("/v1/notary/batches", params=params, headers={"X-API-Key": keys.notary})
    ).json()
    assert owed["kind"] == "error_ack"
    assert [m["failure"] for m in owed["members"]] == [where, None]  # none recorded: null


async def test_a_timed_out_packet_in_a_nondelivery_batch_is_signed_with_its_batch_only(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore, clock: Any
) -> None:
    batched, alone = (transfer_in(store, clock, s, TransferState.TIMED_OUT) for s in (41, 42))
    store.create_batch(ROUTE, 1, 1, b"\xac" * 32, BATCH_DIGEST, [batched], clock(), hold_until=0)
    headers = {"X-API-Key": keys.notary}
    params = {"notary": NOTARY.address, "limit": 50}
    items = (await api.get("/v1/notary/requests", params=params, headers=headers)).json()
    assert [(i["transfer_id"], i["kind"]) for i in items] == [(alone, "nondelivery")]
    batches = await api.get("/v1/notary/batches", params=params | {"limit": 4}, headers=headers)
    (owed,) = batches.json()
    assert [m["transfer_id"] for m in owed["members"]] == [batched]
    assert owed["members"][0]["kind"] == "nondelivery"
