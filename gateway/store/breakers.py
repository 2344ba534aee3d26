"""The circuit breakers' side of ``SqlStore`` (``core.seams.BreakerStore``; a mixin).

``trip_breakers`` pauses routes the way an operator does (``routes.paused_reason``,
``route.pause`` in the audit log) but only those not paused yet, under the routes'
row locks and in one transaction: two relayers tripping the same breaker at once write
one pause and one audit entry, and a route's reverse is paused with it or not at
all. The actor is ``breaker:<name>``, so the audit log tells a machine's pause from a
person's. ``value_in_flight`` is the store's term of the conservation law
(``core.conservation``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.conservation import IN_FLIGHT_STATES
from core.errors import InvalidInput, NotFound
from core.ids import Height
from core.records import RouteRecord, TransferKind
from gateway.audit import context
from gateway.audit import log as audit
from gateway.store.convert import route_record
from gateway.store.models import Route, Transfer

T = TypeVar("T")
BREAKER_ROLE = "breaker"
MAX_BREAKER_NAME = 32
MAX_TRIP_REASON = 900  # with "breaker <name>: " it stays under the audit log's 1024


class BreakerStoreMixin:
    """Breaker methods of ``SqlStore``."""

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[Session]: ...
        def _write(self) -> AbstractContextManager[Session]: ...
        def _write_retrying(self, work: Callable[[Session], T]) -> T: ...

    def trip_breaker(
        self, route_id: str, breaker: str, reason: str, now: float
    ) -> RouteRecord | None:
        """Pause ``route_id`` as ``breaker:<breaker>`` unless it is paused already; the paused
        route, or None when a pause (an operator's or a breaker's) was there first."""
        (paused,) = self.trip_breakers(breaker, [(route_id, reason)], now)
        return paused

    def trip_breakers(
        self, breaker: str, reasons: Sequence[tuple[str, str]], now: float
    ) -> list[RouteRecord | None]:
        """Pause each ``(route_id, reason)`` as ``breaker:<breaker>`` in one transaction, so
        a route and its reverse are paused together or not at all (a relayer stopped
        between two commits left the reverse route open, and no later check of the paused
        route would close it). Per route, in the order given: the paused route, or None
        when a pause was there first. Rows are locked in route id order, so two relayers
        tripping the same pair in opposite orders cannot deadlock."""
        if not breaker.isidentifier() or len(breaker) > MAX_BREAKER_NAME:
            raise InvalidInput(f"breaker name {breaker!r} is not an identifier", field="breaker")
        ids = [route_id for route_id, _ in reasons]
        if len(set(ids)) != len(ids):
            raise InvalidInput("a route is tripped once per call", field="route_id")
        for _, reason in reasons:
            if not reason.strip():
                raise InvalidInput("a breaker says why it tripped", field="reason")
        with self._write() as s:
            rows = {
                row.route_id: row
                for row in s.scalars(
                    select(Route)
                    .where(Route.route_id.in_(ids))
                    .order_by(Route.route_id)
                    .with_for_update()
                )
            }
            missing = [route_id for route_id in ids if route_id not in rows]
            if missing:
                raise NotFound(f"route {missing[0]!r} not found", route_id=missing[0])
            out: list[RouteRecord | None] = []
            for route_id, reason in reasons:
                row = rows[route_id]
                if row.paused_reason is not None:
                    out.append(None)
                    continue
                paused = f"breaker {breaker}: {reason.strip()[:MAX_TRIP_REASON]}"
                with context.acting_as(f"breaker:{breaker}", BREAKER_ROLE):
                    audit.stage(
                        s,
                        "route.pause",
                        "route",
                        route_id,
                        now,
                        before={"paused_reason": None},
                        after={"paused_reason": paused},
                        reason=paused,
                    )
                row.paused_reason = paused
                s.flush()
                out.append(route_record(row))
            return out

    def value_in_flight(self, route_id: str, up_to: Height) -> dict[str, int]:
        """Per denomination the route's asset transfers carried: the amount certainly in
        flight with the packet at or below ``up_to`` on the source (``core.conservation``)."""
        limit = int(Height(up_to))
        states = [s.value for s in IN_FLIGHT_STATES]
        totals: dict[str, int] = defaultdict(int)
        with self._read() as s:
            denoms = s.scalars(
                select(Transfer.denom)
                .where(Transfer.route_id == route_id, Transfer.kind == TransferKind.ASSET.value)
                .distinct()
            ).all()
            for denom in denoms:
                totals[denom] += 0
            rows = s.execute(
                select(Transfer.denom, Transfer.amount).where(
                    Transfer.route_id == route_id,
                    Transfer.kind == TransferKind.ASSET.value,
                    Transfer.state.in_(states),
                    Transfer.source_height.is_not(None),
                    Transfer.source_height <= limit,
                )
            ).all()
        for denom, amount in rows:
            totals[denom] += int(amount)
        return dict(totals)


__all__ = ["BREAKER_ROLE", "BreakerStoreMixin"]
