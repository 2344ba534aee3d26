"""The hub's tables as SQLAlchemy 2.0 typed declarative models.

One model per table; ``core.records`` are the values that cross the store
seam, these rows are how they sit on disk. The schema itself is created by
the Alembic migrations in ``gateway/migrations`` (never ``create_all`` in
production), and a test checks that the two agree.

Conventions: times are unix seconds as double precision (the caller passes
them in); block heights are BIGINT (``core.ids.Height`` < 2**63); amounts and
packet sequences are :class:`~gateway.store.codec.BigUint` (exact uint256 /
uint64); hashes and opaque encodings are BLOB/BYTEA.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.records import TERMINAL_BATCH_STATES
from core.states import TERMINAL_SWAP_STATES, TERMINAL_TRANSFER_STATES
from gateway.store.codec import BigUint, TaggedJson
from gateway.store.leases import live_due_where

# Stable constraint names, so migrations can refer to them on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Chain(Base):
    __tablename__ = "chains"

    chain_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    family: Mapped[str] = mapped_column(String(32))
    settings: Mapped[Any] = mapped_column(TaggedJson, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean)


class Route(Base):
    __tablename__ = "routes"

    route_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    source: Mapped[str] = mapped_column(String(63))
    destination: Mapped[str] = mapped_column(String(63))
    protocol: Mapped[str] = mapped_column(String(32))
    settings: Mapped[Any] = mapped_column(TaggedJson, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Set by a supervisor's or admin's pause (migration 0008): the route's worker leases
    # nothing while it holds a reason; its watcher still records the route's packets.
    paused_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RouteStatusRow(Base):
    """Each relayer process's latest report on a route (migration 0008): replaced, not
    appended, so the table holds one row per route and relayer."""

    __tablename__ = "route_status"

    route_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    worker: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    cursor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    since: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


_PENDING_SOURCE_TX = "packet_sequence IS NULL AND source_tx IS NOT NULL"
# Live rows only (migration 0015): what a claim reads (``gateway.store.leases``).
_LIVE_TRANSFER = live_due_where([s.value for s in TERMINAL_TRANSFER_STATES])
_LIVE_SWAP = live_due_where([s.value for s in TERMINAL_SWAP_STATES])
_LIVE_BATCH = live_due_where([s.value for s in TERMINAL_BATCH_STATES])


class Transfer(Base):
    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint(
            "packet_source", "packet_destination", "packet_sequence", name="uq_transfers_packet"
        ),
        Index("ix_transfers_created", "created_at", "id"),
        Index("ix_transfers_due", "next_attempt_at"),
        Index("ix_transfers_state", "state"),
        Index("ix_transfers_source_tx", "source_chain", "source_tx"),
        Index("ix_transfers_admitted", "route_id", "admitted_at"),
        Index(
            "ix_transfers_live_due",
            "route_id",
            "next_attempt_at",
            sqlite_where=text(_LIVE_TRANSFER),
            postgresql_where=text(_LIVE_TRANSFER),
        ),
        # One request-made transfer per source transaction (migration 0004): the packet-less
        # rows only, since one transaction may emit several packets, each its own transfer.
        Index(
            "uq_transfers_pending_source_tx",
            "source_chain",
            "source_tx",
            unique=True,
            sqlite_where=text(_PENDING_SOURCE_TX),
            postgresql_where=text(_PENDING_SOURCE_TX),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(128), ForeignKey("routes.route_id"))
    # Copied from the route at creation, for the chain filter and the source-tx lookup.
    source_chain: Mapped[str] = mapped_column(String(63))
    dest_chain: Mapped[str] = mapped_column(String(63), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(256))
    receiver: Mapped[str] = mapped_column(String(256))
    denom: Mapped[str] = mapped_column(String(256))
    amount: Mapped[int] = mapped_column(BigUint(78))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    timeout_height: Mapped[int] = mapped_column(BigUint(20))
    timeout_time: Mapped[int] = mapped_column(BigUint(20))
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    packet_source: Mapped[str | None] = mapped_column(String(63))
    packet_destination: Mapped[str | None] = mapped_column(String(63))
    packet_sequence: Mapped[int | None] = mapped_column(BigUint(20))
    source_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    source_height: Mapped[int | None] = mapped_column(BigInteger)
    source_position: Mapped[Any] = mapped_column(TaggedJson, nullable=True)
    source_event: Mapped[bytes] = mapped_column(LargeBinary)
    dest_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[float] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[float | None] = mapped_column(Double)
    idempotency_key: Mapped[str | None] = mapped_column(String(256), unique=True)
    request_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    packet_data: Mapped[Any] = mapped_column(TaggedJson, nullable=True)
    source_attributes: Mapped[Any] = mapped_column(TaggedJson, nullable=True)
    # Risk controls (migration 0012): the creating API key, when the checks admitted it,
    # and while ``held`` its hold (rule, reason, release time, origin, decision).
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    admitted_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    hold_rule: Mapped[str | None] = mapped_column(String(256), nullable=True)
    hold_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    hold_until: Mapped[float | None] = mapped_column(Double, nullable=True)
    hold_origin: Mapped[str | None] = mapped_column(String(8), nullable=True)
    hold_decision: Mapped[str | None] = mapped_column(String(16), nullable=True)


class RiskLimit(Base):
    """One route's risk limits for one denomination (``*``: all of them), migration 0012."""

    __tablename__ = "risk_limits"

    route_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("routes.route_id"), primary_key=True
    )
    denom: Mapped[str] = mapped_column(String(256), primary_key=True)
    max_amount: Mapped[int | None] = mapped_column(BigUint(78), nullable=True)
    over_max: Mapped[str] = mapped_column(String(8))
    window_seconds: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    window_amount: Mapped[int | None] = mapped_column(BigUint(78), nullable=True)
    rate_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delay_threshold: Mapped[int | None] = mapped_column(BigUint(78), nullable=True)
    delay_seconds: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[float] = mapped_column(Double)


class HistoryEntry(Base):
    """The one history of transfers and swaps, keyed by subject. Append-only: rows are
    inserted, never updated or deleted."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_subject", "subject", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))  # "transfer" | "swap"
    subject_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[float] = mapped_column(Double)
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    leg: Mapped[int | None] = mapped_column(Integer)  # a swap's leg, when the line is about one
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    chain_id: Mapped[str | None] = mapped_column(String(63))


class Action(Base):
    """The one journal of transfers and swaps: a row per (subject, step), written before the
    chain sees it."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("subject", "subject_id", "step", name="uq_actions_subject_step"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))  # "transfer" | "swap"
    subject_id: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(64))
    chain_id: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(TaggedJson, nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    height: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[float] = mapped_column(Double)
    search_floor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Cursor(Base):
    __tablename__ = "cursors"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    height: Mapped[int] = mapped_column(BigInteger)


class WatchLeaseRow(Base):
    """Which relayer process watches a source chain (migration 0014): the lease on the
    chain's cursor key, one row per key, taken by compare-and-set
    (``gateway/store/watch_leases.py``). A table of its own, not columns of ``cursors``:
    the lease exists before the chain's first height is recorded (a cursor row needs
    one), and the cursor stays a plain height for every reader and the operator's rewind."""

    __tablename__ = "watch_leases"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    lease_owner: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[float] = mapped_column(Double)


class LightClientRow(Base):
    __tablename__ = "light_clients"

    chain_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    client_state: Mapped[bytes] = mapped_column(LargeBinary)
    trusted_height: Mapped[int] = mapped_column(BigInteger)
    frozen: Mapped[bool] = mapped_column(Boolean)
    frozen_reason: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Double)
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class ConsensusStateRow(Base):
    __tablename__ = "consensus_states"

    chain_id: Mapped[str] = mapped_column(
        String(63), ForeignKey("light_clients.chain_id", ondelete="CASCADE"), primary_key=True
    )
    height: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)


class NotarySignature(Base):
    """One counted attestation per notary and packet ``(route, sequence)``."""

    __tablename__ = "notary_signatures"
    __table_args__ = (
        UniqueConstraint(
            "route_id", "sequence", "kind", "notary", name="uq_notary_signatures_statement"
        ),
        Index("ix_notary_signatures_transfer", "transfer_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transfer_id: Mapped[str] = mapped_column(String(40), ForeignKey("transfers.id"))
    route_id: Mapped[str] = mapped_column(String(128))
    sequence: Mapped[int] = mapped_column(BigUint(20))
    notary: Mapped[str] = mapped_column(String(256))
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(16), server_default="delivery")


class Equivocation(Base):
    __tablename__ = "equivocations"
    __table_args__ = (
        UniqueConstraint(
            "notary", "route_id", "sequence", "kind", "digest_b", name="uq_equivocations_evidence"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    notary: Mapped[str] = mapped_column(String(256))
    route_id: Mapped[str] = mapped_column(String(128))
    sequence: Mapped[int] = mapped_column(BigUint(20))
    digest_a: Mapped[bytes] = mapped_column(LargeBinary)
    signature_a: Mapped[bytes] = mapped_column(LargeBinary)
    digest_b: Mapped[bytes] = mapped_column(LargeBinary)
    signature_b: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(16), server_default="delivery")


class ApiKey(Base):
    """Only ``sha256(token)`` is kept: a database leak does not leak usable keys."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Double)
    revoked: Mapped[bool] = mapped_column(Boolean)


# -- atomic swaps (HTLC, migration 0002) ----------------------------------------------


class Swap(Base):
    """A swap; its two legs are rows of ``swap_legs``. The hashlock serves one swap only."""

    __tablename__ = "swaps"
    __table_args__ = (
        Index("ix_swaps_created", "created_at", "id"),
        Index("ix_swaps_due", "next_attempt_at"),
        Index("ix_swaps_state", "state"),
        Index(
            "ix_swaps_live_due",
            "next_attempt_at",
            sqlite_where=text(_LIVE_SWAP),
            postgresql_where=text(_LIVE_SWAP),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    hashlock: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    preimage: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[float] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[float | None] = mapped_column(Double)
    idempotency_key: Mapped[str | None] = mapped_column(String(256), unique=True)
    request_hash: Mapped[bytes | None] = mapped_column(LargeBinary)


class SwapLeg(Base):
    __tablename__ = "swap_legs"
    __table_args__ = (Index("ix_swap_legs_lock", "chain_id", "lock_id"),)

    swap_id: Mapped[str] = mapped_column(String(40), ForeignKey("swaps.id"), primary_key=True)
    leg: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[str] = mapped_column(String(63))
    asset: Mapped[str] = mapped_column(String(256))
    amount: Mapped[int] = mapped_column(BigUint(78))
    sender: Mapped[str] = mapped_column(String(256))
    receiver: Mapped[str] = mapped_column(String(256))
    timelock: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    claim_delegated: Mapped[bool] = mapped_column(Boolean)
    refund_delegated: Mapped[bool] = mapped_column(Boolean)
    lock_id: Mapped[bytes | None] = mapped_column(LargeBinary)
    lock_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    lock_height: Mapped[int | None] = mapped_column(BigInteger)
    claim_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    refund_tx: Mapped[bytes | None] = mapped_column(LargeBinary)


# -- the audit log (migration 0008, gateway/audit, docs/supervision.md) ------------------


class AuditEntry(Base):
    """One entry of the hash-chained audit log. Append-only; ``body`` is the RFC 8785 text
    that was hashed, the other columns copy its fields for the filters."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_subject", "subject", "subject_id", "seq"),
        Index("ix_audit_log_actor", "actor", "seq"),
        Index("ix_audit_log_at", "at_ms"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    prev: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """The one row (``id = 1``) every append locks: the chain's last ``seq`` and hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """The hub's signature over a head, and where it was anchored (if it was)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at_ms: Mapped[int] = mapped_column(BigInteger)
    signer: Mapped[str] = mapped_column(String(42))
    signature: Mapped[bytes] = mapped_column(LargeBinary(65))
    anchor_chain: Mapped[str | None] = mapped_column(String(63), nullable=True)
    anchor_tx: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    anchor_account: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    anchor_height: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


__all__ = [
    "Action",
    "ApiKey",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Chain",
    "ConsensusStateRow",
    "Cursor",
    "Equivocation",
    "HistoryEntry",
    "LightClientRow",
    "NotarySignature",
    "Route",
    "RouteStatusRow",
    "Swap",
    "SwapLeg",
    "Transfer",
    "WatchLeaseRow",
]


# -- batched attestation (issue #15, migration 0008) ----------------------------------


class Batch(Base):
    """A batch of one route's packets under one notary statement (``core.batches``).

    Leased like a transfer (one relayer drives a batch at a time); ``digest`` is what the
    acting chain's committee signs, computed by the hub from the statement."""

    __tablename__ = "batches"
    __table_args__ = (
        Index("ix_batches_due", "next_attempt_at"),
        Index("ix_batches_state", "state", "route_id"),
        Index(
            "ix_batches_live_due",
            "route_id",
            "next_attempt_at",
            sqlite_where=text(_LIVE_BATCH),
            postgresql_where=text(_LIVE_BATCH),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(128), ForeignKey("routes.route_id"))
    kind: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[int] = mapped_column(BigUint(20))
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16))
    next_attempt_at: Mapped[float] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[float | None] = mapped_column(Double)


class BatchMemberRow(Base):
    """A transfer's place in a batch; a transfer is in at most one batch of each kind."""

    __tablename__ = "batch_members"
    __table_args__ = (
        UniqueConstraint("transfer_id", "kind", name="uq_batch_members_transfer_kind"),
    )

    batch_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[str] = mapped_column(String(40), ForeignKey("transfers.id"))
    kind: Mapped[int] = mapped_column(Integer)


class BatchSignature(Base):
    """One notary's signature over a batch's digest (one per notary and batch)."""

    __tablename__ = "batch_signatures"
    __table_args__ = (
        UniqueConstraint("batch_id", "notary", name="uq_batch_signatures_batch_notary"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("batches.id", ondelete="CASCADE"), index=True
    )
    notary: Mapped[str] = mapped_column(String(256))
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[float] = mapped_column(Double)


class CommitteeRotation(Base):
    """A committee rotation the hub drives (issue #20; ``core.committee``): the chain whose
    bridge rotates, the new committee, its state and the chain's answer."""

    __tablename__ = "committee_rotations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(128), ForeignKey("routes.route_id"))
    chain_id: Mapped[str] = mapped_column(String(128), index=True)
    epoch: Mapped[int] = mapped_column(BigUint(20))
    threshold: Mapped[int] = mapped_column(Integer)
    members: Mapped[str] = mapped_column(Text)  # JSON list of 0x addresses, increasing
    state: Mapped[str] = mapped_column(String(16), index=True)
    hold_since: Mapped[float] = mapped_column(Double)
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class RotationSignature(Base):
    """One notary of the outgoing committee's signature over a rotation's digest."""

    __tablename__ = "rotation_signatures"
    __table_args__ = (
        UniqueConstraint("rotation_id", "notary", name="uq_rotation_signatures_notary"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    rotation_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("committee_rotations.id", ondelete="CASCADE"), index=True
    )
    notary: Mapped[str] = mapped_column(String(256))
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[float] = mapped_column(Double)


# -- payload policies (issue 17 item 4, migration 0013) ---------------------------------


class PayloadPolicyRow(Base):
    """A route's payload policy: its ordered rules as JSON (``core.policies``), replaced
    whole by each write, which moves ``version`` on by one."""

    __tablename__ = "payload_policies"

    route_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("routes.route_id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger)
    rules: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Double)
