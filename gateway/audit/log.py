"""Audit entries: staged inside a store transaction, chained onto the log when it commits.

Every store method that changes state stages its entry (:func:`stage`) in the
same session; a ``before_commit`` listener (:func:`install`, on the store's
session makers) appends the staged entries as the transaction's last work:
it locks the one ``audit_head`` row (``SELECT … FOR UPDATE`` on PostgreSQL;
on SQLite every write transaction already holds the database's write lock
from ``BEGIN IMMEDIATE``), numbers the entries after the head, hashes each
onto the previous (``proofs.audit``), and moves the head. So an entry commits
with its change or not at all, two writers queue on the head instead of
forking the chain, and the head lock is held only for the commit itself
(taking it last keeps row-lock orders one-way: no deadlock with the transfer
rows a transaction locked first). A rolled-back transaction drops its staged
entries. ``audit_log.seq`` is the primary key: a second writer that somehow
skipped the lock would fail on it rather than fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import context
from gateway.audit.context import Caller
from gateway.store.bulk import insert_rows
from gateway.store.models import AuditEntry, AuditHead
from proofs.audit import ENTRY_VERSION, GENESIS, canonical_bytes, entry_bytes, side_text

_PENDING = "pjgw_audit_pending"
_HEAD = AuditHead.__table__
_ENTRIES = AuditEntry.__table__
MAX_REASON = 1024


@dataclass(frozen=True, slots=True)
class Staged:
    action: str
    subject: str
    subject_id: str
    at_ms: int
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reason: str
    caller: Caller


def at_ms(now: float) -> int:
    """Unix seconds (the store's clock values) as the integer milliseconds entries carry."""
    return round(float(now) * 1000)


def stage(
    s: Session,
    action: str,
    subject: str,
    subject_id: str,
    now: float,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
) -> None:
    """Queue an entry for this transaction's commit, as the current caller."""
    s.info.setdefault(_PENDING, []).append(
        Staged(
            action,
            subject,
            str(subject_id),
            at_ms(now),
            None if before is None else dict(before),
            None if after is None else dict(after),
            reason[:MAX_REASON],
            context.current(),
        )
    )


def stage_many(
    s: Session,
    now: float,
    entries: Iterable[
        tuple[str, str, str, Mapping[str, Any] | None, Mapping[str, Any] | None, str]
    ],
) -> None:
    """Queue many entries ``(action, subject, subject_id, before, after, reason)`` at once,
    as :func:`stage` would one by one, for a bulk write (``record_packets``, ``move_many``).
    The caller and the time are read once; ``before`` and ``after`` are kept as given, not
    copied (so members of one move share them): the caller must not change them after."""
    caller = context.current()
    ms = at_ms(now)
    s.info.setdefault(_PENDING, []).extend(
        Staged(action, subject, str(subject_id), ms, before, after, reason[:MAX_REASON], caller)
        for action, subject, subject_id, before, after, reason in entries
    )


def entry_of(seq: int, staged: Staged) -> dict[str, Any]:
    """The hashed object of a staged entry (the fields of ``proofs.audit.ENTRY_FIELDS``)."""
    return {
        "v": ENTRY_VERSION,
        "seq": seq,
        "at_ms": staged.at_ms,
        "actor": staged.caller.actor,
        "role": staged.caller.role,
        "request_id": staged.caller.request_id,
        "action": staged.action,
        "subject": staged.subject,
        "subject_id": staged.subject_id,
        "before": staged.before,
        "after": staged.after,
        "reason": staged.reason,
    }


def append(s: Session, staged: Sequence[Staged]) -> int:
    """Chain ``staged`` onto the log under the head lock; the new head's ``seq``."""
    # Core statements on the tables (not ORM entities): the append is on every commit.
    head = s.execute(
        select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
    ).one_or_none()
    if head is None:  # a schema made without the migration's seed row (create_all)
        s.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS))
        seq, prev = 0, GENESIS
    else:
        seq, prev = int(head.seq), bytes(head.hash)
    rows = []
    sides: dict[int, str | None] = {}  # a move's members share one before and one after
    for item in staged:
        seq += 1
        body = _fast_body(seq, item, sides) or canonical_bytes(entry_of(seq, item))
        digest = hashlib.sha256(body + prev).digest()  # = proofs.audit.compute_entry_hash
        rows.append(
            {
                "seq": seq,
                "at_ms": item.at_ms,
                "actor": item.caller.actor[:128],
                "role": item.caller.role[:16],
                "action": item.action,
                "subject": item.subject,
                "subject_id": item.subject_id[:128],
                "body": body.decode(),
                "prev": prev,
                "hash": digest,
            }
        )
        prev = digest
    insert_rows(s, _ENTRIES, rows)
    s.execute(update(_HEAD).where(_HEAD.c.id == 1).values(seq=seq, hash=prev))
    return seq


def _fast_body(seq: int, item: Staged, sides: dict[int, str | None]) -> bytes | None:
    """``canonical_bytes(entry_of(seq, item))`` by ``proofs.audit.entry_bytes``, the sides
    rendered once per object (``None``: the reference decides)."""
    texts = []
    for side in (item.before, item.after):
        key = id(side)
        if key not in sides:
            sides[key] = side_text(side)
        texts.append(sides[key])
    caller = item.caller
    return entry_bytes(
        seq=seq,
        at_ms=item.at_ms,
        actor=caller.actor,
        role=caller.role,
        request_id=caller.request_id,
        action=item.action,
        subject=item.subject,
        subject_id=item.subject_id,
        before=texts[0],
        after=texts[1],
        reason=item.reason,
    )


def _before_commit(session: Session) -> None:
    staged = session.info.pop(_PENDING, None)
    if staged:
        session.flush()  # the change first, then its entries: the head lock comes last
        append(session, staged)


def _drop(session: Session, *_: object) -> None:
    session.info.pop(_PENDING, None)


def install(maker: sessionmaker[Session]) -> None:
    """Append staged entries when a session of ``maker`` commits; drop them on rollback."""
    event.listen(maker, "before_commit", _before_commit)
    event.listen(maker, "after_soft_rollback", _drop)


def export_line(row: AuditEntry) -> dict[str, Any]:
    """An entry as exported: its hashed fields, then ``prev`` and ``hash`` (hex)."""
    out: dict[str, Any] = json.loads(row.body)
    out["prev"] = bytes(row.prev).hex()
    out["hash"] = bytes(row.hash).hex()
    return out


__all__ = [
    "Staged",
    "append",
    "at_ms",
    "entry_of",
    "export_line",
    "install",
    "stage",
    "stage_many",
]
