"""``SqlStore``: the ``core.seams.Store`` seam on SQLAlchemy (SQLite or PostgreSQL).

Every public method is one database transaction on its own short-lived
session, so one ``SqlStore`` is shared by every thread of the hub. Writes on
SQLite start with ``BEGIN IMMEDIATE`` (see ``engine.py``); on PostgreSQL they
rely on row locks: the compare-and-set ``UPDATE … WHERE state = expected``
in ``transition`` and ``SELECT … FOR UPDATE SKIP LOCKED`` in ``claim_due``.
Library errors are translated here: an unreachable or locked database is
``StoreUnavailable`` (retryable), a uniqueness clash ``Conflict``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.orm import Session, sessionmaker

from core.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    LeaseLost,
    NotFound,
    PjgwError,
    StoreError,
    StoreUnavailable,
)
from core.ids import ChainId, Height, PacketId
from core.records import (
    ROUTE_STATUS_STATES,
    STATEMENT_KINDS,
    ActionRecord,
    ActionStatus,
    ChainRecord,
    ClientRecord,
    EquivocationRecord,
    NewTransfer,
    RouteProtocol,
    RouteRecord,
    RouteStatusRecord,
    SeenPacket,
    SignatureRecord,
    TransferEventRecord,
    TransferKind,
    TransferRecord,
)
from core.states import TERMINAL_TRANSFER_STATES, TransferState, validate_transition
from core.types import ChainAction
from gateway.audit import log as audit
from gateway.store import journal
from gateway.store.audit import AuditStoreMixin, chain_snapshot, route_snapshot
from gateway.store.batches import BatchStoreMixin
from gateway.store.breakers import BreakerStoreMixin
from gateway.store.codec import decode_page_cursor, encode_page_cursor
from gateway.store.convert import (
    equivocation_record,
    route_record,
    transfer_record,
)
from gateway.store.engine import WRITE_OPTION, make_engine
from gateway.store.journal import TRANSFER
from gateway.store.leases import any_due, check_claim, lease_due
from gateway.store.models import (
    ApiKey,
    Base,
    BatchMemberRow,
    Chain,
    ConsensusStateRow,
    Cursor,
    Equivocation,
    LightClientRow,
    NotarySignature,
    Route,
    RouteStatusRow,
    Transfer,
)
from gateway.store.operator import OperatorReadsMixin
from gateway.store.policies import PolicyStoreMixin
from gateway.store.risk import RiskStoreMixin
from gateway.store.rotations import RotationStoreMixin
from gateway.store.swaps import SwapStoreMixin
from gateway.store.watch_leases import WatchLeaseStoreMixin

T = TypeVar("T")

API_ROLES = frozenset({"admin", "client", "notary", "supervisor"})
MAX_PAGE = 1000
MAX_UINT256 = 2**256 - 1
# The fields ``transition`` may set besides the state (the seam's list).
TRANSITION_FIELDS = frozenset(
    {
        "packet",
        "source_tx",
        "source_height",
        "source_position",
        "source_event",
        "dest_tx",
        "packet_data",
        "source_attributes",
    }
)
_OWED: tuple[tuple[TransferState, str], ...] = (
    (TransferState.PROVEN, "delivery"),
    (TransferState.TIMED_OUT, "nondelivery"),
)
"""Which statement a transfer in a state is owed by each notary (``statements_owed``)."""
OWED_KINDS = tuple(kind for _state, kind in _OWED)
_TERMINAL = sorted(s.value for s in TERMINAL_TRANSFER_STATES)
_INSERT_RETRIES = 3
_TRANSFERS = Transfer.__table__


class SqlStore(
    SwapStoreMixin,
    OperatorReadsMixin,
    AuditStoreMixin,
    BatchStoreMixin,
    RotationStoreMixin,
    RiskStoreMixin,
    PolicyStoreMixin,
    BreakerStoreMixin,
    WatchLeaseStoreMixin,
):
    """The hub's store on one database URL (``sqlite:///file`` or ``postgresql+psycopg://``).

    Besides the seam it serves the API: API keys (only their SHA-256 is kept),
    ``ping`` for readiness, ``counts_by_state`` for metrics, and the dashboard's
    reads (``gateway.store.operator``).

    ``sqlite_synchronous`` is ``NORMAL`` by default (WAL: durable across a hub
    crash, the last commits may be lost on power failure; see docs/store.md);
    ``FULL`` fsyncs every commit at about a fifth of the write rate.

    Every change is audited in its own transaction (``gateway.audit.log``: entries
    staged by the change, chained on at commit; ``AuditStoreMixin``).
    """

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self._engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
        self.dialect = self._engine.dialect.name
        self._reader = sessionmaker(self._engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self._engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        audit.install(self._writer)
        audit.install(self._reader)  # nothing stages in a read, but nothing is lost if it did

    def __repr__(self) -> str:  # never the URL: it may carry a password
        return f"SqlStore(dialect={self.dialect!r})"

    @property
    def engine(self) -> Any:
        return self._engine

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        from gateway.store.migrate import upgrade_engine

        with self._errors():
            upgrade_engine(self._engine.execution_options(**{WRITE_OPTION: True}))

    def close(self) -> None:
        self._engine.dispose()

    # -- plumbing ---------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as err:
            # Connection refused, server gone, or SQLite still locked after busy_timeout.
            raise StoreUnavailable(
                f"database unavailable ({type(err.orig).__name__})", dialect=self.dialect
            ) from err
        except IntegrityError as err:
            raise Conflict(f"uniqueness or reference violated ({type(err.orig).__name__})") from err
        except DBAPIError as err:
            if err.connection_invalidated:
                raise StoreUnavailable("database connection lost") from err
            raise StoreError(f"database error ({type(err.orig).__name__})") from err
        except StatementError as err:
            if isinstance(err.orig, PjgwError):  # a column type refused a value (codec.py)
                raise err.orig from err
            raise StoreError(f"cannot bind a statement ({type(err.orig).__name__})") from err

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._errors(), self._reader() as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._errors(), self._writer() as session, session.begin():
            yield session

    def _write_retrying(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a write transaction, again after a lost insert race.

        Lookups come first in ``work``; an ``IntegrityError`` means another
        transaction inserted the same key between our lookup and our insert
        (possible on PostgreSQL at READ COMMITTED), so the retry finds it.
        """
        for attempt in range(_INSERT_RETRIES):
            try:
                with self._errors(), self._writer() as session, session.begin():
                    return work(session)
            except Conflict as err:
                if attempt == _INSERT_RETRIES - 1 or not isinstance(err.__cause__, IntegrityError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _insert(self, session: Session) -> Any:
        return (postgresql if self.dialect == "postgresql" else sqlite).insert

    # -- chains and routes ------------------------------------------------------

    def upsert_chain(self, chain: ChainRecord, *, now: float | None = None) -> None:
        """Register or replace a chain (audited ``chain.register``/``chain.update``; the
        entry keeps a digest of the settings, never the settings: they may hold secrets)."""
        values = {
            "chain_id": str(chain.chain_id),
            "family": chain.family,
            "settings": dict(chain.settings),
            "enabled": chain.enabled,
        }
        with self._write() as s:
            old = s.get(Chain, values["chain_id"])
            before = None if old is None else chain_snapshot(old.family, old.settings, old.enabled)
            audit.stage(
                s,
                "chain.register" if old is None else "chain.update",
                "chain",
                values["chain_id"],
                _now(now),
                before=before,
                after=chain_snapshot(chain.family, chain.settings, chain.enabled),
            )
            stmt = self._insert(s)(Chain).values(**values)
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Chain.chain_id],
                    set_={k: stmt.excluded[k] for k in values if k != "chain_id"},
                )
            )

    def chains(self) -> list[ChainRecord]:
        with self._read() as s:
            rows = s.scalars(select(Chain).order_by(Chain.chain_id)).all()
            return [
                ChainRecord(ChainId(r.chain_id), r.family, dict(r.settings), r.enabled)
                for r in rows
            ]

    def upsert_route(self, route: RouteRecord, *, now: float | None = None) -> None:
        """Register or replace a route (audited ``route.register``/``route.update``); a
        supervisor's pause (``paused_reason``) is kept."""
        values = {
            "route_id": route.route_id,
            "source": str(route.source),
            "destination": str(route.destination),
            "protocol": RouteProtocol(route.protocol).value,
            "settings": dict(route.settings),
            "enabled": route.enabled,
        }
        with self._write() as s:
            old = s.get(Route, route.route_id)
            audit.stage(
                s,
                "route.register" if old is None else "route.update",
                "route",
                route.route_id,
                _now(now),
                before=None if old is None else route_snapshot(route_record(old)),
                after=route_snapshot(route),
            )
            stmt = self._insert(s)(Route).values(**values)
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Route.route_id],
                    set_={k: stmt.excluded[k] for k in values if k != "route_id"},
                )
            )

    def routes(self) -> list[RouteRecord]:
        with self._read() as s:
            return [route_record(r) for r in s.scalars(select(Route).order_by(Route.route_id))]

    def route(self, route_id: str) -> RouteRecord:
        with self._read() as s:
            row = s.get(Route, route_id)
            if row is None:
                raise NotFound(f"route {route_id!r} not found", route_id=route_id)
            return route_record(row)

    def report_route_status(self, status: RouteStatusRecord) -> None:
        if status.state not in ROUTE_STATUS_STATES:
            raise InvalidInput(f"unknown route state {status.state!r}", field="state")
        if not status.worker or len(status.worker) > 128:
            raise InvalidInput("a route status needs a worker name of 1-128 characters")
        values = {
            "route_id": status.route_id,
            "worker": status.worker,
            "state": status.state,
            "reason": status.reason,
            "cursor": status.cursor,
            "since": status.since,
            "updated_at": status.updated_at,
        }
        with self._write() as s:
            stmt = self._insert(s)(RouteStatusRow).values(**values)
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[RouteStatusRow.route_id, RouteStatusRow.worker],
                    set_={k: stmt.excluded[k] for k in values if k not in ("route_id", "worker")},
                )
            )

    def route_statuses(self) -> list[RouteStatusRecord]:
        with self._read() as s:
            rows = s.scalars(
                select(RouteStatusRow).order_by(
                    RouteStatusRow.updated_at.desc(), RouteStatusRow.route_id, RouteStatusRow.worker
                )
            ).all()
            return [
                RouteStatusRecord(
                    r.route_id, r.worker, r.state, r.reason, r.cursor, r.since, r.updated_at
                )
                for r in rows
            ]

    # -- transfers --------------------------------------------------------------

    def create_transfer(
        self,
        new: NewTransfer,
        now: float,
        *,
        idempotency_key: str | None = None,
        request_hash: bytes | None = None,
    ) -> tuple[TransferRecord, bool]:
        _check_new(new)

        def work(s: Session) -> tuple[TransferRecord, bool]:
            if idempotency_key is not None:
                found = s.scalar(
                    select(Transfer).where(Transfer.idempotency_key == idempotency_key)
                )
                if found is not None:
                    if found.request_hash != request_hash:
                        raise Conflict(
                            "idempotency key already used with another request",
                            transfer_id=found.id,
                        )
                    return transfer_record(found), False
            if new.packet is not None:
                found = s.scalar(_by_packet(new.packet))
                if found is not None:
                    return transfer_record(found), False
            route = s.get(Route, new.route_id)
            if route is None:
                raise NotFound(f"route {new.route_id!r} not found", route_id=new.route_id)
            if new.packet is None and new.source_tx is not None:
                # One source transaction is one transfer, whatever the idempotency key (also
                # once the watcher gave it its packet); a concurrent insert of the same one
                # fails uq_transfers_pending_source_tx and the retry lands here.
                found = s.scalar(_by_source_tx(route.source, new.source_tx))
                if found is not None:
                    return transfer_record(found), False
            if new.packet is not None and (
                new.packet.source != route.source or new.packet.destination != route.destination
            ):
                raise InvalidInput(
                    f"packet {new.packet} does not travel route {route.route_id!r}",
                    field="packet",
                )
            row = _insert_transfer(
                s, route, new, now, idempotency_key=idempotency_key, request_hash=request_hash
            )
            return transfer_record(row), True

        return self._write_retrying(work)

    def transfer(self, transfer_id: str) -> TransferRecord:
        with self._read() as s:
            row = s.get(Transfer, transfer_id)
            if row is None:
                raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
            return transfer_record(row)

    def transfer_by_packet(self, packet: PacketId) -> TransferRecord | None:
        with self._read() as s:
            row = s.scalar(_by_packet(packet))
            return None if row is None else transfer_record(row)

    def transfer_by_source_tx(self, chain_id: ChainId, tx_hash: bytes) -> TransferRecord | None:
        with self._read() as s:
            row = s.scalar(
                select(Transfer)
                .where(Transfer.source_chain == str(chain_id), Transfer.source_tx == tx_hash)
                .order_by(Transfer.created_at, Transfer.id)
                .limit(1)
            )
            return None if row is None else transfer_record(row)

    def list_transfers(
        self,
        *,
        state: TransferState | None = None,
        chain: ChainId | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[TransferRecord], str | None]:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be in [1, {MAX_PAGE}]", field="limit")
        query = select(Transfer)
        if state is not None:
            query = query.where(Transfer.state == TransferState(state).value)
        if chain is not None:
            query = query.where(
                or_(Transfer.source_chain == str(chain), Transfer.dest_chain == str(chain))
            )
        if after is not None:
            at, last_id = decode_page_cursor(after)
            query = query.where(
                or_(
                    Transfer.created_at < at,
                    and_(Transfer.created_at == at, Transfer.id < last_id),
                )
            )
        query = query.order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(limit + 1)
        with self._read() as s:
            rows = s.scalars(query).all()
        page = [transfer_record(r) for r in rows[:limit]]
        more = len(rows) > limit
        return page, (encode_page_cursor(page[-1].created_at, page[-1].id) if more else None)

    def transition(
        self,
        transfer_id: str,
        expected: TransferState,
        new: TransferState,
        reason: str,
        now: float,
        *,
        worker: str | None = None,
        **fields: object,
    ) -> TransferRecord:
        validate_transition(TransferState(expected), TransferState(new))
        unknown = set(fields) - TRANSITION_FIELDS
        if unknown:
            raise InvalidInput(f"transition cannot set {sorted(unknown)}", field="fields")
        values: dict[str, Any] = {
            "state": TransferState(new).value,
            "reason": reason,
            "updated_at": now,
            "next_attempt_at": now,  # the next step is due at once
            "attempts": 0,  # attempts count per state (the backoff restarts)
        }
        values.update(_transition_values(fields))
        cond = [Transfer.id == transfer_id, Transfer.state == TransferState(expected).value]
        if worker is not None:
            cond += [Transfer.lease_owner == worker, Transfer.lease_until > now]
        with self._write() as s:
            result = s.execute(
                update(Transfer)
                .where(*cond)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                _raise_why_not(s.get(Transfer, transfer_id), transfer_id, expected, worker)
            row = s.get(Transfer, transfer_id, populate_existing=True)
            if row is None:  # pragma: no cover - we just updated it
                raise NotFound(f"transfer {transfer_id!r} not found")
            tx_hash, chain_id = None, None
            if fields.get("dest_tx") is not None:
                tx_hash, chain_id = row.dest_tx, row.dest_chain
            elif fields.get("source_tx") is not None:
                tx_hash, chain_id = row.source_tx, row.source_chain
            journal.add_history(
                s,
                TRANSFER,
                transfer_id,
                now,
                row.state,
                reason,
                tx_hash=tx_hash,
                chain_id=chain_id,
                action="transition",
                before=TransferState(expected).value,
            )
            s.flush()
            return transfer_record(row)

    def attach_source_event(
        self, transfer_id: str, reason: str, now: float, **fields: object
    ) -> TransferRecord:
        unknown = set(fields) - TRANSITION_FIELDS
        if unknown:
            raise InvalidInput(f"cannot attach {sorted(unknown)}", field="fields")
        values = _transition_values(fields)
        with self._write() as s:
            row = s.get(Transfer, transfer_id, with_for_update=True)
            if row is None:
                raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
            if row.state != TransferState.REQUESTED.value or row.source_height is not None:
                raise InvalidTransition(
                    f"transfer {transfer_id} has its packet event already ({row.state})",
                    current=row.state,
                )
            for name, value in values.items():
                setattr(row, name, value)
            row.reason = reason
            row.next_attempt_at = now  # the protocol moves it on at once
            row.updated_at = now
            journal.add_history(
                s,
                TRANSFER,
                transfer_id,
                now,
                row.state,
                reason,
                tx_hash=row.source_tx,
                chain_id=row.source_chain,
                action="source_event",
            )
            s.flush()
            return transfer_record(row)

    def record_packets(
        self, packets: Sequence[SeenPacket], now: float, *, final: bool = False
    ) -> int:
        """Record a watcher's chunk of packets in ONE transaction: for each, the transfer that
        tracks it (by packet; else the route's packet-less transfer of its source
        transaction, made by the API; else a new one) gets the event attached, exactly as
        ``create_transfer`` then ``attach_source_event`` would; a transfer that has its event
        already is left alone (a chunk read again after a crash). The number attached.

        The common case, a packet no transfer tracks yet, is written in bulk (issue #15:
        the chunk's lookups are two queries, its new transfers, history lines and audit
        entries one executemany each); a packet some transfer may track goes through the
        per-packet path (``_record_one``), in the chunk's order, with the same outcome.

        ``final`` (the seam's): a transfer created here is moved on to ``source_final`` in
        this transaction, with the history lines and audit entries ``move_many`` writes for
        ``requested -> source_committed`` and ``source_committed -> source_final``."""
        for seen in packets:
            _check_new(seen.new)
            if seen.new.packet is None or seen.new.source_tx is None:
                raise InvalidInput("a seen packet names its packet and source transaction")

        def work(s: Session) -> int:
            return _record_chunk(s, packets, now, final)

        return self._write_retrying(work)

    def note(self, transfer_id: str, reason: str, now: float, *, retry_at: float) -> None:
        with self._write() as s:
            row = s.get(Transfer, transfer_id, with_for_update=True)
            if row is None:
                raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
            changed = row.reason != reason
            row.reason = reason
            row.attempts += 1
            row.next_attempt_at = retry_at
            row.updated_at = now
            if changed:  # a wait is noted every pass: one line per distinct reason
                journal.add_history(s, TRANSFER, transfer_id, now, row.state, reason)

    def history(self, transfer_id: str, after_id: int = 0) -> list[TransferEventRecord]:
        with self._read() as s:
            rows = journal.history_rows(s, TRANSFER, transfer_id, after_id)
            if not rows and s.get(Transfer, transfer_id) is None:
                raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
            return [
                TransferEventRecord(
                    id=r.id,
                    transfer_id=r.subject_id,
                    at=r.at,
                    state=TransferState(r.state),
                    reason=r.reason,
                    tx_hash=r.tx_hash,
                    chain_id=ChainId(r.chain_id) if r.chain_id else None,
                )
                for r in rows
            ]

    # -- work distribution ------------------------------------------------------

    def claim_due(
        self,
        worker: str,
        now: float,
        lease_seconds: float,
        limit: int,
        *,
        route_id: str | None = None,
    ) -> list[TransferRecord]:
        check_claim(worker, lease_seconds, limit)
        where = () if route_id is None else (Transfer.route_id == route_id,)
        with self._read() as s:
            if not any_due(s, Transfer, _TERMINAL, now=now, where=where):
                return []
        with self._write() as s:
            rows = lease_due(
                s,
                Transfer,
                _TERMINAL,
                dialect=self.dialect,
                worker=worker,
                now=now,
                lease_seconds=lease_seconds,
                limit=limit,
                where=where,
            )
            return [transfer_record(r) for r in rows]

    def release(self, transfer_id: str, worker: str) -> None:
        with self._write() as s:
            s.execute(
                update(Transfer)
                .where(Transfer.id == transfer_id, Transfer.lease_owner == worker)
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    # -- the journal ------------------------------------------------------------

    def record_action(
        self,
        transfer_id: str,
        step: str,
        chain_id: ChainId,
        action: ChainAction,
        now: float,
        *,
        search_floor: Height | None = None,
        source_tx: bytes | None = None,
    ) -> ActionRecord:
        def work(s: Session) -> ActionRecord:
            if source_tx is not None:
                self._give_source_tx(s, transfer_id, source_tx)
            return journal.record_action(
                s, TRANSFER, transfer_id, step, chain_id, action, now, search_floor=search_floor
            )

        return self._write_retrying(work)

    def action(self, transfer_id: str, step: str) -> ActionRecord | None:
        with self._read() as s:
            return journal.find_action(s, TRANSFER, transfer_id, step)

    def mark_action(
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
                s, TRANSFER, action_id, status, tx_hash=tx_hash, height=height, reason=reason
            )

    def set_source_tx(self, transfer_id: str, tx_hash: bytes) -> None:
        with self._write() as s:
            self._give_source_tx(s, transfer_id, tx_hash)

    @staticmethod
    def _give_source_tx(s: Session, transfer_id: str, tx_hash: bytes) -> None:
        """The transfer's source transaction hash, only when it has none."""
        s.execute(
            update(Transfer)
            .where(Transfer.id == transfer_id, Transfer.source_tx.is_(None))
            .values(source_tx=bytes(tx_hash))
            .execution_options(synchronize_session=False)
        )

    # -- source scanning --------------------------------------------------------

    def cursor(self, key: str) -> Height | None:
        with self._read() as s:
            height = s.scalar(select(Cursor.height).where(Cursor.key == key))
            return None if height is None else Height(height)

    def advance_cursor(self, key: str, height: Height) -> None:
        self._set_cursor(key, Height(height), forward_only=True)

    def rewind_cursor(self, key: str, height: Height) -> None:
        self._set_cursor(key, Height(height), forward_only=False)

    def _set_cursor(self, key: str, height: Height, *, forward_only: bool) -> None:
        with self._write() as s:
            stmt = self._insert(s)(Cursor).values(key=key, height=int(height))
            where = Cursor.height < stmt.excluded.height if forward_only else None
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[Cursor.key],
                    set_={"height": stmt.excluded.height},
                    where=where,
                )
            )

    # -- light clients ----------------------------------------------------------

    def save_client(self, record: ClientRecord) -> None:
        """Replace the client and its consensus states by ``record`` (the caller prunes); a
        client that freezes here is audited (``client.freeze``, with its reason)."""
        with self._write() as s:
            if record.frozen:
                was = s.scalar(
                    select(LightClientRow.frozen).where(
                        LightClientRow.chain_id == str(record.chain_id)
                    )
                )
                if not was:
                    audit.stage(
                        s,
                        "client.freeze",
                        "chain",
                        str(record.chain_id),
                        record.updated_at,
                        before={"frozen": False},
                        after={
                            "frozen": True,
                            "trusted_height": int(Height(record.trusted_height)),
                            "evidence_sha256": hashlib.sha256(bytes(record.evidence)).hexdigest(),
                        },
                        reason=record.frozen_reason[:1024],
                    )
            self._save_client(s, record)

    def unfreeze_client(self, record: ClientRecord, reason: str, now: float) -> ClientRecord:
        """Replace a FROZEN client by ``record`` (a new trust anchor, unfrozen), audited as
        ``client.unfreeze`` with the freeze it ends; ``Conflict`` unless it is frozen."""
        if record.frozen:
            raise InvalidInput("the new client record must not be frozen", field="record")
        if not reason.strip():
            raise InvalidInput("a reason is required", field="reason")
        with self._write() as s:
            old = s.get(LightClientRow, str(record.chain_id), with_for_update=True)
            if old is None or not old.frozen:
                raise Conflict(
                    f"the light client of {record.chain_id} is not frozen: nothing to unfreeze",
                    chain_id=str(record.chain_id),
                )
            audit.stage(
                s,
                "client.unfreeze",
                "chain",
                str(record.chain_id),
                now,
                before={
                    "trusted_height": int(old.trusted_height),
                    "frozen": True,
                    "frozen_reason": old.frozen_reason,
                    "evidence_sha256": hashlib.sha256(old.evidence or b"").hexdigest(),
                },
                after={"trusted_height": int(Height(record.trusted_height)), "frozen": False},
                reason=reason.strip()[:1024],
            )
            self._save_client(s, record)
        return record

    def _save_client(self, s: Session, record: ClientRecord) -> None:
        values = {
            "chain_id": str(record.chain_id),
            "client_state": bytes(record.client_state),
            "trusted_height": int(Height(record.trusted_height)),
            "frozen": record.frozen,
            "frozen_reason": record.frozen_reason,
            "updated_at": record.updated_at,
            "evidence": bytes(record.evidence) or None,
        }
        heights = {int(Height(h)): bytes(v) for h, v in record.consensus_states.items()}
        insert = self._insert(s)
        stmt = insert(LightClientRow).values(**values)
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=[LightClientRow.chain_id],
                set_={k: stmt.excluded[k] for k in values if k != "chain_id"},
            )
        )
        stale = delete(ConsensusStateRow).where(ConsensusStateRow.chain_id == values["chain_id"])
        if heights:
            stale = stale.where(ConsensusStateRow.height.not_in(list(heights)))
        s.execute(stale)
        if heights:
            cs = insert(ConsensusStateRow)
            s.execute(
                cs.on_conflict_do_update(
                    index_elements=[ConsensusStateRow.chain_id, ConsensusStateRow.height],
                    set_={"state": cs.excluded.state},
                ),
                [
                    {"chain_id": values["chain_id"], "height": h, "state": v}
                    for h, v in sorted(heights.items())
                ],
            )

    def client(self, chain_id: ChainId) -> ClientRecord | None:
        with self._read() as s:
            row = s.get(LightClientRow, str(chain_id))
            if row is None:
                return None
            states = s.execute(
                select(ConsensusStateRow.height, ConsensusStateRow.state)
                .where(ConsensusStateRow.chain_id == row.chain_id)
                .order_by(ConsensusStateRow.height)
            ).all()
            return ClientRecord(
                chain_id=ChainId(row.chain_id),
                client_state=row.client_state,
                consensus_states={int(h): v for h, v in states},
                trusted_height=Height(row.trusted_height),
                frozen=row.frozen,
                frozen_reason=row.frozen_reason,
                updated_at=row.updated_at,
                evidence=row.evidence or b"",
            )

    # -- notaries ---------------------------------------------------------------

    def add_signature(
        self, record: SignatureRecord, route_id: str, sequence: int
    ) -> EquivocationRecord | None:
        if record.kind not in STATEMENT_KINDS:
            raise InvalidInput(f"unknown statement kind {record.kind!r}", field="kind")

        def work(s: Session) -> EquivocationRecord | None:
            first = s.scalar(
                select(NotarySignature).where(
                    NotarySignature.route_id == route_id,
                    NotarySignature.sequence == sequence,
                    NotarySignature.kind == record.kind,
                    NotarySignature.notary == record.notary,
                )
            )
            if first is None:
                if s.get(Transfer, record.transfer_id) is None:
                    raise NotFound(
                        f"transfer {record.transfer_id!r} not found",
                        transfer_id=record.transfer_id,
                    )
                s.add(
                    NotarySignature(
                        transfer_id=record.transfer_id,
                        route_id=route_id,
                        sequence=sequence,
                        kind=record.kind,
                        notary=record.notary,
                        digest=bytes(record.digest),
                        signature=bytes(record.signature),
                        at=record.at,
                    )
                )
                s.flush()
                return None
            if first.digest == record.digest:
                return None  # the same attestation again: counted once
            known = s.scalar(
                select(Equivocation).where(
                    Equivocation.notary == record.notary,
                    Equivocation.route_id == route_id,
                    Equivocation.sequence == sequence,
                    Equivocation.kind == record.kind,
                    Equivocation.digest_b == record.digest,
                )
            )
            if known is None:
                known = Equivocation(
                    notary=record.notary,
                    route_id=route_id,
                    sequence=sequence,
                    kind=record.kind,
                    digest_a=first.digest,
                    signature_a=first.signature,
                    digest_b=bytes(record.digest),
                    signature_b=bytes(record.signature),
                    at=record.at,
                )
                s.add(known)
                s.flush()
            return equivocation_record(known)

        return self._write_retrying(work)

    def signatures(self, transfer_id: str) -> list[SignatureRecord]:
        return self.signatures_of([transfer_id])[transfer_id]

    def signatures_of(self, transfer_ids: Sequence[str]) -> dict[str, list[SignatureRecord]]:
        found: dict[str, list[SignatureRecord]] = {tid: [] for tid in transfer_ids}
        if not found:
            return found
        with self._read() as s:
            rows = s.scalars(
                select(NotarySignature)
                .where(NotarySignature.transfer_id.in_(list(found)))
                .order_by(NotarySignature.id)
            )
            for r in rows:
                found[r.transfer_id].append(
                    SignatureRecord(r.transfer_id, r.notary, r.digest, r.signature, r.at, r.kind)
                )
        return found

    def statements_owed(
        self, notary: str, limit: int, kinds: Collection[str] = OWED_KINDS
    ) -> list[tuple[TransferRecord, str]]:
        owed: list[tuple[TransferRecord, str]] = []
        with self._read() as s:
            for state, kind in _OWED:
                if kind not in kinds:
                    continue
                made = (
                    select(NotarySignature.id)
                    .where(
                        NotarySignature.transfer_id == Transfer.id,
                        NotarySignature.kind == kind,
                        func.lower(NotarySignature.notary) == notary.lower(),
                    )
                    .exists()
                )
                # A packet in a batch of this kind (delivery 0, non-delivery 1) is signed
                # with its batch (batches_owed).
                batched = (
                    select(BatchMemberRow.idx)
                    .where(
                        BatchMemberRow.transfer_id == Transfer.id,
                        BatchMemberRow.kind == (0 if kind == "delivery" else 1),
                    )
                    .exists()
                )
                rows = s.scalars(
                    select(Transfer)
                    .where(
                        Transfer.state == state.value,
                        Transfer.packet_sequence.is_not(None),
                        Transfer.source_tx.is_not(None),
                        Transfer.source_height.is_not(None),
                        ~made,
                        ~batched,
                    )
                    .order_by(Transfer.created_at, Transfer.id)
                    .limit(limit - len(owed))
                )
                owed.extend((transfer_record(r), kind) for r in rows)
                if len(owed) >= limit:
                    break
        return owed

    def equivocations(self) -> list[EquivocationRecord]:
        with self._read() as s:
            rows = s.scalars(select(Equivocation).order_by(Equivocation.id))
            return [equivocation_record(r) for r in rows]

    # -- for the API: keys, readiness, metrics ----------------------------------

    def create_api_key(self, name: str, role: str, now: float) -> str:
        """Create a key and return its token: the only time it is ever visible."""
        if role not in API_ROLES:
            raise InvalidInput(f"role must be one of {sorted(API_ROLES)}", field="role")
        if not name or len(name) > 128:
            raise InvalidInput("key name must be 1-128 characters", field="name")
        token = "pjgw_" + secrets.token_urlsafe(32)
        try:
            with self._write() as s:
                audit.stage(s, "key.create", "key", name, now, after={"role": role})
                s.add(
                    ApiKey(
                        name=name,
                        token_hash=_token_hash(token),
                        role=role,
                        created_at=now,
                        revoked=False,
                    )
                )
                s.flush()
        except Conflict as err:
            raise Conflict(f"an API key named {name!r} exists", name=name) from err
        return token

    def verify_api_key(self, token: str) -> tuple[str, str] | None:
        """``(name, role)`` of a valid, unrevoked token, else ``None``."""
        digest = _token_hash(token)
        with self._read() as s:
            row = s.scalar(select(ApiKey).where(ApiKey.token_hash == digest))
            if row is None or row.revoked or not hmac.compare_digest(row.token_hash, digest):
                return None
            return row.name, row.role

    def revoke_api_key(self, name: str, *, now: float | None = None) -> None:
        with self._write() as s:
            audit.stage(
                s,
                "key.revoke",
                "key",
                name,
                _now(now),
                before={"revoked": False},
                after={"revoked": True},
            )
            result = s.execute(
                update(ApiKey)
                .where(ApiKey.name == name)
                .values(revoked=True)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFound(f"API key {name!r} not found", name=name)

    def ping(self) -> None:
        """Round-trip to the database; ``StoreUnavailable`` when it does not answer."""
        with self._read() as s:
            s.execute(select(1))

    def counts_by_state(self) -> dict[TransferState, int]:
        """How many transfers are in each state (every state present, zeros included)."""
        with self._read() as s:
            rows = s.execute(select(Transfer.state, func.count()).group_by(Transfer.state)).all()
        counts = dict.fromkeys(TransferState, 0)
        for state, n in rows:
            counts[TransferState(state)] = int(n)
        return counts

    def work_queue(self, worker: str, now: float) -> tuple[int, int]:
        """``(waiting, leased)`` for the relayer's metrics: non-terminal transfers not due
        before ``now`` (backing off or waiting), and those ``worker`` holds a live lease on."""
        live = Transfer.state.not_in(_TERMINAL)
        with self._read() as s:
            waiting = s.scalar(select(func.count()).where(live, Transfer.next_attempt_at > now))
            leased = s.scalar(
                select(func.count()).where(
                    live, Transfer.lease_owner == worker, Transfer.lease_until > now
                )
            )
        return int(waiting or 0), int(leased or 0)


# -- row <-> record ---------------------------------------------------------------


def _now(now: float | None) -> float:
    """The caller's clock, or the wall clock for seam methods that take none."""
    return time.time() if now is None else now


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


_BYPASSED_STATES = frozenset({TransferState.HELD.value, TransferState.REJECTED.value})
"""A packet-less API transfer in these states does not adopt its source transaction's
packet when the client broadcasts it anyway (``record_packets``)."""


def _close_bypassed(s: Session, held: Transfer, packet_transfer_id: str, now: float) -> None:
    """The held API request whose transaction was sent outside the hub: ``held -> rejected``,
    pointing at the transfer that now tracks its packet (that one is screened once proven)."""
    reason = (
        "its transaction was sent outside the hub while held: its packet is "
        f"transfer {packet_transfer_id}"
    )
    held.state = TransferState.REJECTED.value
    held.reason = reason
    held.updated_at = now
    journal.add_history(
        s,
        TRANSFER,
        held.id,
        now,
        held.state,
        reason,
        action="transition",
        before=TransferState.HELD.value,
    )


def _record_rowwise(
    s: Session, packets: Sequence[SeenPacket], now: float, final: bool = False
) -> int:
    """A chunk packet by packet (the path before issue #15's bulk one; kept for the bench
    and as the reference of the bulk path's test)."""
    routes: dict[str, Route | None] = {}
    attached = 0
    for seen in packets:
        route = _route_of(s, routes, seen.new.route_id)
        attached += _record_one(s, route, seen, now, final)
    return attached


def _record_bulk(s: Session, packets: Sequence[SeenPacket], now: float, final: bool = False) -> int:
    """A chunk in bulk: a packet no transfer tracks (none by packet, and no packet-less one
    of its source transaction) becomes a new transfer with its event, inserted with the
    chunk's others in one executemany; any other packet (tracked, API-made, held, or
    twice in the chunk) takes ``_record_one`` after the rows before it are written, so
    the rows, history ids and audit order are those of ``_record_rowwise``."""
    routes: dict[str, Route | None] = {}
    tracked = _tracked_packets(s, packets)
    untracked = [seen for seen in packets if _packet_key(seen) not in tracked]
    packet_less = _packet_less_txs(s, routes, untracked)
    rows: list[dict[str, Any]] = []
    lines: list[journal.HistoryLine] = []
    keys: set[tuple[str, str, int]] = set()
    attached = 0
    for seen in packets:
        new = seen.new
        route = _route_of(s, routes, new.route_id)
        key = _packet_key(seen)
        done = tracked.get(key)
        if done:
            continue  # attached already, or moved on: left alone (as ``_record_one``)
        if done is not None or key in keys or (route.source, new.source_tx) in packet_less:
            _write_new(s, rows, lines, now)
            attached += _record_one(s, route, seen, now, final)
            continue
        keys.add(key)
        attached += _new_with_event(route, seen, now, rows, lines, final)
    _write_new(s, rows, lines, now)
    return attached


_record_chunk = _record_bulk
"""How ``record_packets`` writes a chunk (``bench/store_writes.py`` swaps in the other)."""


def _route_of(s: Session, routes: dict[str, Route | None], route_id: str) -> Route:
    if route_id not in routes:
        routes[route_id] = s.get(Route, route_id)
    route = routes[route_id]
    if route is None:
        raise NotFound(f"route {route_id!r} not found", route_id=route_id)
    return route


def _packet_key(seen: SeenPacket) -> tuple[str, str, int]:
    packet = seen.new.packet
    return (str(packet.source), str(packet.destination), packet.sequence)  # type: ignore[union-attr]


def _tracked_packets(s: Session, packets: Sequence[SeenPacket]) -> dict[tuple[str, str, int], bool]:
    """The chunk's packets some transfer tracks: whether it has its event already or has
    moved on (nothing to do), one query per source and destination pair."""
    by_pair: dict[tuple[str, str], list[int]] = {}
    for seen in packets:
        source, destination, sequence = _packet_key(seen)
        by_pair.setdefault((source, destination), []).append(sequence)
    out: dict[tuple[str, str, int], bool] = {}
    for (source, destination), sequences in by_pair.items():
        found = s.execute(
            select(Transfer.packet_sequence, Transfer.state, Transfer.source_height).where(
                Transfer.packet_source == source,
                Transfer.packet_destination == destination,
                Transfer.packet_sequence.in_(sorted(set(sequences))),
            )
        )
        for sequence, state, height in found:
            done = state != TransferState.REQUESTED.value or height is not None
            out[(source, destination, int(sequence))] = done
    return out


def _packet_less_txs(
    s: Session, routes: dict[str, Route | None], packets: Sequence[SeenPacket]
) -> set[tuple[str, bytes]]:
    """The source transactions of ``packets`` some packet-less transfer names (made by the
    API: it may adopt the packet, or be a held one the packet bypassed), one query per
    source chain."""
    by_chain: dict[str, set[bytes]] = {}
    for seen in packets:
        route_id = seen.new.route_id
        if route_id not in routes:
            routes[route_id] = s.get(Route, route_id)
        route = routes[route_id]
        if route is None:
            continue  # refused in the chunk's order (``_record_bulk``)
        by_chain.setdefault(route.source, set()).add(bytes(seen.new.source_tx))  # type: ignore[arg-type]
    out: set[tuple[str, bytes]] = set()
    for chain, txs in by_chain.items():
        found = s.execute(
            select(Transfer.source_tx).where(
                Transfer.source_chain == chain,
                Transfer.source_tx.in_(sorted(txs)),
                Transfer.packet_sequence.is_(None),
            )
        )
        out.update((chain, bytes(tx)) for (tx,) in found)
    return out


def _new_with_event(
    route: Route,
    seen: SeenPacket,
    now: float,
    rows: list[dict[str, Any]],
    lines: list[journal.HistoryLine],
    final: bool,
) -> int:
    """Queue a new transfer of ``seen`` with its event attached: the row, history lines and
    audit entries ``_insert_transfer`` then the attach of ``_record_one`` write (and with
    ``final`` its two moves). 1 if attached (a new transfer not ``requested`` is only
    created, as there)."""
    new = seen.new
    packet = new.packet
    if (packet.source, packet.destination) != (route.source, route.destination):  # type: ignore[union-attr]
        raise InvalidInput(
            f"packet {packet} does not travel route {route.route_id!r}", field="packet"
        )
    transfer_id = "tr_" + uuid.uuid4().hex
    state = TransferState(new.state).value
    row: dict[str, Any] = {
        "id": transfer_id,
        "route_id": route.route_id,
        "source_chain": route.source,
        "dest_chain": route.destination,
        "kind": TransferKind(new.kind).value,
        "sender": new.sender,
        "receiver": new.receiver,
        "denom": new.denom,
        "amount": new.amount,
        "payload": bytes(new.payload),
        "timeout_height": new.timeout_height,
        "timeout_time": new.timeout_time,
        "state": state,
        "reason": new.reason,
        "packet_source": str(packet.source),  # type: ignore[union-attr]
        "packet_destination": str(packet.destination),  # type: ignore[union-attr]
        "packet_sequence": packet.sequence,  # type: ignore[union-attr]
        "source_tx": new.source_tx,
        "source_height": None,
        "source_position": None,
        "source_event": b"",
        "dest_tx": None,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "lease_owner": None,
        "lease_until": None,
        "idempotency_key": None,
        "request_hash": None,
        "created_by": new.created_by,
        "packet_data": None,
        "source_attributes": None,
    }
    lines.append(
        journal.HistoryLine(
            transfer_id,
            state,
            new.reason,
            tx_hash=new.source_tx,
            chain_id=route.source if new.source_tx else None,
            action="create",
        )
    )
    rows.append(row)
    if state != TransferState.REQUESTED.value:
        return 0
    row.update(_event_values(seen))
    row["reason"] = seen.reason
    lines.append(
        journal.HistoryLine(
            transfer_id,
            state,
            seen.reason,
            tx_hash=row["source_tx"],
            chain_id=route.source,
            action="source_event",
        )
    )
    if final:
        for before, after, reason in _final_moves(route, seen.source_height):
            lines.append(
                journal.HistoryLine(transfer_id, after, reason, action="transition", before=before)
            )
            row["state"], row["reason"] = after, reason
    return 1


def _event_values(seen: SeenPacket) -> dict[str, Any]:
    """The columns attaching ``seen``'s event sets (``_record_one``)."""
    return _transition_values(
        {
            "packet": seen.new.packet,
            "source_tx": seen.new.source_tx,
            "source_height": seen.source_height,
            "source_position": seen.source_position,
            "source_event": seen.source_event,
            "packet_data": dict(seen.packet_data),
            "source_attributes": dict(seen.source_attributes),
        }
    )


def _write_new(
    s: Session, rows: list[dict[str, Any]], lines: list[journal.HistoryLine], now: float
) -> None:
    """Insert the queued new transfers, then their history lines (and stage their audit
    entries), and empty the queues."""
    if rows:
        s.flush()  # what the per-packet path left unflushed goes first
        s.execute(insert(_TRANSFERS), rows)
        rows.clear()
    journal.add_history_many(s, TRANSFER, now, lines)
    lines.clear()


def _record_one(s: Session, route: Route, seen: SeenPacket, now: float, final: bool) -> int:
    """One packet of a chunk, looked up and written on its own: 1 if its event was attached
    (``final``: a transfer created here moves on to ``source_final``, as in bulk)."""
    new = seen.new
    row = s.scalar(_by_packet(new.packet))  # type: ignore[arg-type]
    bypassed: Transfer | None = None
    created = False
    if row is None:
        by_tx = s.scalar(_by_source_tx(route.source, new.source_tx))  # type: ignore[arg-type]
        if by_tx is not None and by_tx.route_id == route.route_id and by_tx.packet_sequence is None:
            if by_tx.state in _BYPASSED_STATES:
                # The client broadcast a transaction the hub held or refused at the API:
                # its packet is tracked (and screened once proven) like a direct bridge
                # call, by a transfer of its own.
                bypassed = by_tx
            else:
                row = by_tx
    if row is None:
        if (new.packet.source, new.packet.destination) != (  # type: ignore[union-attr]
            route.source,
            route.destination,
        ):
            raise InvalidInput(
                f"packet {new.packet} does not travel route {route.route_id!r}",
                field="packet",
            )
        row = _insert_transfer(s, route, new, now)
        created = True
        if bypassed is not None and bypassed.state == TransferState.HELD.value:
            _close_bypassed(s, bypassed, row.id, now)
    if row.state != TransferState.REQUESTED.value or row.source_height is not None:
        return 0
    for name, value in _event_values(seen).items():
        setattr(row, name, value)
    row.reason = seen.reason
    row.next_attempt_at = now
    row.updated_at = now
    journal.add_history(
        s,
        TRANSFER,
        row.id,
        now,
        row.state,
        seen.reason,
        tx_hash=row.source_tx,
        chain_id=row.source_chain,
        action="source_event",
    )
    if final and created:
        for before, after, reason in _final_moves(route, seen.source_height):
            row.state, row.reason = after, reason
            journal.add_history(
                s, TRANSFER, row.id, now, after, reason, action="transition", before=before
            )
    s.flush()
    return 1


def _final_moves(route: Route, height: int) -> tuple[tuple[str, str, str], ...]:
    """``(before, after, reason)`` of the two moves of a packet recorded from a finalized
    range (``record_packets(final=True)``): each in the transition table."""
    committed = (
        TransferState.REQUESTED,
        TransferState.SOURCE_COMMITTED,
        f"send_packet recorded in its block of {route.source}",
    )
    final = (
        TransferState.SOURCE_COMMITTED,
        TransferState.SOURCE_FINAL,
        f"block {height} final (the watcher read it from a finalized range)",
    )
    out = []
    for before, after, reason in (committed, final):
        validate_transition(before, after)
        out.append((before.value, after.value, reason))
    return tuple(out)


def _insert_transfer(
    s: Session,
    route: Route,
    new: NewTransfer,
    now: float,
    *,
    idempotency_key: str | None = None,
    request_hash: bytes | None = None,
) -> Transfer:
    """A new transfer row of ``route`` with its ``create`` history line (flushed)."""
    row = Transfer(
        id="tr_" + uuid.uuid4().hex,
        route_id=route.route_id,
        source_chain=route.source,
        dest_chain=route.destination,
        kind=TransferKind(new.kind).value,
        sender=new.sender,
        receiver=new.receiver,
        denom=new.denom,
        amount=new.amount,
        payload=bytes(new.payload),
        timeout_height=new.timeout_height,
        timeout_time=new.timeout_time,
        state=TransferState(new.state).value,
        reason=new.reason,
        source_tx=new.source_tx,
        source_height=None,
        source_position=None,
        source_event=b"",
        dest_tx=None,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        lease_owner=None,
        lease_until=None,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=new.created_by,
    )
    _set_packet(row, new.packet)
    s.add(row)
    s.flush()
    journal.add_history(
        s,
        TRANSFER,
        row.id,
        now,
        row.state,
        row.reason,
        tx_hash=new.source_tx,
        chain_id=route.source if new.source_tx else None,
        action="create",
    )
    s.flush()
    return row


def _check_new(new: NewTransfer) -> None:
    if isinstance(new.amount, bool) or not isinstance(new.amount, int):
        raise InvalidInput("amount must be an integer", field="amount")
    if not 0 <= new.amount <= MAX_UINT256:
        raise InvalidInput("amount outside [0, 2**256-1]", field="amount")
    for name in ("timeout_height", "timeout_time"):
        value = getattr(new, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise InvalidInput(f"{name} outside [0, 2**64-1]", field=name)


def _by_packet(packet: PacketId) -> Select[tuple[Transfer]]:
    return select(Transfer).where(
        Transfer.packet_source == str(packet.source),
        Transfer.packet_destination == str(packet.destination),
        Transfer.packet_sequence == packet.sequence,
    )


def _by_source_tx(chain: str, tx_hash: bytes) -> Select[tuple[Transfer]]:
    """The oldest transfer of a source transaction (a transaction with several packets has
    several; the one made from the request, if any, is the oldest)."""
    return (
        select(Transfer)
        .where(Transfer.source_chain == chain, Transfer.source_tx == bytes(tx_hash))
        .order_by(Transfer.created_at, Transfer.id)
        .limit(1)
    )


def _set_packet(row: Transfer, packet: PacketId | None) -> None:
    row.packet_source = None if packet is None else str(packet.source)
    row.packet_destination = None if packet is None else str(packet.destination)
    row.packet_sequence = None if packet is None else packet.sequence


def _transition_values(fields: dict[str, object]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "packet":
            if value is not None and not isinstance(value, PacketId):
                raise InvalidInput("packet must be a PacketId", field="packet")
            out["packet_source"] = None if value is None else str(value.source)
            out["packet_destination"] = None if value is None else str(value.destination)
            out["packet_sequence"] = None if value is None else value.sequence
        elif name == "source_height":
            out[name] = None if value is None else int(Height(value))  # type: ignore[arg-type]
        elif name == "source_position":
            out[name] = None if value is None else tuple(value)  # type: ignore[arg-type]
        elif name == "source_event":
            out[name] = b"" if value is None else bytes(value)  # type: ignore[arg-type]
        elif name in ("packet_data", "source_attributes"):
            out[name] = None if value is None else dict(value)  # type: ignore[call-overload]
        else:  # source_tx, dest_tx
            out[name] = None if value is None else bytes(value)  # type: ignore[arg-type]
    return out


def _raise_why_not(
    row: Transfer | None, transfer_id: str, expected: TransferState, worker: str | None
) -> None:
    if row is None:
        raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
    if row.state != TransferState(expected).value:
        raise InvalidTransition(
            f"transfer {transfer_id} is {row.state}, not {expected}",
            current=row.state,
            requested=str(expected),
        )
    raise LeaseLost(
        f"worker {worker!r} no longer holds the lease on transfer {transfer_id}",
        transfer_id=transfer_id,
    )


__all__ = ["API_ROLES", "Base", "SqlStore"]
