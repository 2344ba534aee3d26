"""Leasing due work rows (transfers, swaps): the one claim mechanism of the store.

A row is due when it is not in a terminal state, its ``next_attempt_at`` has
come and its lease is free or expired. Due rows go longest-waiting first
(``next_attempt_at``): ordering by creation let the oldest rows, each due again
a moment after its step, take every claim while newer ones starved
(``bench/hub_e2e.py`` measured it on transfers).

The terminal states are written into the query as constants (``literal_execute``), not
bound: each claimed table has a partial index of its live rows
(``live_due_where``; migration 0015), and SQLite uses a partial index only when the
query names its condition's constants. With bound values the planner took the route's
index and read every transfer the route ever had: 9 ms a claim at 12,000 transfers,
growing with the store (0.008 ms with the partial index).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.orm import Session

from core.errors import InvalidInput


def check_claim(worker: str, lease_seconds: float, limit: int) -> None:
    if not worker:
        raise InvalidInput("worker name required", field="worker")
    if lease_seconds <= 0 or limit < 1:
        raise InvalidInput("lease_seconds must be > 0 and limit >= 1")


def live_due_where(terminal: Sequence[str]) -> str:
    """The condition of a table's partial index of live rows, as the claim query writes it:
    ``state NOT IN (...)`` over the sorted terminal states."""
    return "state NOT IN (" + ", ".join(f"'{state}'" for state in sorted(terminal)) + ")"


def _due(model: Any, terminal: Sequence[str], now: float, where: Sequence[Any]) -> Select[Any]:
    constants = bindparam(
        f"terminal_{model.__tablename__}",
        sorted(terminal),
        expanding=True,
        literal_execute=True,  # written out: see the module's docstring
    )
    return select(model.id).where(
        model.state.not_in(constants),
        model.next_attempt_at <= now,
        or_(model.lease_until.is_(None), model.lease_until <= now),
        *where,
    )


def any_due(
    s: Session, model: Any, terminal: Sequence[str], *, now: float, where: Sequence[Any] = ()
) -> bool:
    """Whether ``lease_due`` would find a row, by a READ: a claimer polling an idle route
    asks this first and takes no write lock when nothing is due (on SQLite every claim
    was a ``BEGIN IMMEDIATE`` that queued behind, and held up, the writers with work:
    a tenth of the hub's samples waited there in issue #15's profile). A row that becomes
    due between the two is leased by the next poll."""
    return s.scalar(_due(model, terminal, now, where).limit(1)) is not None


def lease_due(
    s: Session,
    model: Any,
    terminal: Sequence[str],
    *,
    dialect: str,
    worker: str,
    now: float,
    lease_seconds: float,
    limit: int,
    where: Sequence[Any] = (),
) -> list[Any]:
    """Lease up to ``limit`` due rows of ``model`` to ``worker``; the rows, oldest first.

    CONTRACT: ``s`` is a write session. On SQLite it began with ``BEGIN IMMEDIATE``
    and so holds the only write lock (select-then-update cannot interleave with
    another claimer); on PostgreSQL ``FOR UPDATE SKIP LOCKED`` hands each row to
    one claimer. ``where``: more conditions on ``model`` (one route's rows).
    """
    due = _due(model, terminal, now, where).order_by(model.next_attempt_at, model.id).limit(limit)
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(s.scalars(due))
    if not ids:
        return []
    s.execute(
        update(model)
        .where(model.id.in_(ids))
        .values(lease_owner=worker, lease_until=now + lease_seconds)
        .execution_options(synchronize_session=False)
    )
    # Plain rows of the table (the mapped names), not mapped instances: claims run on every
    # pass, and nothing here changes a row through the ORM.
    table = model.__table__
    return list(
        s.execute(
            select(table).where(table.c.id.in_(ids)).order_by(table.c.created_at, table.c.id)
        ).all()
    )
