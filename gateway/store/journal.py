"""The one journal and the one history of the store, for transfers and swaps alike.

A transfer and a swap are both *subjects*: their chain actions are journaled in
the ``actions`` table (one row per subject and step, written before the chain
sees the action, marked with its outcome after) and their state changes and
notes are appended to the ``history`` table. Before this module the store had a
copy of each for swaps (``swap_actions``, ``swap_events``); migration 0006 moved
their rows here. These functions run inside the caller's session (one database
transaction per store call, as everywhere in the store).

Every history line is also an entry of the audit log (``gateway.audit.log``),
staged here in the same transaction: the one place state changes are written is
the one place they are audited. ``action`` names the change (``transfer.create``,
``transfer.transition``, ``swap.note``, …; ``docs/supervision.md``), ``before``
the state it left when the caller knows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.ids import ChainId, Height
from core.records import ActionRecord, ActionStatus
from core.types import ChainAction
from gateway.audit import log as audit
from gateway.store.bulk import insert_rows
from gateway.store.models import Action, Batch, HistoryEntry, Swap, Transfer

_HISTORY = HistoryEntry.__table__
Subject = Literal["transfer", "swap", "batch"]
TRANSFER: Subject = "transfer"
SWAP: Subject = "swap"
BATCH: Subject = "batch"
_MODELS: dict[str, type[Transfer] | type[Swap] | type[Batch]] = {
    TRANSFER: Transfer,
    SWAP: Swap,
    BATCH: Batch,
}


def find_action(s: Session, subject: Subject, subject_id: str, step: str) -> ActionRecord | None:
    row = s.scalar(
        select(Action).where(
            Action.subject == subject, Action.subject_id == subject_id, Action.step == step
        )
    )
    return None if row is None else action_record(row)


def actions_of(s: Session, subject: Subject, subject_id: str) -> list[ActionRecord]:
    """Every journaled action of one subject, in the order recorded."""
    rows = s.scalars(
        select(Action)
        .where(Action.subject == subject, Action.subject_id == subject_id)
        .order_by(Action.id)
    )
    return [action_record(r) for r in rows]


def record_action(
    s: Session,
    subject: Subject,
    subject_id: str,
    step: str,
    chain_id: ChainId,
    action: ChainAction,
    now: float,
    *,
    search_floor: Height | None = None,
) -> ActionRecord:
    """Journal ``action`` (idempotent on ``(subject, id, step)``: the first record wins);
    ``NotFound`` when no such transfer or swap exists."""
    found = find_action(s, subject, subject_id, step)
    if found is not None:
        return found
    if s.get(_MODELS[subject], subject_id) is None:
        raise NotFound(f"{subject} {subject_id!r} not found", **{f"{subject}_id": subject_id})
    row = Action(
        subject=subject,
        subject_id=subject_id,
        step=step,
        chain_id=str(chain_id),
        kind=action.kind,
        payload=dict(action.payload),
        idempotency_key=action.idempotency_key,
        status=ActionStatus.RECORDED.value,
        tx_hash=None,
        height=None,
        reason="",
        recorded_at=now,
        search_floor=None if search_floor is None else int(Height(search_floor)),
    )
    s.add(row)
    s.flush()
    return action_record(row)


def mark_action(
    s: Session,
    subject: Subject,
    action_id: int,
    status: ActionStatus,
    *,
    tx_hash: bytes | None = None,
    height: Height | None = None,
    reason: str = "",
) -> None:
    """Record an action's outcome; ``NotFound`` when no such action of this subject kind."""
    values: dict[str, Any] = {"status": ActionStatus(status).value, "reason": reason}
    if tx_hash is not None:
        values["tx_hash"] = bytes(tx_hash)
    if height is not None:
        values["height"] = int(Height(height))
    result = s.execute(
        update(Action)
        .where(Action.id == action_id, Action.subject == subject)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"{subject} action {action_id} not found", action_id=action_id)


def add_history(
    s: Session,
    subject: Subject,
    subject_id: str,
    now: float,
    state: str,
    reason: str,
    *,
    leg: int | None = None,
    tx_hash: bytes | None = None,
    chain_id: str | None = None,
    action: str = "note",
    before: str | Mapping[str, Any] | None = None,
    after_extra: Mapping[str, Any] | None = None,
) -> None:
    """Append a history line and stage its audit entry ``<subject>.<action>`` (``before``: the
    state left, or a fuller snapshot; ``after_extra``: fields the tool changed besides)."""
    audit.stage(
        s,
        f"{subject}.{action}",
        subject,
        subject_id,
        now,
        before={"state": before} if isinstance(before, str) else before,
        after=_after(state, leg, tx_hash, chain_id, after_extra),
        reason=reason,
    )
    s.add(
        HistoryEntry(
            subject=subject,
            subject_id=subject_id,
            at=now,
            state=state,
            reason=reason,
            leg=leg,
            tx_hash=tx_hash,
            chain_id=chain_id,
        )
    )


def _after(
    state: str,
    leg: int | None,
    tx_hash: bytes | None,
    chain_id: str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, object]:
    """The ``after`` of a history line's audit entry."""
    after: dict[str, object] = {"state": state, **(extra or {})}
    if leg is not None:
        after["leg"] = leg
    if tx_hash is not None:
        after["tx_hash"] = "0x" + bytes(tx_hash).hex()
    if chain_id is not None:
        after["chain_id"] = chain_id
    return after


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One line of :func:`add_history_many` (the arguments of :func:`add_history`)."""

    subject_id: str
    state: str
    reason: str
    tx_hash: bytes | None = None
    chain_id: str | None = None
    action: str = "note"
    before: str | None = None


def add_history_many(
    s: Session, subject: Subject, now: float, lines: Sequence[HistoryLine]
) -> None:
    """Append ``lines`` with ONE executemany and stage their audit entries, in order: the
    same rows and entries as :func:`add_history` per line (the bulk paths of issue #15).
    Lines the session holds unflushed are written first, so ids keep the call order."""
    if not lines:
        return
    s.flush()
    insert_rows(
        s,
        _HISTORY,
        [
            {
                "subject": subject,
                "subject_id": line.subject_id,
                "at": now,
                "state": line.state,
                "reason": line.reason,
                "leg": None,
                "tx_hash": line.tx_hash,
                "chain_id": line.chain_id,
            }
            for line in lines
        ],
    )
    audit.stage_many(
        s,
        now,
        (
            (
                f"{subject}.{line.action}",
                subject,
                line.subject_id,
                None if line.before is None else {"state": line.before},
                _after(line.state, None, line.tx_hash, line.chain_id, None),
                line.reason,
            )
            for line in lines
        ),
    )


def history_rows(s: Session, subject: Subject, subject_id: str, after_id: int) -> list[Any]:
    return list(
        s.scalars(
            select(HistoryEntry)
            .where(
                HistoryEntry.subject == subject,
                HistoryEntry.subject_id == subject_id,
                HistoryEntry.id > after_id,
            )
            .order_by(HistoryEntry.id)
        ).all()
    )


def action_record(r: Action) -> ActionRecord:
    return ActionRecord(
        id=r.id,
        transfer_id=r.subject_id,
        step=r.step,
        chain_id=ChainId(r.chain_id),
        kind=r.kind,
        payload=dict(r.payload),
        idempotency_key=r.idempotency_key,
        status=ActionStatus(r.status),
        tx_hash=None if r.tx_hash is None else bytes(r.tx_hash),
        height=None if r.height is None else Height(r.height),
        reason=r.reason,
        recorded_at=r.recorded_at,
        search_floor=None if r.search_floor is None else Height(r.search_floor),
    )


__all__ = [
    "BATCH",
    "SWAP",
    "TRANSFER",
    "HistoryLine",
    "Subject",
    "action_record",
    "actions_of",
    "add_history",
    "add_history_many",
    "find_action",
    "history_rows",
    "mark_action",
    "record_action",
]
