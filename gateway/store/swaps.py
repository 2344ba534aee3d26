"""The ``core.swaps.SwapStore`` seam on SQLAlchemy: a mixin of ``SqlStore``.

Kept in its own module so the transfer store and the swap store can change
independently; it uses ``SqlStore``'s plumbing (one transaction per method,
``_read``/``_write``/``_write_retrying``, error translation) and follows its
rules: compare-and-set on the state (``UPDATE … WHERE state = expected``),
leases by conditional UPDATE (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), a
history line in the same transaction as every change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, InvalidTransition, LeaseLost, NotFound
from core.ids import ChainId, Height
from core.records import ActionRecord, ActionStatus
from core.states import TERMINAL_SWAP_STATES, SwapState, validate_transition
from core.swaps import (
    LEG_FIELDS,
    LEG_TRANSITIONS,
    LegState,
    NewSwap,
    NewSwapLeg,
    SwapEventRecord,
    SwapLegRecord,
    SwapRecord,
)
from core.types import ChainAction
from gateway.store import journal
from gateway.store.codec import decode_page_cursor, encode_page_cursor
from gateway.store.journal import SWAP
from gateway.store.leases import any_due, check_claim, lease_due
from gateway.store.models import Swap, SwapLeg
from proofs.htlc.errors import HashlockReused

T = TypeVar("T")
MAX_PAGE = 1000
_TERMINAL = sorted(s.value for s in TERMINAL_SWAP_STATES)
_HASH_FIELDS = frozenset({"lock_id", "lock_tx", "claim_tx", "refund_tx"})


class SwapStoreMixin:
    """Swap methods of ``SqlStore`` (see ``core.swaps.SwapStore`` for the contracts)."""

    if TYPE_CHECKING:
        dialect: str

        def _read(self) -> AbstractContextManager[Session]: ...
        def _write(self) -> AbstractContextManager[Session]: ...
        def _write_retrying(self, work: Callable[[Session], T]) -> T: ...

    # -- swaps ------------------------------------------------------------------

    def create_swap(
        self,
        new: NewSwap,
        now: float,
        *,
        idempotency_key: str | None = None,
        request_hash: bytes | None = None,
    ) -> tuple[SwapRecord, bool]:
        if len(new.hashlock) != 32:
            raise InvalidInput("a hashlock is 32 bytes", field="hashlock")

        def work(s: Session) -> tuple[SwapRecord, bool]:
            if idempotency_key is not None:
                found = s.scalar(select(Swap).where(Swap.idempotency_key == idempotency_key))
                if found is not None:
                    if found.request_hash != request_hash:
                        raise Conflict(
                            "idempotency key already used with another request",
                            swap_id=found.id,
                        )
                    return _swap_record(s, found), False
            used = s.scalar(select(Swap.id).where(Swap.hashlock == bytes(new.hashlock)))
            if used is not None:
                raise HashlockReused(
                    f"hashlock 0x{new.hashlock.hex()} already serves swap {used}", swap_id=used
                )
            row = Swap(
                id="sw_" + uuid.uuid4().hex,
                hashlock=bytes(new.hashlock),
                state=SwapState.PROPOSED.value,
                reason=new.reason,
                preimage=None if new.preimage is None else bytes(new.preimage),
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                lease_owner=None,
                lease_until=None,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )
            s.add(row)
            s.flush()
            for index, leg in ((1, new.leg1), (2, new.leg2)):
                s.add(_leg_row(row.id, index, leg))
            journal.add_history(s, SWAP, row.id, now, row.state, new.reason, action="create")
            s.flush()
            return _swap_record(s, row), True

        return self._write_retrying(work)

    def swap(self, swap_id: str) -> SwapRecord:
        with self._read() as s:
            row = s.get(Swap, swap_id)
            if row is None:
                raise NotFound(f"swap {swap_id!r} not found", swap_id=swap_id)
            return _swap_record(s, row)

    def swap_by_hashlock(self, hashlock: bytes) -> SwapRecord | None:
        with self._read() as s:
            row = s.scalar(select(Swap).where(Swap.hashlock == bytes(hashlock)))
            return None if row is None else _swap_record(s, row)

    def swap_by_lock(self, chain_id: ChainId, lock_id: bytes) -> SwapRecord | None:
        with self._read() as s:
            row = s.scalar(
                select(Swap)
                .join(SwapLeg, SwapLeg.swap_id == Swap.id)
                .where(SwapLeg.chain_id == str(chain_id), SwapLeg.lock_id == bytes(lock_id))
                .limit(1)
            )
            return None if row is None else _swap_record(s, row)

    def list_swaps(
        self,
        *,
        state: SwapState | None = None,
        chain: ChainId | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[SwapRecord], str | None]:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be in [1, {MAX_PAGE}]", field="limit")
        query = select(Swap)
        if state is not None:
            query = query.where(Swap.state == SwapState(state).value)
        if chain is not None:
            query = query.where(
                exists().where(SwapLeg.swap_id == Swap.id, SwapLeg.chain_id == str(chain))
            )
        if after is not None:
            at, last_id = decode_page_cursor(after)
            query = query.where(
                or_(Swap.created_at < at, and_(Swap.created_at == at, Swap.id < last_id))
            )
        query = query.order_by(Swap.created_at.desc(), Swap.id.desc()).limit(limit + 1)
        with self._read() as s:
            rows = s.scalars(query).all()
            page = [_swap_record(s, r) for r in rows[:limit]]
        more = len(rows) > limit
        return page, (encode_page_cursor(page[-1].created_at, page[-1].id) if more else None)

    def transition_swap(
        self,
        swap_id: str,
        expected: SwapState,
        new: SwapState,
        reason: str,
        now: float,
        *,
        worker: str | None = None,
        legs: Mapping[int, Mapping[str, object]] | None = None,
        preimage: bytes | None = None,
    ) -> SwapRecord:
        expected, new = SwapState(expected), SwapState(new)
        if new is not expected:
            validate_transition(expected, new)
        updates = {i: _leg_values(i, dict(f)) for i, f in (legs or {}).items()}
        # Any change makes the swap due at once: the watchtower re-plans with it.
        values: dict[str, Any] = {
            "state": new.value,
            "reason": reason,
            "updated_at": now,
            "next_attempt_at": now,
        }
        if new is not expected:
            values["attempts"] = 0
        if preimage is not None:
            values["preimage"] = bytes(preimage)
        cond = [Swap.id == swap_id, Swap.state == expected.value]
        if worker is not None:
            cond += [Swap.lease_owner == worker, Swap.lease_until > now]
        with self._write() as s:
            result = s.execute(
                update(Swap)
                .where(*cond)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                _raise_why_not(s.get(Swap, swap_id), swap_id, expected, worker)
            tx_hash, chain_id, leg_index = None, None, None
            for index, fields in sorted(updates.items()):
                leg = s.get(SwapLeg, (swap_id, index), with_for_update=True)
                if leg is None:  # pragma: no cover - every swap has both legs
                    raise NotFound(f"swap {swap_id!r} has no leg {index}")
                if "state" in fields and fields["state"] != leg.state:
                    old_state = LegState(leg.state)
                    if LegState(fields["state"]) not in LEG_TRANSITIONS[old_state]:
                        raise InvalidTransition(
                            f"leg {index} of swap {swap_id} cannot go from {leg.state} "
                            f"to {fields['state']}",
                            current=leg.state,
                            requested=str(fields["state"]),
                        )
                for name, value in fields.items():
                    setattr(leg, name, value)
                for name in ("refund_tx", "claim_tx", "lock_tx"):
                    if fields.get(name) is not None:
                        tx_hash, chain_id, leg_index = fields[name], leg.chain_id, index
                        break
            row = s.get(Swap, swap_id, populate_existing=True)
            if row is None:  # pragma: no cover - we just updated it
                raise NotFound(f"swap {swap_id!r} not found")
            if leg_index is None and len(updates) == 1:
                leg_index = next(iter(updates))
            journal.add_history(
                s,
                SWAP,
                swap_id,
                now,
                row.state,
                reason,
                leg=leg_index,
                tx_hash=tx_hash,
                chain_id=chain_id,
                action="transition",
                before=expected.value,
            )
            s.flush()
            return _swap_record(s, row)

    def set_swap_preimage(self, swap_id: str, preimage: bytes, now: float) -> SwapRecord:
        if not isinstance(preimage, bytes) or len(preimage) != 32:
            raise InvalidInput("a preimage is 32 bytes", field="preimage")
        with self._write() as s:
            row = s.get(Swap, swap_id, with_for_update=True)
            if row is None:
                raise NotFound(f"swap {swap_id!r} not found", swap_id=swap_id)
            if row.preimage is None:
                row.preimage = bytes(preimage)
                row.next_attempt_at = now
                row.updated_at = now
                journal.add_history(
                    s,
                    SWAP,
                    swap_id,
                    now,
                    row.state,
                    "preimage delegated to the hub for claiming",
                    action="preimage",
                )
            s.flush()
            return _swap_record(s, row)

    def note_swap(self, swap_id: str, reason: str, now: float, *, retry_at: float) -> None:
        with self._write() as s:
            row = s.get(Swap, swap_id, with_for_update=True)
            if row is None:
                raise NotFound(f"swap {swap_id!r} not found", swap_id=swap_id)
            changed = row.reason != reason
            row.reason = reason
            row.attempts += 1
            row.next_attempt_at = retry_at
            row.updated_at = now
            if changed:  # a watcher polls often: one history line per distinct reason
                journal.add_history(s, SWAP, swap_id, now, row.state, reason)

    def swap_history(self, swap_id: str, after_id: int = 0) -> list[SwapEventRecord]:
        with self._read() as s:
            rows = journal.history_rows(s, SWAP, swap_id, after_id)
            if not rows and s.get(Swap, swap_id) is None:
                raise NotFound(f"swap {swap_id!r} not found", swap_id=swap_id)
            return [
                SwapEventRecord(
                    id=r.id,
                    swap_id=r.subject_id,
                    at=r.at,
                    state=SwapState(r.state),
                    reason=r.reason,
                    leg=r.leg,
                    tx_hash=r.tx_hash,
                    chain_id=ChainId(r.chain_id) if r.chain_id else None,
                )
                for r in rows
            ]

    # -- work distribution ------------------------------------------------------

    def claim_due_swaps(
        self, worker: str, now: float, lease_seconds: float, limit: int
    ) -> list[SwapRecord]:
        check_claim(worker, lease_seconds, limit)
        with self._read() as s:  # an idle watchtower takes no write lock (leases.any_due)
            if not any_due(s, Swap, _TERMINAL, now=now):
                return []
        with self._write() as s:
            rows = lease_due(
                s,
                Swap,
                _TERMINAL,
                dialect=self.dialect,
                worker=worker,
                now=now,
                lease_seconds=lease_seconds,
                limit=limit,
            )
            return [_swap_record(s, r) for r in rows]

    def release_swap(self, swap_id: str, worker: str) -> None:
        with self._write() as s:
            s.execute(
                update(Swap)
                .where(Swap.id == swap_id, Swap.lease_owner == worker)
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    # -- the journal ------------------------------------------------------------

    def record_swap_action(
        self, swap_id: str, step: str, chain_id: ChainId, action: ChainAction, now: float
    ) -> ActionRecord:
        def work(s: Session) -> ActionRecord:
            return journal.record_action(s, SWAP, swap_id, step, chain_id, action, now)

        return self._write_retrying(work)

    def swap_action(self, swap_id: str, step: str) -> ActionRecord | None:
        with self._read() as s:
            return journal.find_action(s, SWAP, swap_id, step)

    def mark_swap_action(
        self,
        action_id: int,
        status: ActionStatus,
        *,
        tx_hash: bytes | None = None,
        height: Height | None = None,
        reason: str = "",
    ) -> None:
        with self._write() as s:
            journal.mark_action(
                s, SWAP, action_id, status, tx_hash=tx_hash, height=height, reason=reason
            )


# -- rows <-> records -------------------------------------------------------------


def _leg_row(swap_id: str, index: int, leg: NewSwapLeg) -> SwapLeg:
    timelock = leg.timelock
    if isinstance(timelock, bool) or not isinstance(timelock, int) or not 0 <= timelock < 2**63:
        raise InvalidInput(f"leg {index}: timelock outside [0, 2**63)", field=f"leg{index}")
    return SwapLeg(
        swap_id=swap_id,
        leg=index,
        chain_id=str(ChainId(leg.chain_id)),
        asset=leg.asset,
        amount=leg.amount,
        sender=leg.sender,
        receiver=leg.receiver,
        timelock=timelock,
        state=LegState.PENDING.value,
        claim_delegated=bool(leg.claim_delegated),
        refund_delegated=bool(leg.refund_delegated),
        lock_id=None,
        lock_tx=None,
        lock_height=None,
        claim_tx=None,
        refund_tx=None,
    )


def _leg_values(index: int, fields: dict[str, object]) -> dict[str, Any]:
    if index not in (1, 2):
        raise InvalidInput(f"a swap has legs 1 and 2, not {index}", field="legs")
    unknown = set(fields) - LEG_FIELDS
    if unknown:
        raise InvalidInput(f"transition_swap cannot set leg fields {sorted(unknown)}", field="legs")
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "state":
            out[name] = LegState(value).value  # type: ignore[arg-type]
        elif name == "lock_height":
            out[name] = None if value is None else int(Height(value))  # type: ignore[arg-type]
        elif name in _HASH_FIELDS:
            out[name] = None if value is None else bytes(value)  # type: ignore[arg-type]
    return out


def _leg_record(r: SwapLeg, hashlock: bytes) -> SwapLegRecord:
    return SwapLegRecord(
        leg=r.leg,
        chain_id=ChainId(r.chain_id),
        asset=r.asset,
        amount=int(r.amount),
        sender=r.sender,
        receiver=r.receiver,
        hashlock=hashlock,
        timelock=int(r.timelock),
        state=LegState(r.state),
        claim_delegated=r.claim_delegated,
        refund_delegated=r.refund_delegated,
        lock_id=None if r.lock_id is None else bytes(r.lock_id),
        lock_tx=None if r.lock_tx is None else bytes(r.lock_tx),
        lock_height=None if r.lock_height is None else Height(r.lock_height),
        claim_tx=None if r.claim_tx is None else bytes(r.claim_tx),
        refund_tx=None if r.refund_tx is None else bytes(r.refund_tx),
    )


def _swap_record(s: Session, r: Swap | Row[Any]) -> SwapRecord:
    legs = {
        leg.leg: leg
        for leg in s.scalars(
            select(SwapLeg).where(SwapLeg.swap_id == r.id).execution_options(populate_existing=True)
        )
    }
    hashlock = bytes(r.hashlock)
    return SwapRecord(
        id=r.id,
        hashlock=hashlock,
        leg1=_leg_record(legs[1], hashlock),
        leg2=_leg_record(legs[2], hashlock),
        state=SwapState(r.state),
        reason=r.reason,
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
        preimage=None if r.preimage is None else bytes(r.preimage),
        lease_owner=r.lease_owner,
        lease_until=r.lease_until,
    )


def _raise_why_not(row: Swap | None, swap_id: str, expected: SwapState, worker: str | None) -> None:
    if row is None:
        raise NotFound(f"swap {swap_id!r} not found", swap_id=swap_id)
    if row.state != expected.value:
        raise InvalidTransition(
            f"swap {swap_id} is {row.state}, not {expected}",
            current=row.state,
            requested=str(expected),
        )
    raise LeaseLost(
        f"worker {worker!r} no longer holds the lease on swap {swap_id}", swap_id=swap_id
    )


__all__ = ["SwapStoreMixin"]
