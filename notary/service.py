"""``Notary``: verify a work item from the chains, then sign it at most once.

For a work item the notary trusts nothing but its own key, its own light
clients and the chains' verified data. ``attest`` checks, in order:

1. the route is configured and joins the item's source and destination (``UnknownRoute``);
2. the event at ``(height, position)`` exists in transaction ``tx_hash`` (``EventNotFound``),
   its header verifies from the notary's checkpoint and its inclusion proof
   against that header (the light client's errors);
3. the proven event is a ``send_packet`` of the source's bridge whose packet has
   the item's source, destination and sequence (``PacketMismatch``);
4. for ``nondelivery``: at the destination's finalized block, verified by the
   notary's own light client, the packet's timeout has passed
   (``TimeoutNotReached``) and a state proof against that block's state root
   shows the packet NOT received (``PacketReceived``): it can never be
   (``proofs.notary.nondelivery``);
   For a member of an ``ERROR_ACK`` batch (``attest_batch``) instead: the
   destination's ``packet_failed`` event the item names is proven by the notary's
   own light client of the destination and is of exactly this packet: the
   destination received it and its receiver or token refused it
   (``PacketNotFailed``);
5. the signed log allows the statement: the same digest again, or a new one
   (at most one delivery and one non-delivery per (route, sequence); a
   non-delivery after a delivery only with step 4's proof; never a delivery
   after a non-delivery) (``WouldEquivocate``);
6. sign (low s, v 27/28), record in the signed log, return the attestation.

SECURITY: the key is held by ``_Key``: no repr, log line or error carries it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from adapters.follower import Anchor, FilePersistence, FollowerSettings, LightClientFollower
from adapters.signers import LocalSigner
from core.batches import BatchKind
from core.errors import InvalidInput, PjgwError
from core.ids import ChainId
from core.logs import log_context
from core.seams import SECP256K1, Signer
from core.types import ChainEvent, EventKind
from notary.checkpoints import CheckpointFile
from notary.errors import (
    PacketMismatch,
    PacketNotFailed,
    PacketReceived,
    RotationNotExpected,
    TimeoutNotReached,
    UnknownRoute,
)
from notary.metrics import NotaryMetrics
from notary.rotations import (
    RotationAttestation,
    RotationWork,
    check_expected,
    expected_rotation,
)
from notary.signed_log import SignedLog
from notary.verify import ChainVerifier, EventAt
from proofs.hashing import keccak256
from proofs.notary.nondelivery import (
    DELIVERY,
    ERROR_ACK,
    NONDELIVERY,
    DestinationBlock,
    Timeout,
    Verdict,
    nondelivery_verdict,
)

if TYPE_CHECKING:
    from notary.batches import BatchAttestation, BatchWork

log = logging.getLogger("pjgw.notary")

_Signed = TypeVar("_Signed")
"""A signed statement: a single attestation or a batch one."""

_UNPROVEN = PjgwError("not proven yet")
"""A batch member's place before its event is proven (never an outcome)."""


def _place(item: WorkItem) -> EventAt:
    return EventAt(item.height, tuple(item.position), item.tx_hash)


Kind = Literal["delivery", "nondelivery"]
KINDS = ("delivery", "nondelivery")
_LOG_KINDS = {
    BatchKind.DELIVERY: DELIVERY,
    BatchKind.NONDELIVERY: NONDELIVERY,
    BatchKind.ERROR_ACK: ERROR_ACK,
}
"""The signed log's statement kind of each batch kind a notary signs."""


@dataclass(frozen=True, slots=True)
class Route:
    route_id: str
    source: str
    destination: str


@dataclass(frozen=True, slots=True)
class FailedAt:
    """Where the destination recorded a packet received-and-failed (its ``packet_failed``
    event): what an ``ERROR_ACK`` batch member names so that a notary can prove it."""

    height: int
    tx_hash: bytes
    position: tuple[int, ...]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FailedAt:
        tx_hash = str(doc["tx_hash"])
        if not tx_hash.startswith("0x"):
            raise ValueError("failure tx_hash is not 0x hex")
        found = cls(
            height=int(doc["height"]),
            tx_hash=bytes.fromhex(tx_hash[2:]),
            position=tuple(int(p) for p in doc["position"]),
        )
        if found.height < 0:
            raise ValueError("a failure's height is >= 0")
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "tx_hash": "0x" + self.tx_hash.hex(),
            "position": list(self.position),
        }


@dataclass(frozen=True, slots=True)
class WorkItem:
    """What the hub asks a notary to attest; every field is re-checked against the chains.

    ``failed_at``: for a member of an ``ERROR_ACK`` batch, where the destination recorded
    the packet failed (untrusted: the notary proves that event itself)."""

    transfer_id: str
    route_id: str
    source_chain: str
    dest_chain: str
    sequence: int
    height: int
    tx_hash: bytes
    position: tuple[int, ...]
    kind: Kind = "delivery"
    failed_at: FailedAt | None = None

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> WorkItem:
        """From the hub's JSON (``tx_hash`` 0x hex); ``InvalidInput`` on a malformed item."""
        try:
            kind = doc.get("kind", "delivery")
            if kind not in KINDS:
                raise ValueError(f"kind {kind!r}")
            tx_hash = str(doc["tx_hash"])
            if not tx_hash.startswith("0x"):
                raise ValueError("tx_hash is not 0x hex")
            failure = doc.get("failure")
            item = cls(
                transfer_id=str(doc["transfer_id"]),
                route_id=str(doc["route_id"]),
                source_chain=str(doc["source_chain"]),
                dest_chain=str(doc["dest_chain"]),
                sequence=int(doc["sequence"]),
                height=int(doc["height"]),
                tx_hash=bytes.fromhex(tx_hash[2:]),
                position=tuple(int(p) for p in doc["position"]),
                kind=kind,
                failed_at=None if failure is None else FailedAt.from_json(failure),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"malformed notary work item: {err}") from err
        if item.sequence < 1 or item.height < 0:
            raise InvalidInput("a work item's sequence is >= 1 and its height >= 0")
        return item


@dataclass(frozen=True, slots=True)
class Attestation:
    transfer_id: str
    notary: str  # 0x address
    kind: Kind
    digest: bytes
    signature: bytes  # 65 bytes r ‖ s ‖ v, low s, v 27/28

    def as_json(self) -> dict[str, str]:
        return {
            "transfer_id": self.transfer_id,
            "notary": self.notary,
            "kind": self.kind,
            "digest": "0x" + self.digest.hex(),
            "signature": "0x" + self.signature.hex(),
        }


class _Key:
    """The notary's key behind the signer seam (``core.seams.Signer``: keystore, HSM, or
    raw bytes in tests and development), confined: it prints and lets out only its address."""

    __slots__ = ("_signer", "address")

    def __init__(self, key: bytes | Signer) -> None:
        if isinstance(key, bytes):
            key = LocalSigner(key, SECP256K1, label="memory")
        if not isinstance(key, Signer) or key.scheme != SECP256K1:
            raise InvalidInput("a notary key is a secp256k1 signer or 32 bytes")
        self._signer = key
        self.address = "0x" + keccak256(key.public_key[1:])[12:].hex()

    def sign(self, digest: bytes) -> bytes:
        return self._signer.sign_digest(digest)

    def __repr__(self) -> str:
        return f"_Key({self.address})"


CLIENTS_DIR = "clients"
"""Where the notary's follower keeps one light-client file per chain (in its data dir)."""
DEFAULT_TRUSTING_PERIOD = 14 * 24 * 3600
DEFAULT_MAX_CLOCK_DRIFT = 15


def _anchors(options: Mapping[str, Mapping[str, Any]], legacy: CheckpointFile) -> dict[str, Anchor]:
    """Trust anchors: the configured checkpoints, else those a notary of an earlier version
    wrote to ``checkpoints.json`` (so an upgraded notary keeps its trust, not TOFU again)."""
    anchors = {}
    for chain_id in {*options, *legacy.chains()}:
        chain = options.get(chain_id, {})
        if "checkpoint_height" in chain:
            anchors[chain_id] = Anchor(
                int(chain["checkpoint_height"]),
                bytes.fromhex(str(chain["checkpoint_hash"]).removeprefix("0x")),
            )
        elif (stored := legacy.get(chain_id)) is not None:
            anchors[chain_id] = Anchor(stored.height, stored.hash)
    return anchors


def _periods(options: Mapping[str, Any]) -> tuple[int, int]:
    return (
        int(options.get("trusting_period", DEFAULT_TRUSTING_PERIOD)),
        int(options.get("max_clock_drift", DEFAULT_MAX_CLOCK_DRIFT)),
    )


class Notary:
    """One notary: its key, its adapters (chain id -> adapter), its routes, its data dir.

    ``chain_options`` per chain: ``checkpoint_height``/``checkpoint_hash`` (an
    operator checkpoint), ``trusting_period``/``max_clock_drift`` (Pujiang, seconds).
    """

    def __init__(
        self,
        key: bytes | Signer,
        adapters: Mapping[str, Any],
        routes: Mapping[str, Route],
        data_dir: Path,
        *,
        chain_options: Mapping[str, Mapping[str, Any]] | None = None,
        clock: Callable[[], float] = time.time,
        metrics: NotaryMetrics | None = None,
    ) -> None:
        self._key = _Key(key)
        self.address = self._key.address
        self.adapters = dict(adapters)
        self.routes = dict(routes)
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.signed_log = SignedLog(data_dir)
        self._clock = clock
        self.metrics = metrics or NotaryMetrics()
        self.metrics.watch_signed_log(self.signed_log.count)
        options = {c: dict(o) for c, o in (chain_options or {}).items()}
        self.chain_options = options
        self.rotations_answered: set[str] = set()
        """Rotations signed or refused by this process (each is looked at once)."""
        self.follower = LightClientFollower(
            FilePersistence(data_dir / CLIENTS_DIR),
            {ChainId(c): a for c, a in self.adapters.items()},
            FollowerSettings(
                checkpoints=_anchors(options, CheckpointFile(data_dir)),
                trusting_period=lambda chain: _periods(options.get(str(chain), {})),
                tofu_below_target=False,
            ),
            clock,
        )
        self.verifiers: dict[str, ChainVerifier] = {
            chain_id: ChainVerifier(adapter, self.follower)
            for chain_id, adapter in self.adapters.items()
        }

    def __repr__(self) -> str:
        return f"Notary({self.address}, chains={sorted(self.adapters)})"

    # --- committee rotations (notary/rotations.py) -------------------------------------

    async def attest_rotation(self, work: RotationWork) -> RotationAttestation:
        """Sign ``work`` only when it is the next committee this notary's operator
        configured for its chain and the chain's next epoch; at most once per chain and
        epoch (the signed log); the digest is computed here."""
        statement = work.statement()
        chain = str(statement.chain_id)
        adapter = self.adapters.get(chain)
        bridge = getattr(adapter, "bridge", None)
        read = getattr(adapter, "committee_onchain", None)
        if bridge is None or read is None:
            raise RotationNotExpected(f"this notary follows no bridge of {chain}", chain=chain)
        digest = bridge().rotation_digest(statement)
        signature = self.signed_log.check_rotation(chain, statement.epoch, digest)
        if signature is None:  # new: only the configured one, the chain's next epoch
            expected = expected_rotation(chain, self.chain_options.get(chain, {}))
            check_expected(statement, expected, await read())
            signature = self.signed_log.record_rotation(
                chain,
                statement.epoch,
                digest,
                self._key.sign(digest),
                work.rotation_id,
                self._clock(),
            )
        log.info(
            "signed rotation %s of %s to epoch %d (%d members, threshold %d)",
            work.rotation_id,
            chain,
            statement.epoch,
            len(statement.members),
            statement.threshold,
        )
        return RotationAttestation(work.rotation_id, self.address, digest, signature)

    async def _rotated_epoch(self, chain: str, asked: int, configured: int) -> int:
        """The chain's live epoch when a batch names a newer one than configured: after a
        rotation the chain is the truth (its committee is adopted); else ``configured``."""
        adapter = self.adapters.get(chain)
        read = getattr(adapter, "committee_onchain", None)
        if read is None or asked < configured:
            return configured
        live = await read()
        adopt = getattr(adapter, "adopt_committee", None)
        if live.epoch > configured and adopt is not None:
            adopt(live)
            log.info("%s: committee of epoch %d adopted from the chain", chain, live.epoch)
        return int(live.epoch)

    def close(self) -> None:
        self.signed_log.close()

    async def follow(self) -> dict[str, str]:
        """Advance each chain's light client to its finalized height; what failed, by chain.

        Never raises: a chain that cannot be followed now (node down, client
        frozen) is logged and tried again next time.
        """
        failed = {}
        for chain_id, verifier in self.verifiers.items():
            try:
                await verifier.latest_verified()
            except PjgwError as err:
                failed[chain_id] = str(err)
                log.warning("following %s: %s", chain_id, err)
        return failed

    async def attest(self, work: WorkItem) -> Attestation:
        """Verify ``work`` and sign it (module docstring); a typed refusal otherwise.

        Counted and timed (``notary.metrics``); its log lines carry the transfer and route."""
        with log_context(transfer_id=work.transfer_id, route=work.route_id):
            return await self._measured(work.kind, self._attest(work))

    async def _measured(self, kind: str, signing: Awaitable[_Signed]) -> _Signed:
        """``signing``'s statement, counted as attested or refused (by its error code) and
        timed under ``kind`` in ``notary.metrics``."""
        started = time.perf_counter()
        try:
            signed = await signing
        except PjgwError as err:
            self.metrics.refused(kind, err.code, time.perf_counter() - started)
            raise
        self.metrics.attested(kind, time.perf_counter() - started, self._clock())
        return signed

    async def _attest(self, work: WorkItem) -> Attestation:
        route, packet = await self._proven_packet(work)
        source = self.adapters[route.source]
        dest = self.adapters[route.destination]
        nonreceipt = None
        if work.kind == "delivery":
            digest = dest.bridge().delivery_digest(packet)
        else:
            block = await self.verifiers[route.destination].final_block(packet)
            nonreceipt = self._never_received(route.destination, packet, block)
            digest = source.bridge().nondelivery_digest(packet)
        log_key = (work.route_id, work.sequence, work.kind, digest)
        signature = self.signed_log.check(*log_key, nonreceipt=nonreceipt)
        if signature is None:
            signature = self.signed_log.record(
                *log_key,
                self._key.sign(digest),
                work.transfer_id,
                self._clock(),
                nonreceipt=nonreceipt,
            )
        log.info(
            "attested %s of %s/%s (transfer %s): 0x%s",
            work.kind,
            work.route_id,
            work.sequence,
            work.transfer_id,
            digest.hex(),
        )
        return Attestation(work.transfer_id, self.address, work.kind, digest, signature)

    async def attest_batch(self, work: BatchWork) -> BatchAttestation:
        """Verify EVERY packet of ``work``, recompute its root, and sign the batch statement
        once (``notary/batches.py``); a typed refusal otherwise, naming the packet.

        Counted and timed like single statements (``notary.metrics``, kind ``delivery`` or
        ``nondelivery`` by the batch's kind); its log lines carry the route."""
        with log_context(route=work.route_id):
            return await self._measured(work.kind.name.lower(), self._attest_batch(work))

    async def _attest_batch(self, work: BatchWork) -> BatchAttestation:
        from core.batches import BatchStatement
        from notary.batches import BatchAttestation, BatchMemberRefused, BatchRootMismatch
        from proofs.hashing import get_hash_function
        from proofs.notary.batch import compute_batch_root

        if work.kind not in (BatchKind.DELIVERY, BatchKind.NONDELIVERY, BatchKind.ERROR_ACK):
            # ACK roots only clear commitments; neither bridge needs them (docs/notary.md).
            raise BatchRootMismatch(f"this notary does not sign {work.kind.name} batches")
        route = self.routes.get(work.route_id)
        if route is None:
            raise UnknownRoute(f"route {work.route_id!r} is not configured")
        for item in work.members:
            if (item.route_id, item.source_chain, item.dest_chain) != (
                work.route_id,
                work.source_chain,
                work.dest_chain,
            ):
                raise BatchMemberRefused(
                    f"packet {work.members.index(item)} is not of route {work.route_id}",
                    index=work.members.index(item),
                    reason="batch-mixed-routes",
                )
        # Every member's event proven per source block (``ChainVerifier.proven_events``: one
        # lookup by position, one header check, one proof request and one thread hop per
        # block), each member still checked on its own; a member whose route is wrong is
        # refused for that, as alone.
        events: list[ChainEvent | PjgwError] = []
        for item in work.members:
            try:
                self._route_of(item)
            except PjgwError as err:
                events.append(err)
            else:
                events.append(_UNPROVEN)
        asked = [i for i, e in enumerate(events) if e is _UNPROVEN]
        if asked:
            proven_events = await self.verifiers[route.source].proven_events(
                [_place(work.members[i]) for i in asked]
            )
            for i, outcome in zip(asked, proven_events, strict=True):
                events[i] = outcome
        # Step 3 for each member, then the destination's checks for the whole batch at
        # once (refunds: one verified final block, each member's own state proof; error
        # acknowledgements: the failure events proven per block), each member's outcome its own.
        packets: list[Any] = []
        for item, event in zip(work.members, events, strict=True):
            try:
                if isinstance(event, PjgwError):
                    raise event
                packets.append(self._packet_from(route.source, item, event))
            except PjgwError as err:
                packets.append(err)
        checked = [i for i, p in enumerate(packets) if not isinstance(p, PjgwError)]
        blocks: list[DestinationBlock | PjgwError | None] = [None] * len(packets)
        if work.kind is BatchKind.NONDELIVERY and checked:
            found = await self.verifiers[route.destination].final_blocks(
                [packets[i] for i in checked]
            )
            for i, block in zip(checked, found, strict=True):
                blocks[i] = block
        elif work.kind is BatchKind.ERROR_ACK and checked:
            refusals = await self._recorded_failed(
                route.destination, [(work.members[i], packets[i]) for i in checked]
            )
            for i, refusal in zip(checked, refusals, strict=True):
                blocks[i] = refusal
        proven: list[tuple[Any, DestinationBlock | None]] = []
        for index, item in enumerate(work.members):  # the first refused by index refuses all
            try:
                packet, block = packets[index], blocks[index]
                if isinstance(packet, PjgwError):
                    raise packet
                if isinstance(block, PjgwError):
                    raise block
                if block is not None:
                    self._never_received(route.destination, packet, block)
            except PjgwError as err:
                raise BatchMemberRefused(
                    f"packet {index} ({work.route_id}/{item.sequence}) refused: {err.code}: {err}",
                    index=index,
                    sequence=item.sequence,
                    reason=err.code,
                ) from err
            # One INFO line per member carrying its transfer id: an operator traces a
            # transfer through each notary by it (tests/e2e/test_observability.py).
            if log.isEnabledFor(logging.INFO):
                with log_context(transfer_id=item.transfer_id, route=work.route_id):
                    log.info(
                        "verified %s/%s for batch %s (transfer %s)",
                        work.route_id,
                        item.sequence,
                        work.batch_id,
                        item.transfer_id,
                    )
            proven.append((packet, block))
        packets = [p for p, _b in proven]
        acting_chain = route.destination if work.kind.acts_on_destination else route.source
        acting = self.adapters[acting_chain].bridge()
        hash_fn = get_hash_function(acting.batch_hash_name())
        root = compute_batch_root([acting.batch_leaf(p) for p in packets], hash_fn=hash_fn)
        if root != work.root:
            raise BatchRootMismatch(
                f"the batch's root 0x{work.root.hex()} is not 0x{root.hex()}, the root of "
                "the packets this notary proved"
            )
        epoch = acting.committee_epoch()
        if epoch != work.epoch:
            epoch = await self._rotated_epoch(acting_chain, work.epoch, epoch)
        if epoch != work.epoch:
            raise BatchRootMismatch(
                f"the batch names committee epoch {work.epoch}; {acting_chain} trusts {epoch}"
            )
        statement = BatchStatement(
            route.source, route.destination, epoch, work.kind, len(packets), root
        )
        digest = acting.batch_digest(statement)
        kind = _LOG_KINDS[work.kind]
        sequences = [p.sequence for p in packets]
        if work.kind is BatchKind.ERROR_ACK:  # every member's failure was proven above
            proofs = [True] * len(packets)
        else:
            proofs = [b is not None and not b.received for _p, b in proven]  # type: ignore[misc]
        signature = self.signed_log.check_batch(
            work.route_id, kind, sequences, digest, nonreceipt_proven=proofs
        )
        if signature is None:
            signature = self.signed_log.record_batch(
                work.route_id,
                kind,
                sequences,
                digest,
                self._key.sign(digest),
                work.batch_id,
                self._clock(),
                nonreceipt_proven=proofs,
            )
        log.info(
            "attested %s batch %s of %s (%d packets, root 0x%s)",
            kind,
            work.batch_id,
            work.route_id,
            len(packets),
            root.hex()[:16],
        )
        return BatchAttestation(work.batch_id, self.address, digest, signature)

    async def _proven_packet(self, work: WorkItem) -> tuple[Route, Any]:
        """Steps 1-3 of the module docstring: the route, and the packet proven from the
        notary's own light client at the work item's place."""
        route = self._route_of(work)
        event = await self.verifiers[route.source].proven_event(
            work.height, work.position, work.tx_hash
        )
        return route, self._packet_from(route.source, work, event)

    def _route_of(self, work: WorkItem) -> Route:
        """Step 1: the configured route joining the item's chains, both followed here."""
        route = self.routes.get(work.route_id)
        if route is None:
            raise UnknownRoute(f"route {work.route_id!r} is not configured")
        if (route.source, route.destination) != (work.source_chain, work.dest_chain):
            raise UnknownRoute(
                f"route {work.route_id} joins {route.source} -> {route.destination}, "
                f"not {work.source_chain} -> {work.dest_chain}"
            )
        for chain in (route.source, route.destination):
            if chain not in self.adapters:
                raise UnknownRoute(f"no adapter for chain {chain}")
        return route

    def _packet_from(self, source_chain: str, work: WorkItem, event: ChainEvent) -> Any:
        """Step 3: the proven ``event`` is a ``send_packet`` of the source's bridge whose
        packet is the one the work item names."""
        if event.kind is not EventKind.SEND_PACKET:
            raise PacketMismatch(f"the proven event is a {event.kind}, not a send_packet")
        try:
            packet = self.adapters[source_chain].bridge().packet_of(event)
        except InvalidInput as err:
            raise PacketMismatch(f"the proven event is not a packet: {err.message}") from err
        identity = (str(packet.source_chain), str(packet.dest_chain), packet.sequence)
        if identity != (work.source_chain, work.dest_chain, work.sequence):
            raise PacketMismatch(
                f"the proven packet is {identity[0]} -> {identity[1]} #{identity[2]}, the work "
                f"item names {work.source_chain} -> {work.dest_chain} #{work.sequence}"
            )
        return packet

    async def _recorded_failed(
        self, dest_chain: str, members: list[tuple[WorkItem, Any]]
    ) -> list[PjgwError | None]:
        """For each ``(work item, packet)``: prove that ``dest_chain`` received the packet
        and recorded it FAILED (its receiver or token refused it): the ``packet_failed``
        event the work item names, proven by this notary's own light client of the
        destination and decoded from the proven bytes (``ChainVerifier.proven_events``,
        per block), is of exactly this packet. ``None``, or the refusal
        (``PacketNotFailed``, or the event's own).

        SECURITY: the destination marks such a packet received (it can never be delivered
        later), so its refund on the source (``ERROR_ACK``) pays it back once: the source
        deletes its commitment on the first refund of either kind.
        """
        out: list[PjgwError | None] = [None] * len(members)
        named: list[tuple[int, FailedAt]] = []
        for k, (work, packet) in enumerate(members):
            if work.failed_at is None:
                out[k] = PacketNotFailed(
                    f"packet {packet.source_chain}/{packet.sequence}: the work item names no "
                    "failure event on its destination"
                )
            else:
                named.append((k, work.failed_at))
        events = await self.verifiers[dest_chain].proven_events(
            [EventAt(f.height, tuple(f.position), f.tx_hash) for _k, f in named]
        )
        bridge = self.adapters[dest_chain].bridge()
        for (k, failed), event in zip(named, events, strict=True):
            packet = members[k][1]
            if isinstance(event, PjgwError):
                out[k] = event
            elif event.kind is not EventKind.PACKET_FAILED or not bridge.is_failed_event(
                event, packet
            ):
                out[k] = PacketNotFailed(
                    f"the proven {event.kind} event at {dest_chain} height {failed.height} is "
                    f"not the failure of packet {packet.source_chain}/{packet.sequence}",
                    height=failed.height,
                )
        return out

    def _never_received(
        self, dest_chain: str, packet: Any, block: DestinationBlock
    ) -> DestinationBlock:
        """``block``, the verified final destination block, proving ``packet`` can never be
        received; ``PacketReceived`` or ``TimeoutNotReached`` otherwise.

        SECURITY: the block's height and time are from a header this notary's
        light client verified, ``received`` from a state proof against its state
        root (``ChainVerifier.final_block``/``final_blocks``); the decision is
        ``proofs.notary.nondelivery.nondelivery_verdict``.
        """
        timeout = Timeout(int(packet.timeout_height), int(packet.timeout_time_ms))
        verdict = nondelivery_verdict(timeout, block)
        if verdict is Verdict.RECEIVED:
            raise PacketReceived(
                f"{dest_chain} holds packet {packet.source_chain}/{packet.sequence} at its "
                f"verified final block {block.height}: it was delivered, no refund",
                height=block.height,
            )
        if verdict is not Verdict.SIGN:
            raise TimeoutNotReached(
                f"{dest_chain} verified to height {block.height} (time {block.time_ms} ms); the "
                f"packet times out at height {packet.timeout_height} / "
                f"{packet.timeout_time_ms} ms ({verdict})",
                height=block.height,
            )
        return block
