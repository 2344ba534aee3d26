"""What the operator dashboard reads that the relayer never does: search, notaries, work.

A mixin of ``SqlStore`` (like the API keys and ``counts_by_state``), not part of
the ``Store`` seam: only the gateway asks these questions. Every query is bounded
by a ``limit`` the caller passes (at most ``MAX_ROWS``) and reads one indexed
table or a grouped aggregate, so a page costs the same on a hub with a million
transfers.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.records import EquivocationRecord, TransferRecord
from core.states import TERMINAL_TRANSFER_STATES, TransferState
from gateway.store.convert import equivocation_record, transfer_record
from gateway.store.models import (
    Action,
    Equivocation,
    HistoryEntry,
    NotarySignature,
    Swap,
    Transfer,
)

MAX_ROWS = 200
MAX_QUERY = 256
_HASH = re.compile(r"^(0x)?([0-9a-fA-F]{64})$")
_TERMINAL = sorted(s.value for s in TERMINAL_TRANSFER_STATES)


@dataclass(frozen=True, slots=True)
class NotaryActivity:
    """One notary's statements as the hub stored them."""

    notary: str
    deliveries: int
    nondeliveries: int
    last_seen: float  # the newest stored statement's time


@dataclass(frozen=True, slots=True)
class Statement:
    """One stored notary signature: who signed what, when."""

    notary: str
    transfer_id: str
    route_id: str
    sequence: int
    kind: str
    digest: bytes
    at: float


@dataclass(frozen=True, slots=True)
class Lease:
    """A transfer or swap leased by a relayer process right now."""

    subject: str  # "transfer" | "swap"
    id: str
    state: str
    owner: str
    until: float


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidInput(f"limit must be in [1, {MAX_ROWS}]", field="limit")
    return limit


class OperatorReadsMixin:
    """Reads for the dashboard; ``SqlStore`` provides ``_read``."""

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[Session]: ...
        def counts_by_state(self) -> dict[TransferState, int]: ...

    def find_transfers(self, text: str, limit: int = 50) -> list[TransferRecord]:
        """Transfers matching ``text``, newest first: a transaction hash (32 bytes, hex)
        matches the source, destination and every journaled or recorded transaction;
        anything else matches a transfer id or a sender or receiver (case-insensitive)."""
        text = text.strip()
        if not text or len(text) > MAX_QUERY:
            raise InvalidInput(f"a search is 1-{MAX_QUERY} characters", field="q")
        query = select(Transfer)
        found = _HASH.match(text)
        if found:
            tx = bytes.fromhex(found.group(2))
            journaled = select(Action.subject_id).where(
                Action.subject == "transfer", Action.tx_hash == tx
            )
            recorded = select(HistoryEntry.subject_id).where(
                HistoryEntry.subject == "transfer", HistoryEntry.tx_hash == tx
            )
            query = query.where(
                or_(
                    Transfer.source_tx == tx,
                    Transfer.dest_tx == tx,
                    Transfer.id.in_(journaled),
                    Transfer.id.in_(recorded),
                )
            )
        else:
            lowered = text.lower()
            query = query.where(
                or_(
                    Transfer.id == text,
                    func.lower(Transfer.sender) == lowered,
                    func.lower(Transfer.receiver) == lowered,
                )
            )
        query = query.order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(_limit(limit))
        with self._read() as s:
            return [transfer_record(r) for r in s.scalars(query)]

    def notary_activity(self) -> list[NotaryActivity]:
        """Every notary that ever stated something, most recently seen first."""
        delivery = func.sum(case((NotarySignature.kind == "delivery", 1), else_=0))
        query = (
            select(
                NotarySignature.notary,
                func.count(),
                delivery,
                func.max(NotarySignature.at),
            )
            .group_by(NotarySignature.notary)
            .order_by(func.max(NotarySignature.at).desc())
            .limit(MAX_ROWS)
        )
        with self._read() as s:
            rows = s.execute(query).all()
        return [
            NotaryActivity(str(n), int(d or 0), int(total) - int(d or 0), float(at))
            for n, total, d, at in rows
        ]

    def recent_statements(self, limit: int = 50) -> list[Statement]:
        """The newest stored notary signatures."""
        query = select(NotarySignature).order_by(NotarySignature.id.desc()).limit(_limit(limit))
        with self._read() as s:
            return [
                Statement(
                    r.notary, r.transfer_id, r.route_id, int(r.sequence), r.kind, r.digest, r.at
                )
                for r in s.scalars(query)
            ]

    def recent_equivocations(self, limit: int = 50) -> tuple[list[EquivocationRecord], int]:
        """The newest equivocation evidence and how much there is in all."""
        with self._read() as s:
            rows = s.scalars(
                select(Equivocation).order_by(Equivocation.id.desc()).limit(_limit(limit))
            ).all()
            total = s.scalar(select(func.count()).select_from(Equivocation))
            return [equivocation_record(r) for r in rows], int(total or 0)

    def leases(self, now: float, limit: int = 50) -> list[Lease]:
        """Transfers and swaps whose lease is held at ``now``, the soonest to expire first."""
        found: list[Lease] = []
        with self._read() as s:
            for subject, model in (("transfer", Transfer), ("swap", Swap)):
                rows = s.execute(
                    select(model.id, model.state, model.lease_owner, model.lease_until)
                    .where(model.lease_until.is_not(None), model.lease_until > now)
                    .order_by(model.lease_until)
                    .limit(_limit(limit))
                ).all()
                found += [Lease(subject, i, st, o or "", float(u)) for i, st, o, u in rows]
        return sorted(found, key=lambda lease: lease.until)[:limit]

    def backing_off(self, now: float, limit: int = 50) -> tuple[list[TransferRecord], int]:
        """Non-terminal transfers waiting for a later attempt (``next_attempt_at > now``),
        the soonest due first, and how many there are in all."""
        waiting = (Transfer.state.not_in(_TERMINAL), Transfer.next_attempt_at > now)
        with self._read() as s:
            rows = s.scalars(
                select(Transfer)
                .where(*waiting)
                .order_by(Transfer.next_attempt_at, Transfer.id)
                .limit(_limit(limit))
            ).all()
            total = s.scalar(select(func.count()).select_from(Transfer).where(*waiting))
        return [transfer_record(r) for r in rows], int(total or 0)


__all__ = ["MAX_ROWS", "Lease", "NotaryActivity", "OperatorReadsMixin", "Statement"]
