"""The swap store (``SqlStore`` as ``core.swaps.SwapStore``) on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter

import pytest

from core.errors import Conflict, InvalidInput, InvalidTransition, LeaseLost, NotFound
from core.ids import Height
from core.records import ActionStatus
from core.states import SwapState
from core.swaps import LegState, NewSwap, NewSwapLeg, SwapStore
from core.types import ChainAction
from gateway.store import SqlStore
from proofs.htlc.errors import HashlockReused
from tests.store.helpers import A, B

S = SwapState
PREIMAGE = b"\x11" * 32


def new_swap(n: int = 0, *, preimage: bytes | None = None, **leg1: object) -> NewSwap:
    secret = hashlib.sha256(PREIMAGE + n.to_bytes(4, "big")).digest()
    leg_1 = NewSwapLeg(A, "ucny", 10**24, "0xalice-a", "0xbob-a", 2_000, refund_delegated=True)
    return NewSwap(
        hashlock=hashlib.sha256(secret).digest(),
        leg1=NewSwapLeg(**{**{f: getattr(leg_1, f) for f in leg_1.__slots__}, **leg1}),  # type: ignore[arg-type]
        leg2=NewSwapLeg(B, "native", 2**255, "0xbob-b", "0xalice-b", 1_000, claim_delegated=True),
        preimage=preimage,
    )


def test_sqlstore_is_a_swap_store(store: SqlStore) -> None:
    assert isinstance(store, SwapStore)


def test_create_swap_stores_both_legs_exactly(store: SqlStore) -> None:
    new = new_swap()
    record, created = store.create_swap(new, 1.0)
    assert created
    assert record.id.startswith("sw_")
    assert (record.state, record.reason, record.preimage) == (S.PROPOSED, "proposed", None)
    assert record.hashlock == new.hashlock
    l1, l2 = record.legs
    assert (l1.leg, l1.chain_id, l1.asset, l1.amount, l1.timelock) == (1, A, "ucny", 10**24, 2000)
    assert (l2.leg, l2.chain_id, l2.asset, l2.amount, l2.timelock) == (2, B, "native", 2**255, 1000)
    assert (l1.sender, l1.receiver, l2.sender, l2.receiver) == (
        "0xalice-a",
        "0xbob-a",
        "0xbob-b",
        "0xalice-b",
    )
    assert (l1.refund_delegated, l1.claim_delegated) == (True, False)
    assert (l2.refund_delegated, l2.claim_delegated) == (False, True)
    assert l1.state is l2.state is LegState.PENDING
    assert l1.hashlock == l2.hashlock == new.hashlock
    assert store.swap(record.id) == record
    assert store.swap_by_hashlock(new.hashlock) == record
    assert [h.state for h in store.swap_history(record.id)] == [S.PROPOSED]


def test_a_reused_hashlock_is_refused_whatever_the_first_swaps_state(store: SqlStore) -> None:
    first, _ = store.create_swap(new_swap(), 1.0)
    store.transition_swap(first.id, S.PROPOSED, S.REJECTED, "leg 1 never locked", 2.0)
    with pytest.raises(HashlockReused) as err:
        store.create_swap(new_swap(), 3.0)
    assert err.value.code == "htlc-hashlock-reused"
    assert err.value.details["swap_id"] == first.id
    assert len(store.list_swaps()[0]) == 1


def test_idempotency_key_returns_the_first_swap_or_conflicts(store: SqlStore) -> None:
    first, created = store.create_swap(new_swap(), 1.0, idempotency_key="k", request_hash=b"h")
    again, created_again = store.create_swap(
        new_swap(), 2.0, idempotency_key="k", request_hash=b"h"
    )
    assert created
    assert not created_again
    assert again == first
    with pytest.raises(Conflict):
        store.create_swap(new_swap(1), 3.0, idempotency_key="k", request_hash=b"other")


def test_the_preimage_is_kept_but_never_in_the_repr(store: SqlStore) -> None:
    record, _ = store.create_swap(new_swap(preimage=PREIMAGE), 1.0)
    assert record.preimage == PREIMAGE
    assert PREIMAGE.hex() not in repr(record)
    assert repr(PREIMAGE) not in repr(record)
    assert not record.preimage_public


def test_transition_swap_moves_state_and_legs_with_one_history_line(store: SqlStore) -> None:
    record, _ = store.create_swap(new_swap(), 1.0)
    moved = store.transition_swap(
        record.id,
        S.PROPOSED,
        S.INITIATOR_LOCKED,
        "leg 1 locked",
        2.0,
        legs={1: {"state": LegState.LOCKED, "lock_id": b"\x01" * 32, "lock_tx": b"\x02" * 32,
                  "lock_height": Height(7)}},
    )  # fmt: skip
    assert moved.state is S.INITIATOR_LOCKED
    assert moved.leg1.state is LegState.LOCKED
    assert (moved.leg1.lock_id, moved.leg1.lock_height) == (b"\x01" * 32, 7)
    assert moved.leg2.state is LegState.PENDING
    last = store.swap_history(record.id)[-1]
    assert (last.state, last.leg, last.tx_hash, last.chain_id) == (
        S.INITIATOR_LOCKED,
        1,
        b"\x02" * 32,
        A,
    )


def test_transition_swap_is_compare_and_set(store: SqlStore) -> None:
    record, _ = store.create_swap(new_swap(), 1.0)
    store.transition_swap(record.id, S.PROPOSED, S.INITIATOR_LOCKED, "locked", 2.0)
    with pytest.raises(InvalidTransition):  # stale expectation
        store.transition_swap(record.id, S.PROPOSED, S.INITIATOR_LOCKED, "again", 3.0)
    with pytest.raises(InvalidTransition):  # not in the table
        store.transition_swap(record.id, S.INITIATOR_LOCKED, S.COMPLETED, "skip", 3.0)
    with pytest.raises(NotFound):
        store.transition_swap("sw_missing", S.PROPOSED, S.REJECTED, "x", 3.0)


def test_a_leg_never_moves_backwards(store: SqlStore) -> None:
    record, _ = store.create_swap(new_swap(), 1.0)
    store.transition_swap(
        record.id, S.PROPOSED, S.INITIATOR_LOCKED, "l", 2.0, legs={1: {"state": LegState.LOCKED}}
    )
    store.transition_swap(
        record.id, S.INITIATOR_LOCKED, S.REFUNDED, "r", 3.0, legs={1: {"state": "refunded"}}
    )
    with pytest.raises(InvalidTransition):
        store.transition_swap(
            record.id, S.REFUNDED, S.REFUNDED, "x", 4.0, legs={1: {"state": "claimed"}}
        )
    assert store.swap(record.id).leg1.state is LegState.REFUNDED  # rolled back whole


def test_transition_swap_refuses_leg_terms(store: SqlStore) -> None:
    record, _ = store.create_swap(new_swap(), 1.0)
    with pytest.raises(InvalidInput):
        store.transition_swap(record.id, S.PROPOSED, S.PROPOSED, "x", 2.0, legs={1: {"amount": 1}})
    with pytest.raises(InvalidInput):
        store.transition_swap(record.id, S.PROPOSED, S.PROPOSED, "x", 2.0, legs={3: {}})


def test_same_state_transition_records_a_leg_change_and_a_preimage(store: SqlStore) -> None:
    record, _ = store.create_swap(new_swap(), 1.0)
    updated = store.transition_swap(
        record.id, S.PROPOSED, S.PROPOSED, "leg 2 locked early", 2.0,
        legs={2: {"state": LegState.LOCKED}}, preimage=PREIMAGE,
    )  # fmt: skip
    assert (updated.state, updated.leg2.state, updated.preimage) == (
        S.PROPOSED,
        LegState.LOCKED,
        PREIMAGE,
    )
    assert [h.reason for h in store.swap_history(record.id)][-1] == "leg 2 locked early"


def test_set_swap_preimage_is_idempotent_and_makes_the_swap_due(store: SqlStore) -> None:
    record, _ = store.create_swap(new_swap(), 1.0)
    store.note_swap(record.id, "waiting", 1.0, retry_at=500.0)
    got = store.set_swap_preimage(record.id, PREIMAGE, 5.0)
    assert (got.preimage, got.next_attempt_at) == (PREIMAGE, 5.0)
    assert store.set_swap_preimage(record.id, PREIMAGE, 6.0).preimage == PREIMAGE
    lines = [h.reason for h in store.swap_history(record.id)]
    assert lines.count("preimage delegated to the hub for claiming") == 1
    with pytest.raises(InvalidInput):
        store.set_swap_preimage(record.id, b"short", 7.0)


def test_list_swaps_filters_and_pages(store: SqlStore) -> None:
    ids = [store.create_swap(new_swap(i), float(i))[0].id for i in range(5)]
    store.transition_swap(ids[0], S.PROPOSED, S.REJECTED, "late", 10.0)
    page, cursor = store.list_swaps(limit=2)
    assert [r.id for r in page] == [ids[4], ids[3]]
    assert cursor is not None
    page2, _cursor2 = store.list_swaps(limit=2, after=cursor)
    assert [r.id for r in page2] == [ids[2], ids[1]]
    assert [r.id for r in store.list_swaps(state=S.REJECTED)[0]] == [ids[0]]
    assert len(store.list_swaps(chain=B)[0]) == 5
    assert store.list_swaps(chain=type(A)("chain-c"))[0] == []


def test_claim_due_swaps_leases_non_terminal_due_swaps(store: SqlStore) -> None:
    a, _ = store.create_swap(new_swap(1), 1.0)
    b, _ = store.create_swap(new_swap(2), 2.0)
    c, _ = store.create_swap(new_swap(3), 3.0)
    store.transition_swap(c.id, S.PROPOSED, S.REJECTED, "done", 3.5)
    store.note_swap(b.id, "wait", 4.0, retry_at=100.0)
    assert [r.id for r in store.claim_due_swaps("w1", 10.0, 30.0, 10)] == [a.id]
    assert store.claim_due_swaps("w2", 20.0, 30.0, 10) == []
    with pytest.raises(LeaseLost):
        store.transition_swap(a.id, S.PROPOSED, S.REJECTED, "x", 21.0, worker="w2")
    store.release_swap(a.id, "w1")
    assert [r.id for r in store.claim_due_swaps("w2", 200.0, 30.0, 10)] == [a.id, b.id]


def test_claim_due_swaps_takes_the_longest_waiting_first_not_the_oldest(store: SqlStore) -> None:
    old, _ = store.create_swap(new_swap(1), 1.0)
    new, _ = store.create_swap(new_swap(2), 2.0)
    store.note_swap(old.id, "watching", 5.0, retry_at=5.5)
    assert [r.id for r in store.claim_due_swaps("w1", 10.0, 30.0, 1)] == [new.id]


def test_concurrent_workers_never_lease_the_same_swap(store: SqlStore) -> None:
    for i in range(30):
        store.create_swap(new_swap(i), float(i))
    claims: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(name: str) -> None:
        for _ in range(10):
            for record in store.claim_due_swaps(name, 100.0, 60.0, 3):
                with lock:
                    claims[record.id] += 1

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claims) == 30
    assert set(claims.values()) == {1}


def test_the_swap_journal_records_once_and_marks_outcomes(store: SqlStore) -> None:
    record, _ = store.create_swap(new_swap(), 1.0)
    action = ChainAction("htlc.claim", {"args": [b"\x01" * 32, PREIMAGE]}, "claim:1")
    first = store.record_swap_action(record.id, "claim_leg1", A, action, 2.0)
    second = store.record_swap_action(record.id, "claim_leg1", A, action, 3.0)
    assert first == second
    assert first.transfer_id == record.id
    assert first.status is ActionStatus.RECORDED
    assert first.payload["args"][1] == PREIMAGE
    store.mark_swap_action(first.id, ActionStatus.SENT, tx_hash=b"\x09" * 32)
    got = store.swap_action(record.id, "claim_leg1")
    assert got is not None
    assert (got.status, got.tx_hash) == (ActionStatus.SENT, b"\x09" * 32)
    assert store.swap_action(record.id, "refund_leg1") is None
    with pytest.raises(NotFound):
        store.record_swap_action("sw_missing", "claim_leg1", A, action, 4.0)
    with pytest.raises(NotFound):
        store.mark_swap_action(10**9, ActionStatus.FAILED)
