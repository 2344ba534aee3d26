"""What the store keeps, as plain frozen records that cross the ``Store`` seam.

The relayer (below ``gateway`` in the layering) works only with these records
and the ``core.seams.Store`` protocol; the SQLAlchemy models in
``gateway.store`` map them to tables. Amounts are ``int`` in the asset's
smallest unit (uint256 on EVM), never floats. Times are unix seconds as
``float``, passed in by the caller (the store never reads a clock itself, so
tests and lease expiry are deterministic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from core.ids import ChainId, Height, PacketId
from core.states import TransferState


class TransferKind(StrEnum):
    ASSET = "asset"
    MESSAGE = "message"


class RouteProtocol(StrEnum):
    NOTARY = "notary"
    HTLC = "htlc"
    LIGHT_CLIENT = "light_client"


class ActionStatus(StrEnum):
    """Journal of a chain action: recorded before it is sent, then its outcome."""

    RECORDED = "recorded"  # written, maybe sent (a crash here means: look on-chain first)
    SENT = "sent"  # the chain accepted the transaction; tx hash known
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChainRecord:
    """A chain the hub talks to: its adapter family and that adapter's settings."""

    chain_id: ChainId
    family: str
    settings: dict[str, object] = field(default_factory=dict, repr=False)  # may hold secrets
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class RouteRecord:
    """A one-way path between two chains and the protocol the destination trusts."""

    route_id: str
    source: ChainId
    destination: ChainId
    protocol: RouteProtocol
    settings: dict[str, object] = field(default_factory=dict)
    enabled: bool = True
    # A supervisor's pause (``None``: running): the route's worker leases nothing while
    # it is set; its packets are still recorded. Not written by ``upsert_route``.
    paused_reason: str | None = None


@dataclass(frozen=True, slots=True)
class NewTransfer:
    """What creates a transfer: an API request, or a packet the relayer saw on-chain."""

    route_id: str
    kind: TransferKind
    sender: str
    receiver: str
    denom: str = ""
    amount: int = 0
    payload: bytes = b""
    timeout_height: int = 0
    timeout_time: int = 0  # unix seconds; 0 = none
    # Known when the transfer starts from an on-chain packet (or once it is sent):
    packet: PacketId | None = None
    source_tx: bytes | None = None
    state: TransferState = TransferState.REQUESTED
    reason: str = "accepted"
    created_by: str | None = None  # the creating API key's name (its owner); None: the relayer


@dataclass(frozen=True, slots=True)
class SeenPacket:
    """A ``send_packet`` a source chain's watcher found, to record (``Store.record_packets``):
    the transfer to create when none tracks the packet yet (``new``, with its packet and
    source transaction), and the event with where it sits, attached to it once."""

    new: NewTransfer
    reason: str
    source_height: int
    source_position: tuple[int, ...]
    source_event: bytes
    packet_data: Mapping[str, object]
    source_attributes: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A stored transfer. ``packet`` is its identity once its sequence is known."""

    id: str
    route_id: str
    kind: TransferKind
    sender: str
    receiver: str
    denom: str
    amount: int
    payload: bytes
    timeout_height: int
    timeout_time: int
    state: TransferState
    reason: str
    packet: PacketId | None
    source_tx: bytes | None
    source_height: Height | None
    # Where the packet event sits in its block (``ChainEvent.position``) and its raw bytes.
    source_position: tuple[int, ...] | None
    source_event: bytes
    dest_tx: bytes | None
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    lease_owner: str | None = None
    lease_until: float | None = None
    packet_data: dict[str, object] | None = None
    """The packet as the source's event carries it (``core.types.packet_to_data``), stored
    when the watcher first sees it, so later steps never list the block again."""
    source_attributes: dict[str, object] | None = None
    """The event's plain attributes (what the family needs to prove it again)."""
    created_by: str | None = None
    """The API key (its name) that created it: its owner, who may cancel it while it is
    held. ``None`` for a transfer the relayer made from a packet sent on the source."""
    admitted_at: float | None = None
    """When the risk checks let it pass (``relayer.risk``): from then on it counts in the
    route's windows and is never checked again. ``None``: not checked yet, or held."""
    hold: HoldRecord | None = None
    """Why and until when it is ``held`` (set while held, else ``None``)."""


@dataclass(frozen=True, slots=True)
class OwedMember:
    """A member of a batch a notary has still to sign, as ``BatchStore.batches_owed`` reads
    it: the transfer and where its packet event is (named as in ``TransferRecord``). The
    notary proves everything else from the chains itself, so nothing more is read."""

    id: str
    route_id: str
    packet: PacketId | None
    source_tx: bytes | None
    source_height: Height | None
    source_position: tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A held transfer's hold (``core.holds.Hold`` as stored).

    ``origin`` is where it was caught: ``api`` (nothing sent on the source yet: a
    release moves it back to ``requested``) or ``source`` (a proven packet: back to
    ``proven``). ``decision`` is set once its owner cancelled it or a supervisor
    rejected it after it left the source: it then waits for its timeout to be
    refunded (``held -> timed_out -> refunded``).
    """

    rule: str
    reason: str
    release_at: float | None
    origin: str
    decision: str | None = None


@dataclass(frozen=True, slots=True)
class TransferEventRecord:
    """One line of a transfer's append-only history (a state change or a note)."""

    id: int
    transfer_id: str
    at: float
    state: TransferState
    reason: str
    tx_hash: bytes | None = None
    chain_id: ChainId | None = None


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """A journalled chain action of one transfer step (see ``Store.record_action``)."""

    id: int
    transfer_id: str
    step: str  # e.g. "submit_source", "deliver", "refund"
    chain_id: ChainId
    kind: str
    payload: dict[str, object]
    idempotency_key: str
    status: ActionStatus
    tx_hash: bytes | None
    height: Height | None
    reason: str
    recorded_at: float
    search_floor: Height | None = None
    """Where a search for this action's effect on its chain starts (the chain's height
    noted just before the action was journaled: it cannot have landed below)."""


@dataclass(frozen=True, slots=True)
class SignatureRecord:
    """A notary's attestation of one packet digest: its ``delivery`` or ``nondelivery``
    statement (a notary makes at most one of each per packet)."""

    transfer_id: str
    notary: str  # the notary's address or key id
    digest: bytes
    signature: bytes
    at: float
    kind: str = "delivery"


@dataclass(frozen=True, slots=True)
class EquivocationRecord:
    """Evidence: one notary signed two different digests for one (route, sequence)."""

    id: int
    notary: str
    route_id: str
    sequence: int
    digest_a: bytes
    signature_a: bytes
    digest_b: bytes
    signature_b: bytes
    at: float
    kind: str = "delivery"


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A light client's persisted state for one chain (family-encoded bytes)."""

    chain_id: ChainId
    client_state: bytes
    consensus_states: dict[int, bytes]  # height -> encoded consensus state
    trusted_height: Height
    frozen: bool = False
    frozen_reason: str = ""
    updated_at: float = 0.0
    evidence: bytes = b""
    """Why it froze, as the follower recorded it (JSON: kind, height, both hashes, the
    conflicting header with its commit); empty while the client is not frozen."""


ROUTE_STATUS_STATES = ("running", "stopped", "unsupported", "error", "paused")

HOLD_ORIGINS = ("api", "source")
HOLD_DECISIONS = ("cancelled", "rejected")
ALL_DENOMS = "*"
"""A risk limit's denomination that stands for every denomination of its route together."""


@dataclass(frozen=True, slots=True)
class RiskLimitRecord:
    """The risk limits of one route and denomination (``docs/supervision.md``).

    Every part is optional (``None``: no such limit). Amounts are in the
    denomination's smallest unit; with ``denom == ALL_DENOMS`` the limit sums the
    route's transfers of every denomination (meaningful for the rate limit, or a
    route that carries one asset).

    * ``max_amount``: a transfer above it is rejected (``over_max == "reject"``) or
      held for a supervisor's review (``"hold"``).
    * ``window_seconds`` + ``window_amount``: the admitted value in any rolling
      window of that length stays at most ``window_amount``; a transfer that would
      pass it is held until enough of the window's value has aged out.
    * ``rate_per_minute``: at most that many transfers admitted in any 60 seconds.
    * ``delay_threshold`` + ``delay_seconds``: a transfer of at least the threshold
      is held until ``created_at + delay_seconds``.
    """

    route_id: str
    denom: str
    max_amount: int | None = None
    over_max: str = "hold"
    window_seconds: int | None = None
    window_amount: int | None = None
    rate_per_minute: int | None = None
    delay_threshold: int | None = None
    delay_seconds: int | None = None
    updated_at: float = 0.0


class WindowEntry(NamedTuple):
    """One admitted transfer in a route's windows: when it was admitted, its denom, amount.
    A named tuple, not a dataclass: a window may hold thousands, built per screening."""

    admitted_at: float
    denom: str
    amount: int


@dataclass(frozen=True, slots=True)
class RiskView:
    """What the risk checks of one route see, read in the screening transaction: the route's
    limits and the transfers admitted within its longest window (oldest first)."""

    limits: tuple[RiskLimitRecord, ...]
    admitted: tuple[WindowEntry, ...]


"""What a relayer reports of a route: relaying, stopped (a frozen client), a protocol not
built yet, an error (an adapter that cannot be built, a watcher that failed), or paused
(by an operator or a circuit breaker: ``routes.paused_reason``)."""


@dataclass(frozen=True, slots=True)
class RouteStatusRecord:
    """One relayer process's report of one route: what it is doing and why.

    Several relayers may relay a route; each keeps its own row (``worker``), so an
    operator sees which process says what and when it last said it (``updated_at``).
    """

    route_id: str
    worker: str
    state: str  # one of ROUTE_STATUS_STATES
    reason: str
    cursor: int | None  # the source height this relayer's watcher reached
    since: float  # when the route entered ``state`` in this relayer
    updated_at: float  # when this relayer last reported


@dataclass(frozen=True, slots=True)
class WatchLease:
    """Who watches a source chain (``Store.take_watch_lease``): the holder of the lease on
    the chain's cursor key, until when, and (when the call that returned it took the lease
    over from another process whose lease had expired) that process, ``taken_from``."""

    key: str  # the cursor key, ``chain:<id>``
    owner: str
    until: float
    taken_from: str | None = None


STATEMENT_KINDS = ("delivery", "nondelivery")
"""What a notary states about a packet: deliver it (to its destination), or refund it."""


__all__ = [
    "ROUTE_STATUS_STATES",
    "STATEMENT_KINDS",
    "ActionRecord",
    "ActionStatus",
    "ChainRecord",
    "ClientRecord",
    "EquivocationRecord",
    "NewTransfer",
    "OwedMember",
    "RouteProtocol",
    "RouteRecord",
    "RouteStatusRecord",
    "SeenPacket",
    "SignatureRecord",
    "TransferEventRecord",
    "TransferKind",
    "TransferRecord",
    "WatchLease",
]


class BatchState(StrEnum):
    """A batch of packets certified by one notary statement (``core.batches``), hub side.

    ``assembled``: recorded with its members and root; notaries sign it.
    ``attested``: a quorum of the acting chain's committee signed its digest.
    ``submitted``: every transaction it needs (store the root, act on the members in
    chunks) was journaled and sent. ``done``: every member reached its outcome.
    """

    ASSEMBLED = "assembled"
    ATTESTED = "attested"
    SUBMITTED = "submitted"
    DONE = "done"


TERMINAL_BATCH_STATES = frozenset({BatchState.DONE})


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A stored batch: its statement's fields, the digest the acting chain's committee
    signs (computed by the hub when it assembled it), and its members in leaf order."""

    id: str
    route_id: str
    kind: int  # core.batches.BatchKind value
    epoch: int
    size: int
    root: bytes
    digest: bytes
    state: BatchState
    transfer_ids: tuple[str, ...]
    created_at: float
    updated_at: float
    lease_owner: str | None = None
    lease_until: float | None = None
