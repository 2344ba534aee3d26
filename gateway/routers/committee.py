"""``/v1/committee``: committee rotations driven by the hub (issue #20), and the notaries'
``/v1/notary/rotations`` half.

Admin: ``POST /v1/committee/rotations`` plans a rotation of a route's destination
(or source) bridge to new members and threshold at the chain's epoch + 1: with
``dry_run`` it only answers the statement, its signing digest, the committee the
chain trusts now and what is in flight; otherwise it is stored in ``draining``
(audited as ``rotation.request`` under the calling key) and the relayers drive it
(``relayer/rotation.py``). ``GET /v1/committee/rotations`` lists them,
``GET /v1/committee/status`` shows each bridge's configured and live committee.

Notaries: ``GET /v1/notary/rotations`` lists the open rotations (each notary checks
one against its own configuration before it signs: ``notary/rotations.py``);
``POST /v1/notary/rotations/{id}/signatures`` keeps a signature once it recovers to
the notary over the chain's digest of the rotation.
"""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request

from core.committee import CommitteeState, RotationRecord, RotationStatement
from core.errors import BadSignature, ConfigError, InvalidInput, NotFound, PjgwError
from core.ids import ChainId
from core.seams import RotationStore
from gateway.audit import context
from gateway.auth import Principal, admin_access, notary_access
from gateway.routers.deps import adapter_for, get_adapters, get_clock, get_store
from gateway.routers.notary import recover_signer
from gateway.schemas.committee import (
    ChainCommitteeOut,
    CommitteeOut,
    InFlightOut,
    RotationIn,
    RotationOut,
    RotationPlanOut,
    RotationSignatureIn,
    RotationSignatureOut,
    RotationWorkOut,
)

router = APIRouter(tags=["committee"])


def _rotations(request: Request) -> RotationStore:
    store = get_store(request)
    if not isinstance(store, RotationStore):
        raise ConfigError("this hub's store keeps no committee rotations")
    return store


def _adapter(request: Request, chain: str) -> Any:
    adapter = adapter_for(get_adapters(request), chain)
    if adapter is None or not hasattr(adapter, "committee_onchain"):
        raise NotFound(f"this hub process reads no committee of {chain!r}", chain_id=chain)
    return adapter


async def _out(store: RotationStore, r: RotationRecord) -> RotationOut:
    signatures = await to_thread.run_sync(store.rotation_signatures, r.id)
    return RotationOut.of(r, len(signatures))


@router.post("/v1/committee/rotations", response_model=RotationPlanOut)
async def rotate(
    request: Request, body: RotationIn, _: Annotated[Principal, Depends(admin_access)]
) -> RotationPlanOut:
    """Plan (``dry_run``) or request a rotation of the route's bridge on ``side``."""
    store = _rotations(request)
    clock = get_clock(request)
    route = await to_thread.run_sync(get_store(request).route, body.route_id)
    chain = str(route.destination if body.side == "destination" else route.source)
    adapter = _adapter(request, chain)
    current: CommitteeState = await adapter.committee_onchain()
    statement = RotationStatement.make(chain, current.epoch + 1, body.threshold, body.members)
    digest = adapter.bridge().rotation_digest(statement)
    transfers, batches = await to_thread.run_sync(store.rotation_in_flight, ChainId(chain))
    rotation = None
    if not body.dry_run:
        who = context.current().actor  # the calling key, also in the audit entry
        record = await to_thread.run_sync(
            lambda: store.create_rotation(route.route_id, statement, clock(), requested_by=who)
        )
        rotation = await _out(store, record)
    return RotationPlanOut(
        chain=chain,
        statement=CommitteeOut.of(statement.committee()),
        digest="0x" + digest.hex(),
        current=CommitteeOut.of(current),
        in_flight=InFlightOut(transfers=transfers, batches=batches),
        rotation=rotation,
    )


@router.get("/v1/committee/rotations", response_model=list[RotationOut])
async def rotations(
    request: Request, _: Annotated[Principal, Depends(admin_access)]
) -> list[RotationOut]:
    """The latest rotations, newest first."""
    store = _rotations(request)
    found = await to_thread.run_sync(lambda: store.rotations(limit=50))
    return [await _out(store, r) for r in found]


@router.get("/v1/committee/status", response_model=list[ChainCommitteeOut])
async def status(
    request: Request, _: Annotated[Principal, Depends(admin_access)]
) -> list[ChainCommitteeOut]:
    """Each chain this process has a bridge of: the committee configured (or adopted), the
    one its bridge trusts now, and its open rotation."""
    store = _rotations(request)
    open_ones = {
        str(r.statement.chain_id): r
        for r in await to_thread.run_sync(lambda: store.rotations(open_only=True))
    }
    chains = await to_thread.run_sync(get_store(request).chains)
    answer = []
    for chain in chains:
        adapter = adapter_for(get_adapters(request), str(chain.chain_id))
        if adapter is None or not hasattr(adapter, "committee_onchain"):
            continue
        try:
            bridge = adapter.bridge()
        except ConfigError:
            continue
        threshold, members = bridge.committee()
        configured = CommitteeOut(
            epoch=bridge.committee_epoch(), threshold=threshold, members=list(members)
        )
        live, error = None, None
        try:
            live = CommitteeOut.of(await adapter.committee_onchain())
        except PjgwError as err:
            error = err.message
        open_one = open_ones.get(str(chain.chain_id))
        answer.append(
            ChainCommitteeOut(
                chain=str(chain.chain_id),
                configured=configured,
                live=live,
                error=error,
                open_rotation=None if open_one is None else await _out(store, open_one),
            )
        )
    return answer


@router.get("/v1/notary/rotations", response_model=list[RotationWorkOut])
async def rotation_work(
    request: Request, _: Annotated[Principal, Depends(notary_access)]
) -> list[RotationWorkOut]:
    """The open rotations, with the hub's digest when it has the chain's bridge (a notary
    computes its own and signs only the rotation its operator configured)."""
    store = _rotations(request)
    answer = []
    for r in await to_thread.run_sync(lambda: store.rotations(open_only=True)):
        chain = str(r.statement.chain_id)
        adapter = adapter_for(get_adapters(request), chain)
        digest = None
        if adapter is not None and hasattr(adapter, "bridge"):
            digest = "0x" + adapter.bridge().rotation_digest(r.statement).hex()
        answer.append(
            RotationWorkOut(
                rotation_id=r.id,
                chain=chain,
                epoch=r.statement.epoch,
                threshold=r.statement.threshold,
                members=list(r.statement.members),
                digest=digest,
            )
        )
    return answer


@router.post("/v1/notary/rotations/{rotation_id}/signatures", response_model=RotationSignatureOut)
async def rotation_signature(
    request: Request,
    rotation_id: str,
    body: RotationSignatureIn,
    _: Annotated[Principal, Depends(notary_access)],
) -> RotationSignatureOut:
    """Keep a notary's signature of an open rotation: it must recover to ``notary`` over the
    chain's digest of the rotation (the relayer counts only the current committee's)."""
    store = _rotations(request)
    rotation = await to_thread.run_sync(store.rotation, rotation_id)
    chain = str(rotation.statement.chain_id)
    digest = bytes.fromhex(body.digest[2:])
    expected = _adapter(request, chain).bridge().rotation_digest(rotation.statement)
    if digest != expected:
        raise InvalidInput("digest is not this rotation's digest", field="digest")
    notary = body.notary.lower()
    signature = bytes.fromhex(body.signature[2:])
    if recover_signer(digest, signature) != notary:
        raise BadSignature("the signature does not recover to notary over digest")
    clock = get_clock(request)
    accepted = await to_thread.run_sync(
        lambda: store.add_rotation_signature(rotation_id, notary, digest, signature, clock())
    )
    return RotationSignatureOut(rotation_id=rotation_id, notary=notary, accepted=accepted)


__all__ = ["router"]
