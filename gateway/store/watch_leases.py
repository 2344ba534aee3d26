"""Watch leases in the store: which relayer process watches a source chain (a mixin).

Every ``pjgw relay`` / ``pjgw serve`` process runs a watcher per source chain;
with two processes on one database the same finalized blocks were listed and
decoded twice (issue #15). The lease on the chain's cursor key makes one process
the watcher: ``take_watch_lease`` is a compare-and-set in one write transaction
(an ``INSERT … ON CONFLICT DO UPDATE … WHERE`` the holder is the caller or its
lease ended; a missing row is nobody's lease), so of two processes asking at
once one holds it. A plain read comes first: a process standing by, finding
another's live lease, is answered without a write transaction (on SQLite every
write is a ``BEGIN IMMEDIATE`` queueing behind the writers with work, as
``leases.any_due`` says for claims); the same read says from whom an expired lease
is taken (the takeover's log line), the decision being the upsert's alone.

Not fenced: ``advance_cursor`` does not check the lease. The cursor is
forward-only and a watcher advances it only past heights whose packets it has
recorded itself (``record_packets`` is idempotent), so a late advance by a
process whose lease was taken moves it, at most, to a height below which every
packet is recorded: nothing is skipped, nothing recorded twice
(``core.seams.Store.take_watch_lease``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.records import WatchLease
from gateway.store.models import WatchLeaseRow

MAX_NAME = 128  # the key and owner columns


def _check(key: str, worker: str) -> None:
    if not key or len(key) > MAX_NAME:
        raise InvalidInput(f"a watch lease key has 1-{MAX_NAME} characters", field="key")
    if not worker or len(worker) > MAX_NAME:
        raise InvalidInput(f"a worker name has 1-{MAX_NAME} characters", field="worker")


class WatchLeaseStoreMixin:
    """Watch-lease methods of ``SqlStore``."""

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[Session]: ...
        def _write(self) -> AbstractContextManager[Session]: ...
        def _insert(self, session: Session) -> Any: ...

    def take_watch_lease(
        self, key: str, worker: str, now: float, lease_seconds: float
    ) -> WatchLease:
        """Take or renew ``worker``'s lease on ``key`` (``core.seams.Store``)."""
        _check(key, worker)
        if not lease_seconds > 0:
            raise InvalidInput("lease_seconds must be > 0", field="lease_seconds")
        row = WatchLeaseRow
        held = select(row.lease_owner, row.lease_until).where(row.key == key)
        with self._read() as s:  # a process standing by takes no write lock (every poll)
            seen = s.execute(held).first()
        if seen is not None and seen[0] != worker and seen[1] > now:
            return WatchLease(key, seen[0], float(seen[1]))
        with self._write() as s:
            stmt = self._insert(s)(row).values(
                key=key, lease_owner=worker, lease_until=now + lease_seconds
            )
            taken = s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[row.key],
                    set_={
                        "lease_owner": stmt.excluded.lease_owner,
                        "lease_until": stmt.excluded.lease_until,
                    },
                    where=or_(row.lease_owner == worker, row.lease_until <= now),
                ).returning(row.lease_owner, row.lease_until)
            ).first()
            # Refused (another process took it since the read): the row as it is now.
            owner, until = taken if taken is not None else s.execute(held).one()
        was = seen[0] if taken is not None and seen is not None and seen[0] != worker else None
        return WatchLease(key, owner, float(until), was)

    def release_watch_lease(self, key: str, worker: str) -> None:
        """End ``worker``'s lease on ``key`` (``core.seams.Store``)."""
        _check(key, worker)
        with self._write() as s:
            s.execute(
                delete(WatchLeaseRow).where(
                    WatchLeaseRow.key == key, WatchLeaseRow.lease_owner == worker
                )
            )


__all__ = ["WatchLeaseStoreMixin"]
