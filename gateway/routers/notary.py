"""``/v1/notary``: the work the committee's notaries pull, and the attestations they push.

A notary (role ``notary``) asks for packets it has not signed yet: transfers
``proven`` by the hub (``delivery``) and ``timed_out`` ones
(``nondelivery``, also from a notary that attested their delivery). It
verifies each one itself against its own light client before signing; the
hub never asks it to trust the hub.

An attestation is checked before it is stored: the 65-byte ``r‖s‖v``
secp256k1 signature must recover to ``notary`` over ``digest``, and when an
adapter for the chain that will check it has a bridge (``BridgeChain``), ``digest``
must be that chain's digest of the transfer's packet. It is stored as its
kind of statement: a notary that signed another digest OF THE SAME KIND for
the same ``(route, sequence)`` is an equivocation: the store keeps both
signatures as evidence and the answer is a 409 problem ``…/equivocation``.
What a notary owes is one store query (``Store.statements_owed``), the same
the embedded notary uses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from core.batches import BatchKind
from core.committee import RotationState
from core.errors import BadSignature, ConfigError, Conflict, InvalidInput
from core.records import BatchRecord, OwedMember, SignatureRecord, TransferRecord
from core.seams import BatchStore, BridgeChain, RotationStore, Store
from core.states import TransferState
from core.steps import Step
from core.types import Packet
from gateway.auth import Principal, notary_access
from gateway.problems import Equivocation
from gateway.routers.deps import Catalog, adapter_for, get_catalog, get_clock, get_store
from gateway.schemas.notary import (
    AttestationIn,
    AttestationOut,
    BatchAttestationIn,
    BatchAttestationOut,
    BatchMemberItem,
    BatchWorkOut,
    FailureEvent,
    WorkItem,
    WorkKind,
)
from proofs.notary.ecdsa import recover
from relayer.settings import RelayerSettings

router = APIRouter(prefix="/v1/notary", tags=["notary"])

MAX_ITEMS = 200
_DELIVERY_STATES = frozenset(
    {
        TransferState.PROVEN,
        TransferState.ATTESTED,
        TransferState.DEST_SUBMITTED,
        TransferState.COMPLETED,
        TransferState.TIMED_OUT,  # late signatures are harmless; quorum is the relayer's
    }
)
_NONDELIVERY_STATES = frozenset({TransferState.TIMED_OUT, TransferState.REFUNDED})


@router.get("/requests", response_model=list[WorkItem])
def work_items(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    _: Annotated[Principal, Depends(notary_access)],
    notary: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")],
    limit: Annotated[int, Query(ge=1, le=MAX_ITEMS)] = 50,
) -> list[WorkItem]:
    """The per-packet statements ``notary`` owes, oldest first, up to ``limit`` items."""
    owed = store.statements_owed(notary.lower(), limit, owed_kinds(request))
    return [_item(t, kind) for t, kind in owed]  # type: ignore[arg-type]


def owed_kinds(request: Request) -> tuple[str, ...]:
    """The per-packet statements this hub asks for. Attesting in batches
    (``PJGW_RELAYER_ATTESTATION=batch``, the default) every deliverable proven packet is
    signed with its batch (``/batches``), so per-packet ``delivery`` signatures would only
    cost each notary a proof, a signature and a POST per packet, and the hub a store write
    each (they contended with the relayer for SQLite's write lock: issue #15's profile);
    ``nondelivery`` stays owed for the refunds that go per packet."""
    settings = getattr(request.app.state, "relayer_settings", None) or RelayerSettings()
    return ("nondelivery",) if settings.attestation == "batch" else ("delivery", "nondelivery")


def _failure(store: Store, t: TransferRecord) -> FailureEvent | None:
    """The destination's failure event the relayer recorded for ``t`` (journal step
    ``failed``), for a member of an ERROR_ACK batch."""
    action = store.action(t.id, Step.FAILED)
    if action is None:
        return None
    payload = action.payload
    return FailureEvent(
        height=int(payload["height"]),  # type: ignore[arg-type]
        tx_hash=str(payload["tx_hash"]),
        position=[int(p) for p in payload["position"]],  # type: ignore[union-attr]
    )


def _member(t: OwedMember, kind: WorkKind, failure: FailureEvent | None) -> BatchMemberItem:
    return _item(t, kind, BatchMemberItem, failure=failure)  # type: ignore[return-value]


def _item(
    t: TransferRecord | OwedMember,
    kind: WorkKind,
    model: type[WorkItem] = WorkItem,
    **more: object,
) -> WorkItem:
    """``t``'s work item as ``model`` (a batch member: built once, not copied from a
    ``WorkItem``; the batch endpoint answers hundreds a poll)."""
    packet = t.packet
    if packet is None:  # filtered by the caller
        raise InvalidInput("transfer has no packet yet")
    return model(
        transfer_id=t.id,
        route_id=t.route_id,
        source_chain=str(packet.source),
        dest_chain=str(packet.destination),
        sequence=packet.sequence,
        height=None if t.source_height is None else int(t.source_height),
        tx_hash=None if t.source_tx is None else "0x" + t.source_tx.hex(),
        position=list(t.source_position or ()),
        kind=kind,
        **more,
    )


@router.post("/attestations", response_model=AttestationOut)
def attest(
    request: Request,
    body: AttestationIn,
    store: Annotated[Store, Depends(get_store)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
    clock: Annotated[Callable[[], float], Depends(get_clock)],
    _: Annotated[Principal, Depends(notary_access)],
) -> AttestationOut:
    transfer = store.transfer(body.transfer_id)
    packet = transfer.packet
    if packet is None:
        raise Conflict(f"transfer {transfer.id} has no packet yet: nothing to attest")
    allowed = _DELIVERY_STATES if body.kind == "delivery" else _NONDELIVERY_STATES
    if transfer.state not in allowed:
        raise Conflict(f"transfer {transfer.id} is {transfer.state}: no {body.kind} to attest")
    digest = bytes.fromhex(body.digest[2:])
    signature = bytes.fromhex(body.signature[2:])
    notary = body.notary.lower()
    if recover_signer(digest, signature) != notary:
        raise BadSignature("the signature does not recover to notary over digest")
    expected = _expected_digest(request, catalog, transfer, body.kind)
    if expected is not None and expected != digest:
        raise InvalidInput(f"digest is not this packet's {body.kind} digest", field="digest")
    record = SignatureRecord(transfer.id, notary, digest, signature, clock(), body.kind)
    evidence = store.add_signature(record, transfer.route_id, packet.sequence)
    if evidence is not None:
        raise Equivocation(
            f"notary {notary} already signed another digest for "
            f"{transfer.route_id}#{packet.sequence}; the evidence is stored",
            evidence_id=evidence.id,
        )
    return AttestationOut(transfer_id=transfer.id, notary=notary, kind=body.kind, accepted=True)


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The 0x address that made ``signature`` over ``digest``, by the quorum's own rule.

    ``proofs.notary.ecdsa.recover``: 65 bytes ``r ‖ s ‖ v``, low ``s``, ``v`` 27/28.
    A signature the quorum would not count is refused at intake with the reason
    (``quorum-high-s``, ``quorum-bad-v``, …), so a stored malleated twin can never
    shadow a notary's valid signature.
    """
    return "0x" + recover(digest, signature).hex()


def _expected_digest(
    request: Request, catalog: Catalog, t: TransferRecord, kind: WorkKind
) -> bytes | None:
    """The digest the checking chain's bridge computes, when its adapter is at hand."""
    packet_id = t.packet
    if packet_id is None:
        return None
    checker = packet_id.destination if kind == "delivery" else packet_id.source
    adapter = adapter_for(request.app.state.adapters, str(checker))
    bridge = adapter.bridge() if isinstance(adapter, BridgeChain) else None
    if bridge is None:
        return None
    families = request.app.state.families
    source = catalog.chain(packet_id.source)
    dest = catalog.chain(packet_id.destination)
    packet = Packet(
        source_chain=packet_id.source,
        dest_chain=packet_id.destination,
        sequence=packet_id.sequence,
        sender=families.address_bytes(source.family, t.sender),
        receiver=families.address_bytes(dest.family, t.receiver),
        denom=t.denom,
        amount=t.amount,
        payload=t.payload,
        timeout_height=t.timeout_height,
        timeout_time_ms=t.timeout_time * 1000,
    )
    if kind == "delivery":
        return bytes(bridge.delivery_digest(packet))
    return bytes(bridge.nondelivery_digest(packet))


# --- batches (issue #15) ------------------------------------------------------------------

MAX_BATCHES = 16
"""Most batches one answer holds (each up to 256 packets): bounds the answer's size."""


BATCH_WORK_KEPT = 64
"""Batches whose answer one hub keeps built (``BatchWorkCache``)."""


class BatchWorkCache:
    """The last ``BATCH_WORK_KEPT`` batches' work answers, by batch id.

    A batch's answer never changes once it is assembled (its members, their source
    positions, root and digest are fixed; an ERROR_ACK member's failure event is recorded
    before the batch is), while each notary asks for every batch it owes on each poll
    until it signs it: under load, building the same hundreds of member items again and
    again was a twentieth of the hub's CPU (issue #15). Thread-safe (the endpoint runs in
    the thread pool)."""

    def __init__(self, kept: int = BATCH_WORK_KEPT) -> None:
        self._kept = kept
        self._built: OrderedDict[str, BatchWorkOut] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, batch_id: str) -> BatchWorkOut | None:
        with self._lock:
            found = self._built.get(batch_id)
            if found is not None:
                self._built.move_to_end(batch_id)
            return found

    def put(self, work: BatchWorkOut) -> None:
        with self._lock:
            self._built[work.batch_id] = work
            self._built.move_to_end(work.batch_id)
            while len(self._built) > self._kept:
                self._built.popitem(last=False)


def _batch_work_cache(request: Request) -> BatchWorkCache:
    cache = getattr(request.app.state, "batch_work", None)
    if cache is None:
        cache = request.app.state.batch_work = BatchWorkCache()
    return cache  # type: ignore[no-any-return]


def _batch_work_out(store: Store, b: BatchRecord, members: list[OwedMember]) -> BatchWorkOut:
    packet = members[0].packet
    return BatchWorkOut(
        batch_id=b.id,
        route_id=b.route_id,
        source_chain=str(packet.source) if packet else "",
        dest_chain=str(packet.destination) if packet else "",
        kind=BatchKind(b.kind).name.lower(),  # type: ignore[arg-type]
        epoch=b.epoch,
        size=b.size,
        root="0x" + b.root.hex(),
        digest="0x" + b.digest.hex(),
        members=[
            _member(
                t,
                "nondelivery" if b.kind == BatchKind.NONDELIVERY else "delivery",
                _failure(store, t) if b.kind == BatchKind.ERROR_ACK else None,
            )
            for t in members
        ],
    )


@router.get("/batches", response_model=list[BatchWorkOut])
def batch_work(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    _: Annotated[Principal, Depends(notary_access)],
    notary: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")],
    limit: Annotated[int, Query(ge=1, le=MAX_BATCHES)] = 4,
) -> list[BatchWorkOut]:
    """The assembled batches ``notary`` has not signed, oldest first, with every packet's
    work item in leaf order: the notary verifies each and recomputes the root itself."""
    batches = _batch_store(store)
    cache = _batch_work_cache(request)
    answer = []
    for b, members in batches.batches_owed(notary.lower(), limit):
        if not members or any(t.packet is None for t in members):
            continue
        work = cache.get(b.id)
        if work is None or work.digest != "0x" + b.digest.hex():
            work = _batch_work_out(store, b, members)
            cache.put(work)
        answer.append(work)
    return answer


@router.post("/batch-attestations", response_model=BatchAttestationOut)
def attest_batch(
    request: Request,
    body: BatchAttestationIn,
    store: Annotated[Store, Depends(get_store)],
    clock: Annotated[Callable[[], float], Depends(get_clock)],
    _: Annotated[Principal, Depends(notary_access)],
) -> BatchAttestationOut:
    """Store a notary's signature of a batch: it must be over the batch's digest (the hub
    computed it from the statement when it assembled the batch) and recover to
    ``notary``, a member of the committee the acting chain's bridge trusts when that
    chain's adapter is at hand."""
    batches = _batch_store(store)
    batch = batches.batch(body.batch_id)  # a late signature (quorum complete) is harmless
    digest = bytes.fromhex(body.digest[2:])
    signature = bytes.fromhex(body.signature[2:])
    notary = body.notary.lower()
    if digest != batch.digest:
        raise InvalidInput(f"digest is not batch {batch.id}'s statement digest", field="digest")
    if recover_signer(digest, signature) != notary:
        raise BadSignature("the signature does not recover to notary over digest")
    members = _committee_members(request, store, batch)
    if members is not None and notary not in members:
        raise BadSignature(f"{notary} is not a member of the committee that signs this batch")
    accepted = batches.add_batch_signature(
        SignatureRecord(batch.id, notary, digest, signature, clock(), "batch")
    )
    relayer = getattr(request.app.state, "relayer", None)
    if accepted and relayer is not None:  # a relayer in this process: it counts at once
        relayer.wake_from_thread(f"batches:{batch.route_id}")
    return BatchAttestationOut(batch_id=batch.id, notary=notary, accepted=accepted)


def _batch_store(store: Store) -> BatchStore:
    if not isinstance(store, BatchStore):
        raise ConfigError("this hub's store keeps no batches")
    return store


def _committee_members(request: Request, store: Store, batch: BatchRecord) -> set[str] | None:
    """The lower-case addresses of the acting chain's committee, when its adapter is here."""
    route = store.route(batch.route_id)
    acting = route.destination if BatchKind(batch.kind).acts_on_destination else route.source
    adapter = adapter_for(request.app.state.adapters, str(acting))
    bridge = adapter.bridge() if isinstance(adapter, BridgeChain) else None
    if bridge is None:
        return None
    members = {m.lower() for m in bridge.committee()[1]}
    if isinstance(store, RotationStore):  # a rotation done since this process started
        done = [
            r.statement
            for r in store.rotations(limit=50)
            if r.state is RotationState.DONE and r.statement.chain_id == acting
        ]
        newest = max(done, key=lambda st: st.epoch, default=None)
        if newest is not None and newest.epoch > bridge.committee_epoch():
            members = set(newest.members)
    return members


__all__ = ["recover_signer", "router"]
