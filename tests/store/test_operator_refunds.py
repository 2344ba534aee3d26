"""Rejecting and force-refunding transfers whose packet left the source: never strand value.

A rejection of a transfer whose packet is escrowed on its source takes the refund path
(held with the decision ``rejected``, refunded once its timeout passes); a forced refund
moves a transfer to ``timed_out`` only once the destination passed its timeout and no
delivery can be on its way. Each refusal below breaks one condition (malleate table).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from core.errors import Conflict
from core.ids import ChainId
from core.states import TransferState
from core.types import ChainAction
from gateway.store import SqlStore
from gateway.store.journal import TRANSFER
from tests.store.helpers import HAPPY_PATH, ROUTE_AB, new_transfer

S = TransferState
TIMEOUT_HEIGHT = 100


def _on_source(store: SqlStore, upto: TransferState, sequence: int = 1, **kw: Any) -> str:
    """A transfer whose packet is recorded in source block 7, moved along the happy path."""
    t, _ = store.create_transfer(
        new_transfer(sequence=sequence, timeout_height=TIMEOUT_HEIGHT, **kw), 1.0
    )
    store.attach_source_event(t.id, "seen", 1.0, source_height=7, source_position=(0,))
    for old, new in itertools.pairwise(HAPPY_PATH[: HAPPY_PATH.index(upto) + 1]):
        store.transition(t.id, old, new, "", 1.0)
    return t.id


def _actions(store: SqlStore, transfer_id: str) -> list[str]:
    return [e["action"] for e in store.audit_entries(subject_id=transfer_id, limit=100)[0]]


def test_rejecting_a_proven_transfer_takes_the_refund_path(store: SqlStore) -> None:
    tid = _on_source(store, S.PROVEN)
    held = store.reject_transfer(tid, "receiver is sanctioned", 2.0)
    assert held.state is S.HELD
    assert held.hold is not None
    assert (held.hold.decision, held.hold.origin, held.hold.release_at) == (
        "rejected",
        "source",
        None,
    )
    assert "refunded once its timeout passes" in held.reason
    assert _actions(store, tid)[-1] == "transfer.reject"
    # Its timeout passed at the destination: the refund path, like any timed-out packet.
    forced = store.force_refund(tid, "timeout passed", 3.0, dest_height=TIMEOUT_HEIGHT,
                                dest_time_ms=0)  # fmt: skip
    assert forced.state is S.TIMED_OUT
    assert forced.hold is None


def test_rejecting_before_anything_left_the_source_rejects(store: SqlStore) -> None:
    t, _ = store.create_transfer(new_transfer(), 1.0)
    assert store.reject_transfer(t.id, "sender is sanctioned", 2.0).state is S.REJECTED


@pytest.mark.parametrize("state", [S.SOURCE_COMMITTED, S.SOURCE_FINAL, S.ATTESTED])
def test_rejecting_a_packet_on_the_source_but_not_provable_now_is_refused(
    store: SqlStore, state: TransferState
) -> None:
    tid = _on_source(store, state)
    with pytest.raises(Conflict, match="would strand the escrow"):
        store.reject_transfer(tid, "no", 2.0)
    assert store.transfer(tid).state is state


def _journal_delivery(store: SqlStore, tid: str) -> None:
    action = ChainAction("deliver", {}, f"deliver:{tid}")
    store.record_action(tid, "deliver", ChainId("chain-b"), action, 1.5)


REFUSALS: list[tuple[str, TransferState, Callable[[SqlStore, str], None], int, str]] = [
    ("timeout-not-passed", S.PROVEN, lambda s, t: None, TIMEOUT_HEIGHT - 1, "has not passed"),
    ("submitted", S.DEST_SUBMITTED, lambda s, t: None, TIMEOUT_HEIGHT, "forced only from"),
    ("delivery-journaled", S.ATTESTED, _journal_delivery, TIMEOUT_HEIGHT, "delivery was journaled"),
]


@pytest.mark.parametrize(
    ("state", "prepare", "height", "says"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_a_forced_refund_is_refused_when_a_delivery_may_still_happen(
    store: SqlStore,
    state: TransferState,
    prepare: Callable[[SqlStore, str], None],
    height: int,
    says: str,
) -> None:
    tid = _on_source(store, state)
    prepare(store, tid)
    with pytest.raises(Conflict, match=says):
        store.force_refund(tid, "stuck", 3.0, dest_height=height, dest_time_ms=0)
    assert store.transfer(tid).state is state


def test_a_transfer_without_a_timeout_is_never_force_refunded(store: SqlStore) -> None:
    t, _ = store.create_transfer(new_transfer(sequence=9), 1.0)
    store.attach_source_event(t.id, "seen", 1.0, source_height=7, source_position=(0,))
    for old, new in itertools.pairwise(HAPPY_PATH[:4]):
        store.transition(t.id, old, new, "", 1.0)
    with pytest.raises(Conflict, match="no timeout"):
        store.force_refund(t.id, "stuck", 3.0, dest_height=10**9, dest_time_ms=10**15)


def test_a_forced_refund_is_due_at_once_and_audited(store: SqlStore) -> None:
    tid = _on_source(store, S.ATTESTED)
    store.note(tid, "destination down", 2.0, retry_at=9_999.0)
    done = store.force_refund(tid, "route retired", 3.0, dest_height=TIMEOUT_HEIGHT,
                              dest_time_ms=0)  # fmt: skip
    assert (done.state, done.next_attempt_at, done.attempts) == (S.TIMED_OUT, 3.0, 0)
    entry = store.audit_entries(subject_id=tid, limit=100)[0][-1]
    assert entry["action"] == "transfer.force_refund"
    assert entry["subject"] == TRANSFER
    assert [c.id for c in store.claim_due("w", 3.0, 30.0, 10, route_id=ROUTE_AB)] == [tid]
