"""The seams between the layers, as ``typing.Protocol``s with their contracts.

A chain family implements :class:`ChainAdapter` (talks to one chain, never
verifies, never loops) and :class:`LightClient` (pure, synchronous: state in,
new state out; persistence is the caller's). A route's trust model is a
:class:`TransferProtocol` advanced one idempotent step at a time. The store is
a unit of work with compare-and-set transitions.

Markers used in these docstrings: ``CONTRACT:`` an obligation of the caller or
implementer; ``SECURITY:`` a trust assumption.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from core.batches import BatchMember, BatchStatement
from core.committee import CommitteeState, RotationRecord, RotationState, RotationStatement
from core.holds import Verdict
from core.ids import ChainId, Height, PacketId
from core.policies import PayloadPolicy, PolicyDecisionRecord, PolicyRule
from core.records import (
    ActionRecord,
    ActionStatus,
    BatchRecord,
    BatchState,
    ChainRecord,
    ClientRecord,
    EquivocationRecord,
    NewTransfer,
    OwedMember,
    RiskLimitRecord,
    RiskView,
    RouteRecord,
    RouteStatusRecord,
    SeenPacket,
    SignatureRecord,
    TransferEventRecord,
    TransferRecord,
    WatchLease,
)
from core.states import TransferState
from core.swaps import HtlcEndpoint
from core.types import (
    ChainAction,
    ChainEvent,
    HeaderUpdate,
    InclusionProof,
    Packet,
    SendIntent,
    SourceSend,
    TxReceipt,
)


@runtime_checkable
class ChainAdapter(Protocol):
    """One chain's RPC, turned into the hub's vocabulary.

    CONTRACT: every method is a read or a single write; no method verifies a
    header or a proof (that is the light client's job) and none loops waiting
    for the chain. Network failures raise ``ChainUnavailable`` (retryable);
    the node refusing a transaction raises ``ChainRejected``. Every network
    await has a timeout.

    SECURITY: everything an adapter returns is untrusted until a light client
    verified it.
    """

    family: str
    """The family name (``"pujiang"``, ``"evm"``, ``"cometbft"``), unique in the registry."""

    chain_id: ChainId

    async def latest_height(self) -> Height:
        """The newest block the node knows (may be reorged away on some families)."""
        ...

    async def finalized_height(self) -> Height:
        """The newest block final by the family's rule (BFT commit, confirmations…)."""
        ...

    async def header(self, height: Height) -> HeaderUpdate:
        """The header at ``height`` with the evidence its light client verifies."""
        ...

    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        """Bridge and HTLC events in ``[start, end]``, in chain order.

        CONTRACT: callers bound the range; adapters may split it into chunks.
        """
        ...

    async def prove(self, event: ChainEvent) -> InclusionProof:
        """The inclusion proof of ``event`` against the root of its header."""
        ...

    def event_from_proof(
        self, event: ChainEvent, proof: InclusionProof, header_hash: bytes
    ) -> ChainEvent:
        """``event`` decoded again from the bytes ``proof`` carries (``proof.value``).

        CONTRACT: the caller verified ``proof`` (``LightClient.verify_membership``)
        against the consensus state of ``header_hash`` first; this never trusts
        the node's event listing for anything but where to look.
        ``PacketMismatch``-style ``InvalidInput`` when the proof is for another
        position than ``event`` or its bytes are not a bridge event.
        """
        ...

    async def prove_state(self, key: bytes, height: Height) -> InclusionProof:
        """A membership or absence proof of a state ``key`` at ``height`` (a bridge's
        receipt entry: ``BridgeEndpoint.receipt_key``), verified by
        ``LightClient.verify_membership`` against the state root there.

        CONTRACT: ``proof.value`` is empty exactly when the proof is one of absence
        (or the key holds the family's zero value).
        """
        ...

    async def submit(self, action: ChainAction) -> bytes:
        """Send ``action`` and return its transaction hash without waiting.

        CONTRACT: submitting the same ``idempotency_key`` twice must not
        execute twice (the destination contract/module rejects replays).
        """
        ...

    async def receipt(self, tx_hash: bytes) -> TxReceipt:
        """The receipt of a submitted transaction (pending fields ``None``).

        CONTRACT: when the adapter replaced the transaction (a fee bump: same
        nonce, higher fees), the hash ``submit`` returned answers for it, and
        ``TxReceipt.tx_hash`` names the transaction that was mined.
        """
        ...

    async def header_update(self, trusted: Height, target: Height) -> HeaderUpdate:
        """The header at ``target`` with the evidence to verify it from ``trusted``.

        BFT families (one commit per header) return the header with its own
        commit, whatever ``trusted`` is; hash-chained families return the chain
        of ancestors from ``trusted`` (bounded by ``ClientCodec.max_step``).
        """
        ...

    def light_client(self) -> LightClient:
        """The light client that verifies this chain's headers."""
        ...

    def client_codec(self) -> ClientCodec:
        """How this chain's light-client states are persisted and walked (see ``ClientCodec``)."""
        ...


@runtime_checkable
class LightClient(Protocol):
    """Pure verification of a chain's headers and of proofs against them.

    ``client_state`` holds the parameters (chain id, trusting period, trust
    level, frozen flag); ``consensus_state`` what was verified at one height
    (time, roots, next validators). Both are family-defined and opaque here.

    CONTRACT: no I/O and no clock reads; ``now`` is a parameter (unix seconds).
    Every ``verify_*`` raises a ``VerificationError`` subclass naming the first
    failed check, and returns only on success.
    """

    def verify_header(
        self, client_state: object, trusted: object, header: HeaderUpdate, now: int
    ) -> object:
        """Verify ``header`` from the ``trusted`` consensus state; return the new one.

        Adjacent or skipping verification by the family's rule, within the
        trusting period, across validator-set rotation.

        SECURITY: a frozen client raises ``ClientFrozen`` before any check.
        """
        ...

    def verify_membership(self, consensus_state: object, proof: InclusionProof) -> None:
        """Check that ``proof.key`` holds ``proof.value`` under the verified root."""
        ...

    def check_misbehaviour(
        self, client_state: object, header_a: HeaderUpdate, header_b: HeaderUpdate
    ) -> bool:
        """True when both headers are valid and conflict (same height, different hash).

        CONTRACT: on True the caller freezes the client and persists that.
        """
        ...


@runtime_checkable
class ClientCodec(Protocol):
    """A family's light-client states as bytes, and what a follower needs to walk them.

    The one light-client follower (``adapters.follower``) drives every family
    through this and the ``LightClient`` seam only: the hub persists the bytes
    in its store, each notary in its own files. An adapter builds its codec
    with its chain's settings (hash profile, finality rule, trusting period).

    CONTRACT: ``decode_*(encode_*(x))`` gives back an equal state; decoding
    untrusted or corrupted bytes raises ``BadEncoding``, never anything else;
    every method is pure (no I/O, no clock).
    SECURITY: ``header_hash`` and ``parent_hash`` are computed from the header's
    bytes, never taken from the node's ``HeaderUpdate.hash``.
    """

    min_height: int
    """The lowest height a client may be anchored at (0 or 1)."""

    def initial_client_state(self, trusting_period: int, max_clock_drift: int) -> object:
        """A fresh, unfrozen client state (``trusting_period``/``max_clock_drift`` in seconds,
        used where the family's settings do not fix them)."""
        ...

    def encode_client(self, state: object) -> bytes: ...
    def decode_client(self, data: bytes) -> object: ...
    def encode_consensus(self, state: object) -> bytes: ...
    def decode_consensus(self, data: bytes, client: object) -> object: ...

    def anchor(self, client: object, header: HeaderUpdate, trusted_hash: bytes, now: int) -> object:
        """The consensus state of ``header``, whose locally computed hash must be
        ``trusted_hash`` (a checkpoint, or a parent-hash link down from a trusted
        state); ``RootMismatch`` otherwise.

        SECURITY: the commit is not checked here: the hash is already trusted.
        """
        ...

    def max_step(self) -> int | None:
        """The most heights one update may span (``None``: skipping verification, no bound)."""
        ...

    def state_hash(self, state: object) -> bytes: ...
    def state_height(self, state: object) -> int: ...
    def state_time_ms(self, state: object) -> int: ...

    def trusting_period(self, client: object) -> int:
        """Seconds a consensus state of ``client`` stays trusted after its header's time
        (the trusting period the client state holds): a follower refreshes the client
        before ``state_time_ms / 1000 + trusting_period`` passes, and the API reports it."""
        ...

    def header_hash(self, header: HeaderUpdate) -> bytes: ...
    def parent_hash(self, header: HeaderUpdate) -> bytes: ...


@runtime_checkable
class BridgeEndpoint(Protocol):
    """A chain's bridge, in the relayer's and the notaries' terms (one per family).

    An adapter that carries packets exposes one as ``adapter.bridge()``. It is
    pure translation: it reads events and builds actions and digests, it never
    sends. The digests are exactly what the destination chain's bridge checks
    (EIP-712 on EVM, the tagged RLP hash on Pujiang), so a notary that computes
    one from a packet it verified signs what the destination will verify.
    """

    def packet_of(self, event: ChainEvent) -> Packet:
        """The packet a ``send_packet`` event of this chain carries (``InvalidInput`` if
        the event is not one)."""
        ...

    def delivery_digest(self, packet: Packet) -> bytes:
        """What notaries sign so that THIS chain (the destination) accepts ``packet``."""
        ...

    def nondelivery_digest(self, packet: Packet) -> bytes:
        """What notaries sign so that THIS chain (the source) refunds ``packet``."""
        ...

    def committee(self) -> tuple[int, tuple[str, ...]]:
        """``(threshold, member addresses)`` this chain's bridge trusts (as configured;
        ``committee_onchain`` in the adapter reads the live value)."""
        ...

    def deliver_action(self, packet: Packet, certificate: Sequence[bytes]) -> ChainAction:
        """Deliver ``packet`` here with the signatures (65-byte r‖s‖v, in the order this
        chain's bridge wants); the idempotency key names the packet."""
        ...

    def refund_action(self, packet: Packet, certificate: Sequence[bytes]) -> ChainAction:
        """Refund ``packet`` on its source (here) with a non-delivery certificate."""
        ...

    def receipt_key(self, packet: Packet) -> bytes:
        """The state key whose presence on THIS chain (the destination) means ``packet`` was
        received (for ``ChainAdapter.prove_state``): what a notary proves absent before it
        signs non-delivery."""
        ...

    def is_delivered_event(self, event: ChainEvent, packet: Packet) -> bool:
        """True when ``event`` (read from this chain) reports ``packet`` delivered here."""
        ...

    def delivered_packet(self, event: ChainEvent) -> Packet | None:
        """The packet ``event`` (read from this chain) reports delivered here; ``None`` for
        any other event. One decode per event: a batch's chunk is matched to its block's
        receive events through this (a test per member against every event was quadratic)."""
        ...

    def failed_packet(self, event: ChainEvent) -> Packet | None:
        """The packet a ``PACKET_FAILED`` ``event`` reports received here but refused (see
        ``is_failed_event``); ``None`` for any other event."""
        ...

    def is_failed_event(self, event: ChainEvent, packet: Packet) -> bool:
        """True when ``event`` (a ``PACKET_FAILED`` event read from this chain) reports
        ``packet`` received in a batch but refused by its receiver or token: it is marked
        received here (never delivered later) and an ``ERROR_ACK`` root refunds it on its
        source."""
        ...

    # --- batches (core.batches, proofs.notary.batch, docs/notary.md "Batches") ---------
    # THIS chain is the acting chain: the destination for DELIVERY roots, the source for
    # NONDELIVERY, ACK and ERROR_ACK roots.

    def batch_hash_name(self) -> str:
        """The hash of the batch trees THIS chain's bridge checks, by its name in
        ``proofs.hashing.HASH_FUNCTIONS`` (``keccak256`` on EVM, the chain's profile,
        ``sha256`` or ``sm3``, on Pujiang)."""
        ...

    def batch_leaf(self, packet: Packet) -> bytes:
        """The 32-byte leaf value of ``packet`` in the batch trees THIS chain checks (the
        same for every kind: the kind is in the statement)."""
        ...

    def committee_epoch(self) -> int:
        """The epoch of the committee THIS chain's bridge trusts (as configured)."""
        ...

    def batch_digest(self, statement: BatchStatement) -> bytes:
        """What notaries sign so that THIS chain stores ``statement.root``."""
        ...

    def batch_capacity(self) -> int:
        """Most batch members one transaction of this chain carries (its gas or size
        limit): the relayer splits a certified batch into transactions of this size."""
        ...

    def store_root_action(
        self, statement: BatchStatement, certificate: Sequence[bytes]
    ) -> ChainAction:
        """Store a certified root here (idempotency key: the statement); a root already
        stored is refused by the chain, which the relayer reads as done
        (``is_root_stored_refusal``)."""
        ...

    def is_root_stored_refusal(self, reason: str) -> bool:
        """True when ``reason`` (a ``ChainRejected`` reason or a failed receipt's) is this
        chain refusing ``store_root_action`` because the root is already stored."""
        ...

    def batch_action(
        self, statement: BatchStatement, members: Sequence[BatchMember]
    ) -> ChainAction:
        """Act on ``members`` of a stored root: deliver them (``DELIVERY``), refund them
        (``NONDELIVERY``, ``ERROR_ACK``) or clear them (``ACK``), in one transaction. A
        member that fails for a reason of its own does not revert the others."""
        ...

    # --- committee rotation (core.committee, docs/notary.md "Committee rotation") --------
    # THIS chain's bridge rotates; the signers are its CURRENT committee.

    def rotation_digest(self, statement: RotationStatement) -> bytes:
        """What the current committee signs so that THIS chain hands over to
        ``statement``'s committee (EIP-712 ``CommitteeRotation`` on EVM, the tagged
        ``pujiang/notary-rotation/v1`` hash on Pujiang); ``InvalidInput`` for a statement
        of another chain."""
        ...

    def rotate_action(
        self, statement: RotationStatement, certificate: Sequence[bytes]
    ) -> ChainAction:
        """Rotate THIS chain's committee with the current committee's certificate
        (idempotency key: the chain and the new epoch). A second send is refused by the
        chain (``is_stale_rotation_refusal``): the rotation is done."""
        ...

    def is_stale_rotation_refusal(self, reason: str) -> bool:
        """True when ``reason`` is this chain refusing a rotation whose epoch is not the
        next one (already rotated: read the chain's committee to know)."""
        ...

    def adopt_committee(self, committee: CommitteeState) -> None:
        """From now on, ``committee()`` and ``committee_epoch()`` answer ``committee`` (the
        hub calls it once the chain trusts it; never for a lower epoch)."""
        ...


@runtime_checkable
class TransferProtocol(Protocol):
    """A route's trust model (``notary``, ``htlc``, ``light_client``) as a state machine.

    The relayer's engine leases due transfers from the store, groups them by
    route and hands each group to the route's protocol, which may batch what
    the destination can take at once (one JSON-RPC batch of deliveries).

    CONTRACT: ``step`` advances one transfer by at most one transition, is
    idempotent (calling it again after a crash repeats nothing that already
    reached a chain), and journals what it will send (``Store.record_action``)
    before sending it. ``process`` never raises: a step's error becomes a
    retry, a rejection or a stopped route, recorded on the transfer.
    """

    name: str

    async def process(self, route: RouteRecord, transfers: Sequence[TransferRecord]) -> None:
        """Advance each leased transfer of ``route`` (several steps each, batched sends)."""
        ...

    async def step(self, route: RouteRecord, transfer: TransferRecord) -> TransferRecord | None:
        """One step out of ``transfer.state``: the moved record, or ``None`` when it waits."""
        ...


@runtime_checkable
class Store(Protocol):
    """Persistence of the hub, as a repository of ``core.records`` (sync, thread-safe).

    The relayer sees only this seam; ``gateway.store.SqlStore`` implements it on
    SQLAlchemy (SQLite in WAL mode embedded, PostgreSQL in production). Every
    method is one database transaction. ``now`` is always passed in: the store
    never reads a clock.

    CONTRACT: ``transition`` is compare-and-set: it succeeds only when the
    stored state still equals ``expected``, the move is in the transition table
    and (when ``worker`` is given) that worker still holds the lease; otherwise
    it raises ``InvalidTransition`` or ``LeaseLost``. It appends the history
    line in the same database transaction.
    CONTRACT: ``claim_due`` hands each transfer to at most one worker at a time
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional UPDATE on SQLite).
    """

    # chains and routes
    def upsert_chain(self, chain: ChainRecord) -> None: ...
    def chains(self) -> list[ChainRecord]: ...
    def upsert_route(self, route: RouteRecord) -> None: ...
    def routes(self) -> list[RouteRecord]: ...
    def route(self, route_id: str) -> RouteRecord:
        """``NotFound`` when unknown."""
        ...

    def report_route_status(self, status: RouteStatusRecord) -> None:
        """Keep ``status`` as its relayer's latest word on the route (one row per
        ``(route_id, worker)``, replaced); ``InvalidInput`` for a state not in
        ``ROUTE_STATUS_STATES``."""
        ...

    def route_statuses(self) -> list[RouteStatusRecord]:
        """Every relayer's latest report on every route, newest report first."""
        ...

    # transfers
    def create_transfer(
        self,
        new: NewTransfer,
        now: float,
        *,
        idempotency_key: str | None = None,
        request_hash: bytes | None = None,
    ) -> tuple[TransferRecord, bool]:
        """Insert, or return the existing one: ``(record, created)``.

        Same idempotency key and request hash -> the first transfer, ``created``
        False; same key, other hash -> ``Conflict``. A ``new.packet`` already
        stored -> that transfer, ``created`` False (a packet is tracked once).
        Without a packet, a ``new.source_tx`` already stored on the route's source
        chain -> that transfer, ``created`` False, whatever the key (one source
        transaction is one transfer), also under concurrent calls.
        """
        ...

    def transfer(self, transfer_id: str) -> TransferRecord:
        """``NotFound`` when unknown."""
        ...

    def transfer_by_packet(self, packet: PacketId) -> TransferRecord | None: ...
    def transfer_by_source_tx(self, chain_id: ChainId, tx_hash: bytes) -> TransferRecord | None: ...
    def list_transfers(
        self,
        *,
        state: TransferState | None = None,
        chain: ChainId | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[TransferRecord], str | None]:
        """Newest first; ``after`` is the opaque cursor returned as the second item."""
        ...

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
        """Move state (and set ``fields``: packet, source_tx, source_height,
        source_position, source_event, dest_tx) atomically; returns the new record."""
        ...

    def attach_source_event(
        self, transfer_id: str, reason: str, now: float, **fields: object
    ) -> TransferRecord:
        """Record the packet event a watcher found on a ``requested`` transfer (the fields
        ``transition`` takes: packet, source_tx, source_height, source_position,
        source_event, packet_data, source_attributes) without moving its state: the
        route's protocol owns every state change. ``InvalidTransition`` when it has one
        already (another relayer recorded it)."""
        ...

    def record_packets(
        self, packets: Sequence[SeenPacket], now: float, *, final: bool = False
    ) -> int:
        """A watcher's chunk of packets in ONE transaction (issue #15): for each, the transfer
        tracking it (by packet, else the route's packet-less transfer of its source
        transaction, else a new one) gets its event, as ``create_transfer`` then
        ``attach_source_event`` would; one that has it already is left alone. The number
        attached. ``final``: the packets' blocks are final (the watcher read a finalized
        range), so a transfer this call creates is moved on to ``source_final`` in the same
        transaction, with the history lines and audit entries of its two moves
        (``requested -> source_committed -> source_final``); a transfer that existed before
        keeps its steps. CONTRACT: no round trip per packet on the watcher's hot path."""
        ...

    def note(self, transfer_id: str, reason: str, now: float, *, retry_at: float) -> None:
        """Keep the state, record why it waits (``reason``), count an attempt, and
        make the transfer due again at ``retry_at`` (backoff is the caller's). A history
        line (and its audit entry) only when the reason differs from the transfer's last:
        a wait is noted every pass, and a day's identical lines tell an operator nothing
        ``attempts`` does not (``note_many`` and ``note_swap`` do the same)."""
        ...

    def history(self, transfer_id: str, after_id: int = 0) -> list[TransferEventRecord]: ...

    # work distribution
    def claim_due(
        self,
        worker: str,
        now: float,
        lease_seconds: float,
        limit: int,
        *,
        route_id: str | None = None,
    ) -> list[TransferRecord]:
        """Lease up to ``limit`` non-terminal transfers whose ``next_attempt_at <= now``
        and whose lease is free or expired, longest-waiting first (``next_attempt_at``);
        with ``route_id``, only that route's (each route's worker claims its own)."""
        ...

    def release(self, transfer_id: str, worker: str) -> None: ...

    # the journal (crash safety: record before send, then outcome)
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
        """Journal an action before it is sent. Idempotent on
        ``(transfer_id, step)``: a second call returns the first record.
        ``search_floor``: the height of the action's chain just before it is journaled,
        where a search for its effect (after a crash) starts. ``source_tx``: the hash of
        the hub-signed source transaction the action sends, given to the transfer (when
        it has none) in the same commit, so the watcher finds the transfer by it whenever
        the transaction lands (``set_source_tx`` after the send left a window)."""
        ...

    def action(self, transfer_id: str, step: str) -> ActionRecord | None: ...
    def mark_action(
        self,
        action_id: int,
        status: ActionStatus,
        *,
        tx_hash: bytes | None = None,
        height: Height | None = None,
        reason: str = "",
    ) -> None:
        """Record what happened to a journaled action; nothing else changes."""
        ...

    def set_source_tx(self, transfer_id: str, tx_hash: bytes) -> None:
        """Give a transfer the hash of its hub-signed source transaction once it is sent
        (only when it has none), so the watcher finds the transfer by it."""
        ...

    # source scanning
    def cursor(self, key: str) -> Height | None:
        """The last height fully processed for ``key`` (a route id or a chain id)."""
        ...

    def advance_cursor(self, key: str, height: Height) -> None:
        """Never moves backwards except through ``rewind_cursor``."""
        ...

    def rewind_cursor(self, key: str, height: Height) -> None: ...

    def take_watch_lease(
        self, key: str, worker: str, now: float, lease_seconds: float
    ) -> WatchLease:
        """Take or renew the lease on cursor ``key`` (a source chain's watch) for ``worker``
        until ``now + lease_seconds``, when ``worker`` holds it already, nobody does, or the
        holder's lease ended at or before ``now``: a compare-and-set in ONE database
        transaction (a caller that a plain read shows another's live lease is answered
        from it), so of two processes asking at once exactly one holds it. Returns the
        lease as it stands: ``owner != worker`` means another process watches (its lease
        is live); ``taken_from`` names the process whose expired lease this call took.

        CONTRACT: the caller lists the chain only while ``owner == worker``, and takes the
        lease again (a renewal) at least once per ``lease_seconds``; a process that failed
        to renew finds another owner and stands by. ``advance_cursor`` is NOT fenced by
        the lease: it is forward-only and a watcher advances only past heights whose
        packets it recorded itself (``record_packets`` is idempotent), so a late advance
        by a process whose lease was taken can only move the cursor to a height below
        which every packet is recorded — it skips nothing and records nothing twice; it
        merely saves the new holder from re-reading a range (``docs/relayer.md``)."""
        ...

    def release_watch_lease(self, key: str, worker: str) -> None:
        """End ``worker``'s lease on ``key`` now (a process stopping cleanly), so another
        process takes the watch at its next pass instead of after ``lease_seconds``; a
        lease held by another worker is left alone."""
        ...

    # light clients
    def save_client(self, record: ClientRecord) -> None: ...
    def client(self, chain_id: ChainId) -> ClientRecord | None: ...

    # notaries
    def add_signature(
        self, record: SignatureRecord, route_id: str, sequence: int
    ) -> EquivocationRecord | None:
        """Store an attestation (its ``record.kind`` statement); when the same notary
        already made that statement for ``(route_id, sequence)`` over another digest,
        store and return the equivocation evidence instead (the signature is then
        not counted). A notary's delivery and non-delivery of one packet are two
        statements, never equivocation."""
        ...

    def statements_owed(
        self, notary: str, limit: int, kinds: Collection[str] = ("delivery", "nondelivery")
    ) -> list[tuple[TransferRecord, str]]:
        """Up to ``limit`` ``(transfer, kind)`` that ``notary`` has not stated yet, oldest
        first: ``delivery`` of ``proven`` packets, ``nondelivery`` of ``timed_out`` ones
        (only transfers whose packet event is recorded), of the ``kinds`` asked for. The
        one query behind the notaries' per-packet work, through the API and in the
        embedded mode; a hub attesting in batches asks for ``nondelivery`` only (its
        proven packets are signed with their batch)."""
        ...

    def signatures(self, transfer_id: str) -> list[SignatureRecord]: ...
    def signatures_of(self, transfer_ids: Sequence[str]) -> dict[str, list[SignatureRecord]]:
        """``signatures`` of many transfers in one read (every id a key, maybe empty)."""
        ...

    def equivocations(self) -> list[EquivocationRecord]: ...


@runtime_checkable
class RotationStore(Protocol):
    """Committee rotations the hub drives (``gateway/store/rotations.py``) and the old
    committee's signatures over each.

    CONTRACT: at most one open rotation per chain (``Conflict``); ``set_rotation_state``
    is compare-and-set on the state (``InvalidTransition`` otherwise), so two relayers
    never both act on one step; a notary's signature is stored once per rotation.
    """

    def create_rotation(
        self, route_id: str, statement: RotationStatement, now: float, *, requested_by: str
    ) -> RotationRecord: ...
    def rotation(self, rotation_id: str) -> RotationRecord: ...
    def rotations(self, *, open_only: bool = False, limit: int = 50) -> list[RotationRecord]: ...
    def set_rotation_state(
        self,
        rotation_id: str,
        expected: RotationState,
        new: RotationState,
        now: float,
        *,
        tx_hash: bytes | None = None,
        note: str = "",
    ) -> RotationRecord: ...
    def add_rotation_signature(
        self, rotation_id: str, notary: str, digest: bytes, signature: bytes, now: float
    ) -> bool: ...
    def rotation_signatures(self, rotation_id: str) -> list[SignatureRecord]: ...
    def rotation_in_flight(self, chain_id: ChainId) -> tuple[int, int]: ...


@runtime_checkable
class BatchStore(Protocol):
    """The batch half of the store (issue #15; ``gateway/store/batches.py``): batches of one
    route's packets under one notary statement, their members, signatures and journal.

    CONTRACT: each method is ONE database transaction whatever the batch's size: a
    batch is recorded with all its members (``create_batch``), all members move at once
    (``move_many``), so the relayer's hot path makes no round trip per transfer.
    CONTRACT: a transfer is in at most one batch of each kind (``Conflict`` otherwise).
    """

    def create_batch(
        self,
        route_id: str,
        kind: int,
        epoch: int,
        root: bytes,
        digest: bytes,
        transfer_ids: Sequence[str],
        now: float,
        *,
        hold_until: float,
    ) -> BatchRecord: ...
    def batch(self, batch_id: str) -> BatchRecord: ...
    def batch_members(self, batch_id: str) -> list[TransferRecord]: ...
    def batched(self, transfer_ids: Sequence[str], kind: int) -> dict[str, str]: ...
    def claim_batches(
        self, worker: str, now: float, lease_seconds: float, limit: int, *, route_id: str
    ) -> list[BatchRecord]: ...
    def set_batch_state(
        self,
        batch_id: str,
        expected: BatchState,
        new: BatchState,
        now: float,
        *,
        worker: str | None = None,
        retry_at: float | None = None,
    ) -> None: ...
    def release_batch(self, batch_id: str, worker: str, *, retry_at: float) -> None: ...
    def move_many(
        self,
        transfer_ids: Sequence[str],
        expected: TransferState,
        new: TransferState,
        reason: str,
        now: float,
        *,
        hold_until: float | None = None,
        keep_lease: str | None = None,
        **fields: object,
    ) -> int:
        """``keep_lease``: the worker whose pass goes on with the moved transfers; their
        lease stays (otherwise a move frees them, due at ``hold_until`` or at once, and
        another pass or relayer could lease them while this one still steps them)."""
        ...

    def note_many(
        self,
        transfer_ids: Sequence[str],
        state: TransferState,
        reason: str,
        now: float,
        *,
        hold_until: float,
    ) -> int: ...
    def record_batch_action(
        self,
        batch_id: str,
        step: str,
        chain_id: ChainId,
        action: ChainAction,
        now: float,
        *,
        search_floor: Height | None = None,
    ) -> ActionRecord: ...
    def record_done_actions(
        self,
        entries: Sequence[tuple[str, str, ChainId, ChainAction, bytes, Height]],
        now: float,
    ) -> int: ...
    def batch_actions(self, batch_id: str) -> dict[str, ActionRecord]: ...
    def mark_batch_action(
        self,
        action_id: int,
        status: ActionStatus,
        *,
        tx_hash: bytes | None = None,
        height: Height | None = None,
        reason: str = "",
    ) -> None: ...
    def add_batch_signature(self, record: SignatureRecord) -> bool: ...
    def batch_signatures(self, batch_id: str) -> list[SignatureRecord]: ...
    def batches_owed(
        self, notary: str, limit: int
    ) -> list[tuple[BatchRecord, list[OwedMember]]]: ...


@runtime_checkable
class RiskStore(Protocol):
    """The risk half of the store (issue #17; ``gateway/store/risk.py``): limits per route and
    denomination, the screening of transfers against them, and the held queue.

    CONTRACT: ``screen`` is ONE database transaction that first locks the route (its row
    ``FOR UPDATE`` on PostgreSQL; SQLite's write lock), then reads the route's
    :class:`RiskView`, decides each transfer in the order given — every admitted one joins
    the view before the next is decided — and applies the verdicts. Two relayers, or a
    relayer and the API, screening on one route queue on that lock: a window is never
    over-filled by a race.
    CONTRACT: a transfer is admitted once (``admitted_at``); ``screen`` skips one already
    admitted, so a transfer checked at the API is not counted again by the relayer.
    """

    def risk_limits(self, route_id: str | None = None) -> list[RiskLimitRecord]:
        """Every limit (of ``route_id``), ordered by route and denomination."""
        ...

    def put_risk_limit(self, limit: RiskLimitRecord, now: float) -> RiskLimitRecord:
        """Create or replace the limit of ``(route_id, denom)``; audited (``risk.limit``).
        ``NotFound`` for an unknown route, ``InvalidInput`` naming the field otherwise."""
        ...

    def delete_risk_limit(self, route_id: str, denom: str, now: float) -> None:
        """Remove a limit (``NotFound`` when there is none); audited."""
        ...

    def risk_view(self, route_id: str, now: float) -> RiskView:
        """The route's limits and what was admitted within its longest window before ``now``."""
        ...

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
        """Decide and apply, for each transfer still in ``expected`` (and leased by ``worker``
        when given; others are skipped): let it pass (``admitted_at = now``; from ``held``
        back to the origin's state: ``requested`` for ``api``, ``proven`` for ``source``),
        hold it (``held`` with the rule, reason and release time; due again at the release
        time, or at ``recheck_at`` for a review hold), or reject it (``rejected`` when
        nothing left the source; else held with the decision ``rejected``, refunded once
        its timeout passes). The records after, in the order given."""
        ...

    def release_held(self, transfer_id: str, reason: str, now: float) -> TransferRecord:
        """A supervisor's release: admitted now without a check, back to the origin's state;
        audited. ``Conflict`` unless held without a decision."""
        ...

    def reject_held(self, transfer_id: str, reason: str, now: float) -> TransferRecord:
        """A supervisor's rejection of a held transfer: ``rejected`` when nothing left the
        source, else kept held with the decision ``rejected`` until its timeout; audited."""
        ...

    def cancel_held(self, transfer_id: str, owner: str, reason: str, now: float) -> TransferRecord:
        """Its owner's cancel (``owner`` must be the key that created it, else ``Forbidden``):
        as ``reject_held`` with the decision ``cancelled``; audited."""
        ...

    def held_transfers(
        self, *, after: str | None = None, limit: int = 50
    ) -> tuple[list[TransferRecord], str | None]:
        """The held queue, oldest first; ``after`` is the opaque cursor returned second."""


@runtime_checkable
class PolicyStore(Protocol):
    """The payload-policy half of the store (issue 17 item 4; ``gateway/store/policies.py``):
    each route's ordered rules (``core.policies``), read by the relayer's and the API's
    check points, written by an admin.

    CONTRACT: ``set_payload_policy`` replaces the route's whole policy in one
    transaction with its ``policy.set`` audit entry and returns it at the next
    version; it changes no transfer (a policy applies to the checks made after it).
    The rules it is given are validated already (``relayer/risk/policy_rules.py``).
    """

    def payload_policy(self, route_id: str) -> PayloadPolicy:
        """The route's policy (version 0, no rules, when none was set); ``NotFound`` when
        the route is unknown."""
        ...

    def set_payload_policy(
        self,
        route_id: str,
        rules: Sequence[PolicyRule],
        now: float,
        *,
        expected_version: int | None = None,
        forced: bool = False,
    ) -> PayloadPolicy:
        """Replace the route's rules (``InvalidInput`` on ``route_id`` when unknown;
        ``Conflict`` when ``expected_version`` is given and is not the stored one)."""
        ...

    def record_policy_decision(self, decision: PolicyDecisionRecord, now: float) -> None:
        """An audit entry ``policy.decision`` for a hold or rejection by a policy."""
        ...


# --- capabilities the hub uses above adapters/, composed with ChainAdapter -------------
#
# Checked with ``isinstance`` against these declared protocols (never ``getattr`` of a
# name): a family that lacks one is refused with a clear reason, not probed.


@runtime_checkable
class OperatorTools(Protocol):
    """The audited operator tools of a store (``docs/supervision.md``): each is one
    transaction whose change and audit entry commit together, written as the acting
    caller. The API's operations router and the dashboard call them through this seam.
    """

    def pause_route(self, route_id: str, reason: str, now: float) -> RouteRecord:
        """Stop the route's worker from leasing (``route.pause``); again: a new reason."""
        ...

    def resume_route(self, route_id: str, reason: str, now: float) -> RouteRecord:
        """Let a paused route work again (``route.resume``); ``Conflict`` when not paused."""
        ...

    def retry_transfer_now(self, transfer_id: str, reason: str, now: float) -> TransferRecord:
        """Clear a live transfer's backoff (``transfer.retry_now``)."""
        ...

    def reject_transfer(self, transfer_id: str, reason: str, now: float) -> TransferRecord:
        """Reject a stuck transfer (``transfer.reject``): ``rejected`` when nothing left the
        source; the refund path (held, decision ``rejected``) when its packet is escrowed and
        proven; ``Conflict`` when a rejection would strand the escrow."""
        ...

    def force_refund(
        self, transfer_id: str, reason: str, now: float, *, dest_height: int, dest_time_ms: int
    ) -> TransferRecord:
        """``timed_out`` now, when the destination's final block (as read by the caller)
        passed the timeout and no delivery can be in flight (``transfer.force_refund``)."""
        ...

    def rewind_cursor_to(
        self, key: str, height: Height, floor: Height, reason: str, now: float, *, chain_id: str
    ) -> tuple[Height, Height]:
        """Move a scan cursor back, never below ``floor`` (``cursor.rewind``); ``(old, new)``."""
        ...

    def unfreeze_client(self, record: ClientRecord, reason: str, now: float) -> ClientRecord:
        """Replace a frozen light client by ``record`` (``client.unfreeze``)."""
        ...


@runtime_checkable
class BreakerStore(Protocol):
    """What the relayer's circuit breakers (``relayer/breakers.py``) ask of the store.

    CONTRACT: ``trip_breakers`` is compare-and-set and atomic: it pauses each route given
    only when it is not paused already (one audit entry however many relayers trip it at
    once), all in one transaction (a route and its reverse are paused together or not at
    all), and returns per route the paused route, or None when it was paused before (by
    an operator or another breaker).
    """

    def trip_breakers(
        self, breaker: str, reasons: Sequence[tuple[str, str]], now: float
    ) -> list[RouteRecord | None]:
        """Pause each ``(route_id, reason)`` with the reason ``breaker <breaker>: <reason>``,
        audited as ``route.pause`` by the actor ``breaker:<breaker>``; None for a route
        already paused."""
        ...

    def value_in_flight(self, route_id: str, up_to: Height) -> dict[str, int]:
        """Per denomination the route's asset transfers ever carried: the amount of those
        certainly in flight (``core.conservation.IN_FLIGHT_STATES``) whose packet sits in a
        source block at or below ``up_to`` (0 when none is)."""
        ...


@runtime_checkable
class ChainTimingFigures(Protocol):
    """A chain's timing figures for the HTLC timelock rules.

    ``proofs.htlc.timing.ChainTiming`` is the implementation; it is declared here
    by shape because ``core`` imports nothing of ours.
    """

    @property
    def block_time(self) -> float:
        """Seconds between blocks (> 0)."""
        ...

    @property
    def confirmations(self) -> int:
        """Blocks on top of the including one until final (0 on BFT chains)."""
        ...

    @property
    def clock_drift(self) -> float:
        """How far block timestamps may be from true time, seconds."""
        ...


@runtime_checkable
class FamilyRules(Protocol):
    """What a family knows without a node, as CLASS attributes and classmethods of its adapter.

    Class-level because the API often has only a ``ChainRecord`` (no adapter
    instance): it resolves the class with ``adapters.registry`` and asks it.
    A family without these rules keeps the shape-only check (1-128 non-space
    characters, the raw bytes being the text's UTF-8).

    CONTRACT: ``validate_address`` returns the one normalized text of an address
    (two spellings of one account compare equal afterwards) or raises
    ``InvalidInput`` naming ``field``; ``address_bytes`` of a validated address is
    what the family's bridge carries as a packet's sender or receiver.
    """

    chain_id_option: ClassVar[str]
    """The settings key that holds the hub's chain id (``chain_id``; ``chain`` on EVM)."""

    @classmethod
    def validate_address(cls, value: str, field: str = "address") -> str:
        """``value`` as an address of this family, normalized; ``InvalidInput`` naming ``field``."""
        ...

    @classmethod
    def address_bytes(cls, value: str) -> bytes:
        """The raw bytes of a validated address (``InvalidInput`` when it is not one)."""
        ...

    @classmethod
    def validate_asset(cls, value: str, field: str = "asset") -> str:
        """An HTLC leg's asset as the store keeps it (a denom, a token address, the
        chain's coin), normalized; ``InvalidInput`` naming ``field``."""
        ...


@runtime_checkable
class AccountSigner(Protocol):
    """A managed account's unlocked key, held by its family's signer object.

    SECURITY: the key never leaves the object: no repr, log line or error shows it.
    """

    @property
    def address(self) -> bytes:
        """The account's address in the family's default form (what a keystore records)."""
        ...


SECP256K1 = "secp256k1"
"""ECDSA on secp256k1 (Ethereum, the notaries): ``sign_digest`` gives 65 bytes r ‖ s ‖ v."""
P256 = "p256"
"""ECDSA on NIST P-256 (ChainMaker, FISCO's ``ecdsa`` accounts, RIP-7212): r ‖ s ‖ v too."""
ED25519 = "ed25519"
"""Ed25519 (RFC 8032, the Pujiang devnet's accounts): ``sign_digest`` signs the message."""
SM2 = "sm2"
"""SM2 (GB/T 32918.2) over SM3 with the default user id: ``sign_digest`` signs the message."""


@runtime_checkable
class Signer(Protocol):
    """One key, wherever it lives (an encrypted keystore file, a PKCS#11 token, memory).

    Every key the hub and the notaries use signs through this seam: notary
    attestations, relayer transactions on each family (the family encodes the
    transaction and asks for a signature over its signing digest), the hub's
    managed accounts. Back-ends live in ``adapters.signers``; a key rotation
    swaps one signer object for another.

    ``sign_digest`` per ``scheme``: ``secp256k1`` and ``p256`` take a 32-byte
    digest and return ``r ‖ s ‖ v`` (65 bytes, ``s`` at most n/2, ``v`` 27 or 28
    the recovery id of the normalised signature); ``ed25519`` and ``sm2`` take
    the message itself (those schemes hash inside) and return their 64 bytes.

    SECURITY: the secret never leaves the object (for an HSM it never leaves
    the token): no repr, log line or error shows it. ``label`` is a
    non-secret name for logs (``keystore:notary-1``, ``pkcs11:hub/notary-1``).
    CONTRACT: ``sign_digest`` raises ``InvalidInput`` for a digest of the wrong
    length and ``ConfigError`` when the back-end cannot sign (token gone, key
    locked), never quoting key material.
    """

    scheme: str
    label: str

    @property
    def public_key(self) -> bytes:
        """SEC1 uncompressed point (65 bytes) for ECDSA; the raw 32 bytes for Ed25519."""
        ...

    def sign_digest(self, digest: bytes) -> bytes: ...


@runtime_checkable
class SignerHealth(Protocol):
    """An adapter that sends from accounts it watches (a signer pool's balances).

    CONTRACT: cheap and synchronous (the figures of the last scheduled read);
    ``signer_alarms`` names each account below its alarm threshold or refused
    for lack of funds, by address and reason, never by key.
    """

    def signer_alarms(self) -> list[str]: ...

    def signer_balances(self) -> dict[str, int | None]:
        """Each sending account's balance at the last read (smallest unit; None before it)."""
        ...


@runtime_checkable
class ManagedKeys(Protocol):
    """How a family's hub-managed account keys are kept, as class members of its adapter.

    The keystore (``gateway.keystore``) seals a 32-byte secret in the format the
    family names and asks the family for the signer; it imports no family.

    SECURITY: ``account_signer`` must not put the secret in an error message.
    """

    key_format: ClassVar[str]
    """``"eth-keystore-v3"`` (the Ethereum keystore v3 JSON, read by geth, Foundry,
    MetaMask) or ``"pjgw-aead-v1"`` (scrypt + AES-256-GCM, the name, family and
    address as associated data); ``""`` when the family keeps no managed accounts."""

    @classmethod
    def account_signer(cls, secret: bytes) -> AccountSigner:
        """The signer of ``secret``; ``InvalidInput`` when it is not a key of this family
        or the family keeps no managed accounts."""
        ...


@runtime_checkable
class SourceTransactions(Protocol):
    """How a transfer starts on ONE chain: a client-signed send checked, a hub-signed one built.

    Built by the chain's adapter (``SourceChain.source_transactions``) from its
    settings; checking needs no node, so the API can check a ``signed_tx``
    before anything is stored.
    """

    signs_for_accounts: bool
    """False when the hub cannot sign sends here for managed accounts (yet):
    ``build_signed_send`` then refuses and the API answers 501 before storing."""

    def validate_signed_send(self, intent: SendIntent, raw: bytes) -> SourceSend:
        """The journaled action and hash of ``raw`` once it is the send ``intent`` describes.

        Checks, cheapest first and the signature last, each refusal naming it: the
        bytes decode as a transaction of this family; it is for this chain; it was
        signed by ``intent.sender``; it is the send the intent describes (kind and
        arguments, where the family can read them); its signature verifies.
        Refusals: ``InvalidInput`` with ``field="signed_tx"`` and a message starting
        ``"signed_tx: "``, or ``BadSignature``; a request field the family cannot
        carry (a payload on an asset send, say) is ``InvalidInput`` naming that field.

        SECURITY: ``raw`` is untrusted client input; nothing is sent here.
        """
        ...

    def account_address(self, signer: AccountSigner) -> bytes:
        """``signer``'s address on THIS chain (a family may derive it per chain)."""
        ...

    async def build_signed_send(
        self, intent: SendIntent, signer: AccountSigner, nonce: int
    ) -> SourceSend:
        """The send ``intent`` describes, signed by ``signer`` at account nonce ``nonce``.

        CONTRACT: the caller serializes nonces per account (one lock per account,
        the larger of the committed nonce and one past its last); nothing is sent.
        ``InvalidInput`` for a signer of another family or an intent the family
        cannot carry; ``ConfigError`` when ``signs_for_accounts`` is False.
        """
        ...


@runtime_checkable
class ManyProofs(Protocol):
    """An adapter that fetches the inclusion proofs of many events in few node requests.

    Under load a block holds hundreds of packets, and the relayer and every notary
    prove each of them: one request per event is most of their work
    (``docs/benchmarks.md``, issue #15). ``adapters.proving.prove_events`` uses this
    capability where an adapter has it and ``ChainAdapter.prove`` per event elsewhere.
    """

    async def prove_many(self, events: Sequence[ChainEvent]) -> Sequence[InclusionProof]:
        """The proof of each of ``events``, in order (one request per block, or fewer).

        CONTRACT: each proof is the one ``prove`` returns for its event: its own
        complete proof, checked on its own by ``LightClient.verify_membership``
        exactly as a single one (no proof vouches for another).
        SECURITY: untrusted, as every answer of a node.
        """
        ...


@runtime_checkable
class SourceChain(Protocol):
    """An adapter whose chain can start transfers from an API request."""

    def source_transactions(self) -> SourceTransactions | None:
        """This chain's source-transaction rules; None when transfers cannot start here."""
        ...

    async def account_nonce(self, address: bytes) -> int:
        """The committed nonce (next to use) of the account ``address`` (0 when unknown).

        CONTRACT: a read with a timeout; ``ConfigError`` when the family reads none.
        """
        ...


@runtime_checkable
class HtlcChain(Protocol):
    """An adapter whose chain may hold hashed-timelock swap legs."""

    def htlc(self) -> HtlcEndpoint | None:
        """The chain's HTLC endpoint; None when the chain has none (not deployed or
        configured, or a family without HTLCs)."""
        ...

    def chain_timing(self) -> ChainTimingFigures | None:
        """Block time, finality depth and clock drift from the chain's settings (what
        ``proofs.htlc.timing`` needs); None for a family without HTLCs."""
        ...


@runtime_checkable
class BridgeChain(Protocol):
    """An adapter whose chain has the hub's bridge (packets, notary certificates)."""

    def bridge(self) -> BridgeEndpoint | None:
        """The chain's ``BridgeEndpoint``; None for a family without one, ``ConfigError``
        when the family has one but this chain's settings do not locate it."""
        ...


@runtime_checkable
class CommitteeChain(Protocol):
    """An adapter that reads the committee its chain's bridge trusts NOW, and keeps using
    the newest one after a rotation (the configured committee is only the start).

    Why on the adapter and not on ``BridgeEndpoint``: reading is I/O and the bridge
    endpoint is pure translation."""

    async def committee_onchain(self) -> CommitteeState:
        """The bridge's epoch, threshold and members as the chain answers now."""
        ...

    def adopt_committee(self, committee: CommitteeState) -> None:
        """Build every later ``bridge()`` with ``committee`` (ignored for an older epoch)."""
        ...


@dataclass(frozen=True, slots=True)
class OnChainClientStatus:
    """The destination's on-chain light client of one source chain, as read now.

    ``client`` locates it on the destination (opaque: an address on EVM);
    ``kind`` names the verification it performs (what its updates must be encoded
    for); ``holds`` says whether it has a consensus state at the height asked
    about; ``trusted`` is its highest held height below that one (``None``:
    none), the height an update is verified from.
    """

    client: str
    kind: str
    latest: Height
    frozen: bool
    holds: bool
    trusted: Height | None


@dataclass(frozen=True, slots=True)
class OnChainUpdate:
    """A source header with its commit and keys, encoded for an on-chain client of ``kind``.

    ``header_hash`` is the hash of the header inside ``data``: the relayer
    sends an update only when its own light client verified that very header.
    """

    kind: str
    height: Height
    header_hash: bytes
    data: bytes


@runtime_checkable
class OnChainClientHost(Protocol):
    """A destination adapter whose bridge checks packets with its own light clients of
    other chains (a ``light_client`` route: no notaries). ``docs/capabilities.md``.

    SECURITY: the on-chain client, not the relayer, decides; a lying relayer can
    only fail to relay. Updates are idempotent (the same header twice changes
    nothing), so they are not journaled.
    """

    async def onchain_client_status(self, source: ChainId, height: Height) -> OnChainClientStatus:
        """The client of ``source`` (``ConfigError`` when the bridge has none)."""
        ...

    async def submit_client_update(
        self, status: OnChainClientStatus, update: OnChainUpdate
    ) -> bytes:
        """Send the update to the client; the transaction hash. ``InsufficientPower``
        (check ``trust-overlap``) when the client needs an intermediate header first;
        ``ChainRejected`` with the client's reason for any other refusal."""
        ...

    def deliver_with_proof_action(self, packet: Packet, proof: bytes) -> ChainAction:
        """The bridge's delivery of ``packet`` with the source adapter's ``proof``."""
        ...


@runtime_checkable
class OnChainClientSource(Protocol):
    """A source adapter that encodes its headers and packet proofs for on-chain clients."""

    onchain_client_kinds: frozenset[str]

    async def onchain_client_update(
        self, kind: str, trusted: Height, target: Height
    ) -> OnChainUpdate:
        """The header at ``target`` with what a client of ``kind`` holding ``trusted`` needs."""
        ...

    def onchain_packet_proof(self, kind: str, event: ChainEvent, proof: InclusionProof) -> bytes:
        """The inclusion ``proof`` of a ``send_packet`` ``event`` (from ``prove``), for ``kind``."""
        ...


@runtime_checkable
class AnchorChain(Protocol):
    """An adapter that records a 32-byte digest on its chain and finds it again: where the
    hub anchors the head of its audit log (``docs/supervision.md``).

    SECURITY: reading an anchor back trusts the node answering (or, for a family that
    proves state, the proof it serves); a supervisor checks against a node of their own.
    """

    @property
    def anchor_account(self) -> bytes | None:
        """The account this adapter anchors as (its signing key's address); None without one."""
        ...

    async def anchor_digest(self, digest: bytes) -> bytes:
        """Send a transaction recording ``digest`` as :attr:`anchor_account`; its hash, not
        waited for (``receipt`` tells when it is in).

        CONTRACT: ``InvalidInput`` unless 32 bytes; ``ConfigError`` without a signing key;
        anchoring a digest twice is harmless (the first height stays).
        """
        ...

    async def anchored_height(self, digest: bytes, account: bytes) -> Height | None:
        """The height of the block in which ``account`` first recorded ``digest``, from the
        chain's committed state; None when it never did."""
        ...


@runtime_checkable
class BridgeLedger(Protocol):
    """An adapter that reads its bridge's books: what the bridge holds in escrow for a
    counterparty chain, and how many vouchers of a foreign asset exist here. The
    conservation breaker compares the two sides of a route (``docs/supervision.md``
    "Circuit breakers").

    SECURITY: both reads trust the node answering (latest state, no proof); a lying
    node can trip the breaker (a pause, fail-safe) or hide a deficit from it until an
    honest node is asked.
    """

    async def escrowed(self, counterparty: ChainId, denom: str) -> int:
        """The amount of ``denom`` (a denomination native here, as packets name it) the
        bridge holds in escrow for packets sent to ``counterparty``; 0 for a denomination
        never escrowed.

        CONTRACT: a read at the latest height, with a timeout; ``ChainUnavailable`` when the
        node cannot answer.
        """
        ...

    async def voucher_supply(self, path: str) -> int:
        """The total supply here of the voucher of ``path`` (``<home chain>/<denom>``), 0 when
        none was ever minted.

        CONTRACT: as :meth:`escrowed`.
        """
        ...


@runtime_checkable
class Closable(Protocol):
    """An adapter holding connections, released once by its owner."""

    async def aclose(self) -> None: ...


def is_chain_adapter(obj: object) -> bool:
    """Structural check used by the adapter registry (never raises)."""
    return isinstance(obj, ChainAdapter)


__all__ = [
    "ED25519",
    "P256",
    "SECP256K1",
    "SM2",
    "AccountSigner",
    "AnchorChain",
    "BreakerStore",
    "BridgeChain",
    "BridgeEndpoint",
    "BridgeLedger",
    "ChainAction",
    "ChainAdapter",
    "ChainEvent",
    "ChainTimingFigures",
    "ClientCodec",
    "Closable",
    "CommitteeChain",
    "FamilyRules",
    "HeaderUpdate",
    "HtlcChain",
    "InclusionProof",
    "LightClient",
    "ManagedKeys",
    "ManyProofs",
    "OnChainClientHost",
    "OnChainClientSource",
    "OnChainClientStatus",
    "OnChainUpdate",
    "OperatorTools",
    "RiskStore",
    "RotationStore",
    "Signer",
    "SignerHealth",
    "SourceChain",
    "SourceTransactions",
    "Store",
    "TransferProtocol",
    "TxReceipt",
    "is_chain_adapter",
]
