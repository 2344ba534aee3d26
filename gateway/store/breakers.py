"""The circuit breakers' side of ``SqlStore`` (``core.seams.BreakerStore``; a mixin).

``trip_breaker`` pauses a route the way an operator does (``routes.paused_reason``,
``route.pause`` in the audit log) but only when it is not paused yet, under the
route's row lock: two relayers tripping the same breaker at once write one pause and
one audit entry. The actor is ``breaker:<name>``, so the audit log tells a machine's
pause from a person's. ``value_in_flight`` is the store's term of the conservation
law (``core.conservation``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
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
        if not breaker.isidentifier() or len(breaker) > MAX_BREAKER_NAME:
            raise InvalidInput(f"breaker name {breaker!r} is not an identifier", field="breaker")
        if not reason.strip():
            raise InvalidInput("a breaker says why it tripped", field="reason")
        paused = f"breaker {breaker}: {reason.strip()[:MAX_TRIP_REASON]}"
        with self._write() as s:
            row = s.get(Route, route_id, with_for_update=True)
            if row is None:
                raise NotFound(f"route {route_id!r} not found", route_id=route_id)
            if row.paused_reason is not None:
                return None
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
            return route_record(row)

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
