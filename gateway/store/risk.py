"""The risk side of ``SqlStore``: limits per route and denomination, screening, the held queue.

The ``core.seams.RiskStore`` half of the store (a mixin, like ``BatchStoreMixin``).
``screen`` is the one place a verdict is applied: in ONE transaction it locks the
route (``SELECT … FOR UPDATE`` of its row on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
holds the database's write lock already), reads what the route admitted within its
longest window, asks the caller's ``decide`` about each transfer and writes the
outcome, so two relayer processes (or a relayer and the API) cannot both fill the
last room of a window. The rules themselves are the relayer's (``relayer.risk``);
the store only counts and moves. Every change is audited (``gateway.audit.log``):
a state change through the journal's history, a limit as ``risk.limit``.

Window contents (``docs/supervision.md``): every transfer of the route with an
``admitted_at`` inside the window, whatever its state now, except those whose value
went back to the sender or never left (``rejected``, ``timed_out``, ``refunded``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, delete, or_, select, type_coerce
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, NotFound
from core.holds import Hold, Reject, Verdict
from core.records import (
    ALL_DENOMS,
    HOLD_DECISIONS,
    RiskLimitRecord,
    RiskView,
    TransferRecord,
    WindowEntry,
)
from core.states import TransferState, validate_transition
from gateway.audit import log as audit
from gateway.problems import Forbidden
from gateway.store import journal
from gateway.store.codec import decode_page_cursor, encode_page_cursor
from gateway.store.convert import transfer_record
from gateway.store.journal import TRANSFER
from gateway.store.models import RiskLimit, Route, Transfer

MAX_UINT256 = 2**256 - 1
MAX_SECONDS = 366 * 24 * 3600
"""The longest window or delay a limit may set (a year and a day)."""
MAX_RATE = 1_000_000
MAX_HELD_PAGE = 500
MAX_REASON = 1024
RATE_WINDOW = 60.0
OVER_MAX = ("reject", "hold")
_NOT_COUNTED = (
    TransferState.REJECTED.value,
    TransferState.TIMED_OUT.value,
    TransferState.REFUNDED.value,
)
"""States whose value did not move (or went back): they leave the windows."""
_BACK_TO = {"api": TransferState.REQUESTED, "source": TransferState.PROVEN}
"""Where a released transfer goes, by the origin of its hold."""


def validate_risk_limit(limit: RiskLimitRecord) -> RiskLimitRecord:
    """Raise ``InvalidInput`` naming the first bad field; the limit unchanged otherwise.

    Checks in order: the denomination's shape; every amount a uint256 (0 allowed: a maximum
    of 0 lets no value through); ``over_max`` one of ``reject``/``hold``; a window's and a
    delay's length in 1 s .. a year, the rate in 1 .. 10**6; a window needs both its length
    and its amount, a delay both its threshold and its length. A limit with no part is
    allowed (it limits nothing; ``GET /v1/risk`` shows it)."""
    denom = limit.denom
    if not isinstance(denom, str) or not (1 <= len(denom) <= 256) or denom != denom.strip():
        raise InvalidInput(
            "denom must be 1-256 characters without surrounding spaces", field="denom"
        )
    for name in ("max_amount", "window_amount", "delay_threshold"):
        _check_int(getattr(limit, name), name, 0, MAX_UINT256)
    if limit.over_max not in OVER_MAX:
        raise InvalidInput("over_max must be 'reject' or 'hold'", field="over_max")
    _check_int(limit.window_seconds, "window_seconds", 1, MAX_SECONDS)
    _check_int(limit.delay_seconds, "delay_seconds", 1, MAX_SECONDS)
    _check_int(limit.rate_per_minute, "rate_per_minute", 1, MAX_RATE)
    _pair(limit.window_seconds, "window_seconds", limit.window_amount, "window_amount")
    _pair(limit.delay_seconds, "delay_seconds", limit.delay_threshold, "delay_threshold")
    return limit


def _check_int(value: object, field: str, low: int, high: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer", field=field)
    if not low <= value <= high:
        raise InvalidInput(f"{field} must be in [{low}, {high}]", field=field)


def _pair(a: object, a_name: str, b: object, b_name: str) -> None:
    if a is None and b is not None:
        raise InvalidInput(f"{b_name} needs {a_name}", field=a_name)
    if b is None and a is not None:
        raise InvalidInput(f"{a_name} needs {b_name}", field=b_name)


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason is at most {MAX_REASON} characters", field="reason")
    return reason.strip()


def _limit_record(r: RiskLimit) -> RiskLimitRecord:
    return RiskLimitRecord(
        route_id=r.route_id,
        denom=r.denom,
        max_amount=None if r.max_amount is None else int(r.max_amount),
        over_max=r.over_max,
        window_seconds=None if r.window_seconds is None else int(r.window_seconds),
        window_amount=None if r.window_amount is None else int(r.window_amount),
        rate_per_minute=r.rate_per_minute,
        delay_threshold=None if r.delay_threshold is None else int(r.delay_threshold),
        delay_seconds=None if r.delay_seconds is None else int(r.delay_seconds),
        updated_at=r.updated_at,
    )


def _limit_snapshot(r: RiskLimitRecord | None) -> dict[str, Any] | None:
    if r is None:
        return None
    out: dict[str, Any] = {}
    for name in (
        "max_amount",
        "over_max",
        "window_seconds",
        "window_amount",
        "rate_per_minute",
        "delay_threshold",
        "delay_seconds",
    ):
        value = getattr(r, name)
        out[name] = str(value) if isinstance(value, int) and value > 2**53 else value
    return out


def longest_window(limits: Sequence[RiskLimitRecord]) -> float:
    """How far back a route's windows look: its longest window, at least the rate's minute."""
    return max([RATE_WINDOW, *(float(lim.window_seconds or 0) for lim in limits)])


class RiskStoreMixin:
    """Risk methods of ``SqlStore`` (``core.seams.RiskStore``)."""

    if TYPE_CHECKING:
        dialect: str

        def _read(self) -> AbstractContextManager[Session]: ...
        def _write(self) -> AbstractContextManager[Session]: ...

    # -- limits -----------------------------------------------------------------------

    def risk_limits(self, route_id: str | None = None) -> list[RiskLimitRecord]:
        query = select(RiskLimit).order_by(RiskLimit.route_id, RiskLimit.denom)
        if route_id is not None:
            query = query.where(RiskLimit.route_id == route_id)
        with self._read() as s:
            return [_limit_record(r) for r in s.scalars(query)]

    def put_risk_limit(self, limit: RiskLimitRecord, now: float) -> RiskLimitRecord:
        validate_risk_limit(limit)
        with self._write() as s:
            if s.get(Route, limit.route_id) is None:
                raise InvalidInput(f"route {limit.route_id!r} is not known", field="route_id")
            row = s.get(RiskLimit, (limit.route_id, limit.denom), with_for_update=True)
            before = None if row is None else _limit_record(row)
            if row is None:
                row = RiskLimit(route_id=limit.route_id, denom=limit.denom)
                s.add(row)
            row.max_amount = limit.max_amount
            row.over_max = limit.over_max
            row.window_seconds = limit.window_seconds
            row.window_amount = limit.window_amount
            row.rate_per_minute = limit.rate_per_minute
            row.delay_threshold = limit.delay_threshold
            row.delay_seconds = limit.delay_seconds
            row.updated_at = now
            s.flush()
            after = _limit_record(row)
            audit.stage(
                s,
                "risk.limit",
                "route",
                limit.route_id,
                now,
                before={"denom": limit.denom, "limit": _limit_snapshot(before)},
                after={"denom": limit.denom, "limit": _limit_snapshot(after)},
            )
            return after

    def delete_risk_limit(self, route_id: str, denom: str, now: float) -> None:
        with self._write() as s:
            row = s.get(RiskLimit, (route_id, denom), with_for_update=True)
            if row is None:
                raise NotFound(f"no limit for {route_id!r} / {denom!r}", route_id=route_id)
            audit.stage(
                s,
                "risk.limit",
                "route",
                route_id,
                now,
                before={"denom": denom, "limit": _limit_snapshot(_limit_record(row))},
                after={"denom": denom, "limit": None},
            )
            s.execute(
                delete(RiskLimit).where(RiskLimit.route_id == route_id, RiskLimit.denom == denom)
            )

    def risk_view(self, route_id: str, now: float) -> RiskView:
        with self._read() as s:
            return _view(s, route_id, now)

    # -- screening ----------------------------------------------------------------------

    def screen(
        self,
        transfer_ids: Sequence[str],
        expected: TransferState,
        origin: str,
        decide: Callable[[TransferRecord, RiskView], Verdict],
        now: float,
        *,
        recheck_at: float,
        worker: str | None = None,
    ) -> list[TransferRecord]:
        if origin not in _BACK_TO:
            raise InvalidInput(f"unknown hold origin {origin!r}", field="origin")
        expected = TransferState(expected)
        out: dict[str, TransferRecord] = {}
        with self._write() as s:
            routes = sorted(
                set(s.scalars(select(Transfer.route_id).where(Transfer.id.in_(transfer_ids))))
            )
            if self.dialect == "postgresql":
                # The one lock screenings of a route queue on, taken before the transfers'
                # (always route first, in route order: no two screenings deadlock).
                for route_id in routes:
                    s.execute(
                        select(Route.route_id).where(Route.route_id == route_id).with_for_update()
                    )
            # One query for the lot (a get per transfer was the screening's main cost with
            # a pass of 256); FOR UPDATE on PostgreSQL as the gets took it.
            loaded = {
                r.id: r
                for r in s.scalars(
                    select(Transfer).where(Transfer.id.in_(transfer_ids)).with_for_update()
                )
            }
            found = [loaded[i] for i in dict.fromkeys(transfer_ids) if i in loaded]
            for route_id in routes:
                view = _view(s, route_id, now)
                for row in (r for r in found if r.route_id == route_id):
                    if not _screenable(row, expected, worker, now):
                        out[row.id] = transfer_record(row)
                        continue
                    verdict = decide(transfer_record(row), view)
                    _apply(s, row, expected, origin, verdict, now, recheck_at)
                    if verdict is None:
                        view = RiskView(
                            view.limits,
                            (*view.admitted, WindowEntry(now, row.denom, int(row.amount))),
                        )
                    out[row.id] = transfer_record(row)
            s.flush()
        return [out[i] for i in transfer_ids if i in out]

    # -- a supervisor's or owner's decision --------------------------------------------

    def release_held(self, transfer_id: str, reason: str, now: float) -> TransferRecord:
        why = _reason(reason)
        with self._write() as s:
            row = _held(s, transfer_id)
            if row.hold_decision is not None:
                raise Conflict(
                    f"transfer {transfer_id} was {row.hold_decision}: it waits for its refund",
                    transfer_id=transfer_id,
                )
            origin = row.hold_origin or "api"
            _admit(
                s,
                row,
                TransferState.HELD,
                origin,
                now,
                f"released by a supervisor: {why}",
                drop_lease=True,
            )
            s.flush()
            return transfer_record(row)

    def reject_held(self, transfer_id: str, reason: str, now: float) -> TransferRecord:
        return self._decide_held(transfer_id, "rejected", _reason(reason), now, owner=None)

    def cancel_held(self, transfer_id: str, owner: str, reason: str, now: float) -> TransferRecord:
        return self._decide_held(transfer_id, "cancelled", _reason(reason), now, owner=owner)

    def _decide_held(
        self, transfer_id: str, decision: str, why: str, now: float, *, owner: str | None
    ) -> TransferRecord:
        if decision not in HOLD_DECISIONS:  # pragma: no cover - internal
            raise InvalidInput(f"unknown decision {decision!r}", field="decision")
        with self._write() as s:
            row = s.get(Transfer, transfer_id, with_for_update=True)
            if row is None:
                raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
            if owner is not None and row.created_by != owner:
                # Checked before the state, so a stranger learns nothing about the transfer.
                raise Forbidden(f"only the key that created transfer {transfer_id} may cancel it")
            row = _held(s, transfer_id)
            if row.hold_decision is not None:
                raise Conflict(
                    f"transfer {transfer_id} was {row.hold_decision} already",
                    transfer_id=transfer_id,
                )
            who = "its owner" if decision == "cancelled" else "a supervisor"
            if row.hold_origin == "source":
                # It left the source: only a refund gives it back, once its timeout passes.
                row.hold_decision = decision
                row.hold_until = None
                row.reason = f"{decision} by {who}: {why}; refunded once its timeout passes"
                row.next_attempt_at = now
                row.updated_at = now
                journal.add_history(
                    s,
                    TRANSFER,
                    transfer_id,
                    now,
                    row.state,
                    row.reason,
                    action="hold_" + decision,
                    before={"state": row.state, "decision": None},
                    after_extra={"decision": decision},
                )
            else:
                clear_hold(row)
                _move(
                    s,
                    row,
                    TransferState.REJECTED,
                    f"{decision} by {who}: {why}",
                    now,
                    drop_lease=True,
                )
            s.flush()
            return transfer_record(row)

    def held_transfers(
        self, *, after: str | None = None, limit: int = 50
    ) -> tuple[list[TransferRecord], str | None]:
        if not 1 <= limit <= MAX_HELD_PAGE:
            raise InvalidInput(f"limit must be in [1, {MAX_HELD_PAGE}]", field="limit")
        query = select(Transfer).where(Transfer.state == TransferState.HELD.value)
        if after is not None:
            at, last_id = decode_page_cursor(after)
            query = query.where(
                or_(
                    Transfer.created_at > at, and_(Transfer.created_at == at, Transfer.id > last_id)
                )
            )
        query = query.order_by(Transfer.created_at, Transfer.id).limit(limit + 1)
        with self._read() as s:
            rows = s.scalars(query).all()
            page = [transfer_record(r) for r in rows[:limit]]
        more = len(rows) > limit
        return page, (encode_page_cursor(page[-1].created_at, page[-1].id) if more else None)


# -- the transaction's work -------------------------------------------------------------


def _view(s: Session, route_id: str, now: float) -> RiskView:
    limits = tuple(
        _limit_record(r)
        for r in s.scalars(
            select(RiskLimit).where(RiskLimit.route_id == route_id).order_by(RiskLimit.denom)
        )
    )
    if not limits:
        return RiskView((), ())
    since = now - longest_window(limits)
    query = (
        select(Transfer.admitted_at, Transfer.denom, type_coerce(Transfer.amount, String))
        .where(
            Transfer.route_id == route_id,
            Transfer.admitted_at.is_not(None),
            Transfer.admitted_at > since,
            Transfer.state.not_in(_NOT_COUNTED),
        )
        .order_by(Transfer.admitted_at, Transfer.id)
    )
    if ALL_DENOMS not in {lim.denom for lim in limits}:  # only the denominations limited
        query = query.where(Transfer.denom.in_(sorted({lim.denom for lim in limits})))
    # Read as plain tuples, the amount as its stored text (the window read is the screening's
    # cost: it grows with what the window holds, docs/benchmarks.md "Risk screening").
    rows = s.connection().execute(query).all()
    return RiskView(limits, tuple(WindowEntry(a, d, int(v)) for a, d, v in rows))


def _screenable(row: Transfer, expected: TransferState, worker: str | None, now: float) -> bool:
    if row.state != expected.value:
        return False
    if row.admitted_at is not None:  # checked once (at the API, or an earlier pass)
        return False
    if row.state == TransferState.HELD.value and row.hold_decision is not None:
        return False  # cancelled or rejected: it only waits for its refund
    leased = row.lease_owner == worker and (row.lease_until or 0) > now
    return worker is None or leased


def _apply(
    s: Session,
    row: Transfer,
    expected: TransferState,
    origin: str,
    verdict: Verdict,
    now: float,
    recheck_at: float,
) -> None:
    if verdict is None:
        why = "released: the limits allow it now" if expected is TransferState.HELD else ""
        _admit(s, row, expected, origin, now, why)
        return
    if isinstance(verdict, Reject) and origin == "api":
        clear_hold(row)
        reason = f"rejected by {verdict.rule}: {verdict.reason}"
        _move(s, row, TransferState.REJECTED, reason, now, drop_lease=False)
        return
    if isinstance(verdict, Reject):
        hold = Hold(verdict.rule, verdict.reason, None)
        decision: str | None = "rejected"
    else:
        hold, decision = verdict, None
    before = (row.hold_rule, row.hold_until, row.hold_decision)
    row.hold_rule = hold.rule[:256]
    row.hold_reason = hold.reason
    row.hold_until = hold.release_at
    row.hold_origin = row.hold_origin if expected is TransferState.HELD else origin
    row.hold_decision = decision
    due = hold.release_at if hold.release_at is not None and decision is None else recheck_at
    reason = _hold_text(hold, decision)
    if expected is TransferState.HELD:
        row.next_attempt_at = due
        row.updated_at = now
        if before != (row.hold_rule, row.hold_until, row.hold_decision):
            row.reason = reason
            journal.add_history(s, TRANSFER, row.id, now, row.state, reason, action="hold")
        return
    _move(s, row, TransferState.HELD, reason, now, drop_lease=False)
    row.next_attempt_at = due


def _hold_text(hold: Hold, decision: str | None) -> str:
    if decision is not None:
        return f"rejected by {hold.rule}: {hold.reason}; refunded once its timeout passes"
    if hold.release_at is None:
        return f"held by {hold.rule}: {hold.reason}; waits for a supervisor"
    at = datetime.fromtimestamp(hold.release_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"held by {hold.rule}: {hold.reason}; released at {at}"


def _admit(
    s: Session,
    row: Transfer,
    expected: TransferState,
    origin: str,
    now: float,
    why: str,
    *,
    drop_lease: bool = False,
) -> None:
    row.admitted_at = now
    if expected is not TransferState.HELD:
        return
    back = _BACK_TO[row.hold_origin or origin]
    clear_hold(row)
    _move(s, row, back, why, now, drop_lease=drop_lease)


def clear_hold(row: Transfer) -> None:
    row.hold_rule = row.hold_reason = row.hold_origin = row.hold_decision = None
    row.hold_until = None


def _move(
    s: Session, row: Transfer, new: TransferState, reason: str, now: float, *, drop_lease: bool
) -> None:
    """``row.state -> new`` by the table. A screening relayer keeps its lease (it steps on);
    a supervisor's or owner's decision drops whatever lease a worker had."""
    current = TransferState(row.state)
    validate_transition(current, new)
    row.state = new.value
    row.reason = reason
    row.updated_at = now
    row.next_attempt_at = now
    row.attempts = 0
    if drop_lease:
        row.lease_owner, row.lease_until = None, None
    journal.add_history(
        s, TRANSFER, row.id, now, row.state, reason, action="transition", before=current.value
    )


def _held(s: Session, transfer_id: str) -> Transfer:
    row = s.get(Transfer, transfer_id, with_for_update=True)
    if row is None:
        raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
    if row.state != TransferState.HELD.value:
        raise Conflict(f"transfer {transfer_id} is {row.state}, not held", transfer_id=transfer_id)
    return row


__all__ = ["ALL_DENOMS", "RiskStoreMixin", "clear_hold", "longest_window", "validate_risk_limit"]
