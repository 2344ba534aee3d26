"""The audit log's side of ``SqlStore``: reading the chain, checkpoints, and the audited
operator tools (a mixin, like ``SwapStoreMixin``).

Every method is one transaction whose change and audit entry commit together
(``gateway.audit.log``). The operator tools (``docs/supervision.md``): pause and
resume a route with a reason, retry a transfer now (clear its backoff), reject a
stuck transfer (only where the transition table allows ``rejected``), and rewind
a chain cursor (never below its floor, never forward).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.batches import BatchKind
from core.errors import Conflict, InvalidInput, NotFound
from core.ids import Height
from core.records import RouteRecord, TransferRecord
from core.states import TERMINAL_TRANSFER_STATES, TransferState, validate_transition
from core.steps import Step
from gateway.audit import log as audit
from gateway.store import journal
from gateway.store.convert import route_record, transfer_record
from gateway.store.journal import TRANSFER
from gateway.store.models import (
    Action,
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    BatchMemberRow,
    Cursor,
    Route,
    Transfer,
)
from gateway.store.risk import clear_hold
from proofs.notary.nondelivery import Timeout, is_timeout_passed

T = TypeVar("T")
MAX_AUDIT_PAGE = 1000
MAX_REASON = 1024


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """The hub's signature over the head ``(seq, hash)`` at ``at_ms``, and its anchor."""

    seq: int
    hash: bytes
    at_ms: int
    signer: str
    signature: bytes
    anchor_chain: str | None = None
    anchor_tx: bytes | None = None
    anchor_height: int | None = None
    anchor_account: bytes | None = None


def settings_digest(settings: Mapping[str, Any]) -> str:
    """sha256 of the settings as sorted JSON: the audit log records that settings changed
    and can be matched to a known file, never their values (they may hold secrets)."""
    text = json.dumps(dict(settings), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def chain_snapshot(family: str, settings: Mapping[str, Any], enabled: bool) -> dict[str, Any]:
    return {"family": family, "enabled": enabled, "settings_sha256": settings_digest(settings)}


def route_snapshot(route: RouteRecord) -> dict[str, Any]:
    return {
        "source": str(route.source),
        "destination": str(route.destination),
        "protocol": str(route.protocol),
        "enabled": route.enabled,
        "settings_sha256": settings_digest(route.settings),
    }


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason is at most {MAX_REASON} characters", field="reason")
    return reason.strip()


class AuditStoreMixin:
    """Audit methods of ``SqlStore``."""

    if TYPE_CHECKING:
        dialect: str

        def _read(self) -> AbstractContextManager[Session]: ...
        def _write(self) -> AbstractContextManager[Session]: ...
        def _write_retrying(self, work: Callable[[Session], T]) -> T: ...

    # -- reading the chain ------------------------------------------------------------

    def audit_head(self) -> tuple[int, bytes]:
        """The chain's last ``seq`` and hash (``(0, 32 zero bytes)`` when empty)."""
        with self._read() as s:
            row = s.get(AuditHead, 1)
            return (0, bytes(32)) if row is None else (int(row.seq), bytes(row.hash))

    def audit_entries(
        self,
        *,
        subject: str | None = None,
        subject_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Exported entries (oldest first) after ``after_seq`` matching every filter given,
        and the cursor of the next page (the last ``seq``) or None at the end."""
        if not 1 <= limit <= MAX_AUDIT_PAGE:
            raise InvalidInput(f"limit must be in [1, {MAX_AUDIT_PAGE}]", field="limit")
        query = select(AuditEntry).where(AuditEntry.seq > int(after_seq))
        for column, value in (
            (AuditEntry.subject, subject),
            (AuditEntry.subject_id, subject_id),
            (AuditEntry.actor, actor),
            (AuditEntry.action, action),
        ):
            if value is not None:
                query = query.where(column == value)
        if since_ms is not None:
            query = query.where(AuditEntry.at_ms >= int(since_ms))
        if until_ms is not None:
            query = query.where(AuditEntry.at_ms < int(until_ms))
        query = query.order_by(AuditEntry.seq).limit(limit + 1)
        with self._read() as s:
            rows = s.scalars(query).all()
            page = [audit.export_line(r) for r in rows[:limit]]
        return page, (page[-1]["seq"] if len(rows) > limit else None)

    def record_audit(
        self,
        action: str,
        subject: str,
        subject_id: str,
        now: float,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        reason: str = "",
    ) -> None:
        """An entry for an action with no other row to change (a key file written, evidence
        exported, a checkpoint anchored elsewhere)."""
        with self._write() as s:
            audit.stage(
                s, action, subject, subject_id, now, before=before, after=after, reason=reason
            )

    # -- checkpoints ------------------------------------------------------------------

    def add_audit_checkpoint(self, record: CheckpointRecord, now: float) -> CheckpointRecord:
        """Keep a signed checkpoint (one per head ``seq``: the first kept wins); audited."""

        def work(s: Session) -> CheckpointRecord:
            found = s.get(AuditCheckpoint, record.seq)
            if found is not None:
                return _checkpoint(found)
            s.add(
                AuditCheckpoint(
                    seq=record.seq,
                    hash=record.hash,
                    at_ms=record.at_ms,
                    signer=record.signer,
                    signature=record.signature,
                )
            )
            audit.stage(
                s,
                "audit.checkpoint",
                "audit",
                str(record.seq),
                now,
                after={"seq": record.seq, "hash": record.hash.hex(), "signer": record.signer},
            )
            return record

        return self._write_retrying(work)

    def audit_checkpoints(self) -> list[CheckpointRecord]:
        with self._read() as s:
            return [
                _checkpoint(r)
                for r in s.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
            ]

    def anchor_audit_checkpoint(
        self,
        seq: int,
        chain_id: str,
        tx_hash: bytes,
        height: int | None,
        account: bytes,
        now: float,
    ) -> CheckpointRecord:
        """Record where checkpoint ``seq``'s hash was written on a chain (by ``account``);
        audited."""
        with self._write() as s:
            row = s.get(AuditCheckpoint, seq, with_for_update=True)
            if row is None:
                raise NotFound(f"no audit checkpoint at seq {seq}", seq=seq)
            row.anchor_chain, row.anchor_tx, row.anchor_height = (
                str(chain_id),
                bytes(tx_hash),
                height,
            )
            row.anchor_account = bytes(account)
            audit.stage(
                s,
                "audit.anchor",
                "audit",
                str(seq),
                now,
                after={
                    "chain_id": str(chain_id),
                    "tx_hash": "0x" + bytes(tx_hash).hex(),
                    "height": height,
                    "account": "0x" + bytes(account).hex(),
                    "hash": bytes(row.hash).hex(),
                },
            )
            s.flush()
            return _checkpoint(row)

    # -- operator tools ---------------------------------------------------------------

    def pause_route(self, route_id: str, reason: str, now: float) -> RouteRecord:
        """Stop the route's worker from leasing (``route.pause``); pausing again replaces
        the reason."""
        return self._set_pause(route_id, _reason(reason), now, "route.pause")

    def resume_route(self, route_id: str, reason: str, now: float) -> RouteRecord:
        """Let a paused route work again (``route.resume``); ``Conflict`` when not paused."""
        return self._set_pause(route_id, None, now, "route.resume", why=_reason(reason))

    def _set_pause(
        self, route_id: str, paused: str | None, now: float, action: str, why: str = ""
    ) -> RouteRecord:
        with self._write() as s:
            row = s.get(Route, route_id, with_for_update=True)
            if row is None:
                raise NotFound(f"route {route_id!r} not found", route_id=route_id)
            if paused is None and row.paused_reason is None:
                raise Conflict(f"route {route_id!r} is not paused", route_id=route_id)
            audit.stage(
                s,
                action,
                "route",
                route_id,
                now,
                before={"paused_reason": row.paused_reason},
                after={"paused_reason": paused},
                reason=paused or why,
            )
            row.paused_reason = paused
            s.flush()
            return route_record(row)

    def retry_transfer_now(self, transfer_id: str, reason: str, now: float) -> TransferRecord:
        """Clear a live transfer's backoff: due now, attempts back to 0 (``transfer.retry_now``)."""
        why = _reason(reason)
        with self._write() as s:
            row = _live_transfer(s, transfer_id)
            before = {
                "state": row.state,
                "attempts": row.attempts,
                "next_attempt_at_ms": audit.at_ms(row.next_attempt_at),
            }
            row.attempts = 0
            row.next_attempt_at = now
            row.updated_at = now
            journal.add_history(
                s,
                TRANSFER,
                transfer_id,
                now,
                row.state,
                f"retry now: {why}",
                action="retry_now",
                before=before,
                after_extra={"attempts": 0, "next_attempt_at_ms": audit.at_ms(now)},
            )
            s.flush()
            return transfer_record(row)

    def reject_transfer(self, transfer_id: str, reason: str, now: float) -> TransferRecord:
        """Reject a stuck transfer, never stranding value (``transfer.reject``).

        Nothing left its owner yet (no packet recorded on the source): ``rejected``, where
        the transition table allows it. Its packet is escrowed on the source and proven
        (``proven``, or ``held`` after it was proven): the refund path — held with the
        decision ``rejected``, moved to ``timed_out`` once the destination passes its
        timeout and refunded on the source (``relayer.risk.holds``). Its packet is on the
        source but not proven, or attested: ``Conflict`` naming what to do instead (a
        rejection there would leave the escrow stranded)."""
        why = _reason(reason)
        with self._write() as s:
            row = _live_transfer(s, transfer_id)
            current = TransferState(row.state)
            if row.source_height is None:
                validate_transition(current, TransferState.REJECTED)
                clear_hold(row)
                row.state = TransferState.REJECTED.value
                row.reason = f"rejected by an operator: {why}"
                _due_now(row, now)
                journal.add_history(
                    s,
                    TRANSFER,
                    transfer_id,
                    now,
                    row.state,
                    row.reason,
                    action="reject",
                    before=current.value,
                )
            elif current in (TransferState.PROVEN, TransferState.HELD):
                if current is TransferState.HELD and row.hold_decision is not None:
                    raise Conflict(
                        f"transfer {transfer_id} was {row.hold_decision} already: it waits "
                        "for its refund",
                        transfer_id=transfer_id,
                    )
                if current is not TransferState.HELD:
                    validate_transition(current, TransferState.HELD)
                row.hold_rule = row.hold_rule or "operator:reject"
                row.hold_reason = row.hold_reason or why
                row.hold_origin = row.hold_origin or "source"
                row.hold_until = None
                row.hold_decision = "rejected"
                row.state = TransferState.HELD.value
                row.reason = (
                    f"rejected by an operator: {why}; its packet is escrowed on "
                    f"{row.source_chain}: refunded once its timeout passes"
                )
                _due_now(row, now)
                journal.add_history(
                    s,
                    TRANSFER,
                    transfer_id,
                    now,
                    row.state,
                    row.reason,
                    action="reject",
                    before=current.value,
                    after_extra={"decision": "rejected"},
                )
            else:
                raise Conflict(
                    f"transfer {transfer_id} is {current} with its packet on "
                    f"{row.source_chain}: rejecting it would strand the escrow; reject it once "
                    "it is proven, or force its refund once its timeout passed "
                    f"(POST /v1/transfers/{transfer_id}/refund)",
                    transfer_id=transfer_id,
                )
            s.flush()
            return transfer_record(row)

    def force_refund(
        self,
        transfer_id: str,
        reason: str,
        now: float,
        *,
        dest_height: int,
        dest_time_ms: int,
    ) -> TransferRecord:
        """Send a transfer whose timeout its destination passed down the refund path now
        (``timed_out``, due at once, backoff and lease cleared; ``transfer.force_refund``).

        ``dest_height``/``dest_time_ms``: the destination's final block as the caller read
        it; the timeout must have passed there. Only from states where no delivery can be
        in flight: ``source_final``, ``proven``, ``held``, or ``attested`` with no delivery
        journaled; never a member of a delivery batch (the batch's own timeout path settles
        it). The refund still needs the notaries' proven non-receipt: forcing cannot refund
        a packet the destination received."""
        why = _reason(reason)
        with self._write() as s:
            row = _live_transfer(s, transfer_id)
            current = TransferState(row.state)
            if current not in FORCE_REFUNDABLE:
                raise Conflict(
                    f"transfer {transfer_id} is {current}: a refund is forced only from "
                    + ", ".join(sorted(str(x) for x in FORCE_REFUNDABLE)),
                    transfer_id=transfer_id,
                )
            timeout = Timeout(int(row.timeout_height or 0), int(row.timeout_time or 0) * 1000)
            if timeout.height <= 0 and timeout.time_ms <= 0:
                raise Conflict(
                    f"transfer {transfer_id} has no timeout: it can never be refunded",
                    transfer_id=transfer_id,
                )
            if not is_timeout_passed(timeout, int(dest_height), int(dest_time_ms)):
                raise Conflict(
                    f"the destination {row.dest_chain} has not passed the timeout of transfer "
                    f"{transfer_id} (its final block {dest_height} at {dest_time_ms} ms; timeout "
                    f"height {timeout.height}, time {timeout.time_ms} ms)",
                    transfer_id=transfer_id,
                )
            delivering = s.scalar(
                select(Action.id).where(
                    Action.subject == TRANSFER,
                    Action.subject_id == transfer_id,
                    Action.step == Step.DELIVER.value,
                )
            )
            batched = s.scalar(
                select(BatchMemberRow.batch_id).where(
                    BatchMemberRow.transfer_id == transfer_id,
                    BatchMemberRow.kind == int(BatchKind.DELIVERY),
                )
            )
            if delivering is not None or batched is not None:
                where = "its delivery was journaled" if delivering else f"batch {batched}"
                raise Conflict(
                    f"transfer {transfer_id} may be on its way ({where}): the relayer settles "
                    "it by the destination's receipt or its own timeout path",
                    transfer_id=transfer_id,
                )
            validate_transition(current, TransferState.TIMED_OUT)
            clear_hold(row)
            row.state = TransferState.TIMED_OUT.value
            row.reason = (
                f"refund forced by an operator: {why} (the destination passed the timeout at "
                f"its block {dest_height})"
            )
            _due_now(row, now)
            journal.add_history(
                s,
                TRANSFER,
                transfer_id,
                now,
                row.state,
                row.reason,
                action="force_refund",
                before=current.value,
                after_extra={"dest_height": int(dest_height), "dest_time_ms": int(dest_time_ms)},
            )
            s.flush()
            return transfer_record(row)

    def rewind_cursor_to(
        self, key: str, height: Height, floor: Height, reason: str, now: float, *, chain_id: str
    ) -> tuple[Height, Height]:
        """Move cursor ``key`` back to ``height`` (``floor`` <= height < current);
        ``(old, new)``, audited as ``cursor.rewind`` of ``chain_id``."""
        why = _reason(reason)
        new = int(Height(height))
        with self._write() as s:
            row = s.get(Cursor, key, with_for_update=True)
            if row is None:
                raise NotFound(f"no cursor {key!r} yet: nothing to rewind", key=key)
            old = int(row.height)
            if new < int(floor):
                raise InvalidInput(
                    f"height {new} is below the chain's floor {int(floor)}", field="height"
                )
            if new >= old:
                raise InvalidInput(
                    f"height {new} is not below the cursor ({old}): a rewind goes back",
                    field="height",
                )
            s.execute(
                update(Cursor)
                .where(Cursor.key == key)
                .values(height=new)
                .execution_options(synchronize_session=False)
            )
            audit.stage(
                s,
                "cursor.rewind",
                "chain",
                chain_id,
                now,
                before={"cursor": key, "height": old},
                after={"cursor": key, "height": new},
                reason=why,
            )
            return Height(old), Height(new)


FORCE_REFUNDABLE = frozenset(
    {TransferState.SOURCE_FINAL, TransferState.PROVEN, TransferState.ATTESTED, TransferState.HELD}
)
"""States a refund may be forced from once the destination passed the timeout."""


def _due_now(row: Transfer, now: float) -> None:
    row.updated_at = now
    row.next_attempt_at = now
    row.attempts = 0
    row.lease_owner, row.lease_until = None, None


def _live_transfer(s: Session, transfer_id: str) -> Transfer:
    row = s.get(Transfer, transfer_id, with_for_update=True)
    if row is None:
        raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
    if TransferState(row.state) in TERMINAL_TRANSFER_STATES:
        raise Conflict(
            f"transfer {transfer_id} is {row.state}: final, nothing to do", transfer_id=transfer_id
        )
    return row


def _checkpoint(r: AuditCheckpoint) -> CheckpointRecord:
    return CheckpointRecord(
        seq=int(r.seq),
        hash=bytes(r.hash),
        at_ms=int(r.at_ms),
        signer=r.signer,
        signature=bytes(r.signature),
        anchor_chain=r.anchor_chain,
        anchor_tx=None if r.anchor_tx is None else bytes(r.anchor_tx),
        anchor_height=r.anchor_height,
        anchor_account=None if r.anchor_account is None else bytes(r.anchor_account),
    )


__all__ = [
    "AuditStoreMixin",
    "CheckpointRecord",
    "chain_snapshot",
    "route_snapshot",
    "settings_digest",
]
