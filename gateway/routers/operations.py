"""The supervisor's levers and the operator tools (``docs/supervision.md``), each audited.

Supervisor or admin: pause and resume a route with a reason
(``POST /v1/routes/{id}/pause|resume``; a paused route's worker leases nothing,
its packets are still recorded) and read the notary equivocation evidence.
Admin only: retry a transfer now (clear its backoff), reject a stuck transfer
(refunded when its packet is escrowed on the source), force the refund of a transfer
whose timeout its destination passed, rewind a chain's scan cursor
(never below the chain's floor: the lowest start height of its routes), and
unfreeze a light client with a new trust anchor (checked by the one follower).
Every change is one store transaction with its audit entry, written as the
calling key (``gateway.audit.context``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Request

from adapters.follower import Anchor
from core.errors import ConfigError, InvalidInput, NotFound, VerificationError
from core.ids import ChainId, Height
from core.records import RouteRecord
from core.seams import OperatorTools, Store
from gateway.auth import Principal, admin_access, supervisor_access
from gateway.routers.deps import (
    Catalog,
    adapter_for,
    get_adapters,
    get_catalog,
    get_clock,
    get_store,
)
from gateway.schemas.audit import EvidenceOut, ReasonIn, RewindIn, RewindOut, UnfreezeIn
from gateway.schemas.chains import ClientOut, RouteOut
from gateway.schemas.transfers import TransferSummary
from relayer.engine import Relayer
from relayer.follower import relayer_follower
from relayer.settings import RelayerSettings

router = APIRouter(prefix="/v1", tags=["operations"])

Clock = Annotated[Callable[[], float], Depends(get_clock)]


def operator_tools(request: Request) -> OperatorTools:
    """The store's audited operator tools (``core.seams.OperatorTools``), or a clear refusal."""
    store = get_store(request)
    if not isinstance(store, OperatorTools):
        raise ConfigError("this hub's store has no operator tools (gateway.store.SqlStore has)")
    return store


Tools = Annotated[OperatorTools, Depends(operator_tools)]
StoreDep = Annotated[Store, Depends(get_store)]


@router.post("/routes/{route_id}/pause", response_model=RouteOut)
def pause_route(
    tools: Tools,
    route_id: str,
    body: ReasonIn,
    clock: Clock,
    catalog: Annotated[Catalog, Depends(get_catalog)],
    _: Annotated[Principal, Depends(supervisor_access)],
) -> RouteOut:
    """Stop the route's worker with a reason (``route.pause``); again: a new reason."""
    route = tools.pause_route(route_id, body.reason, clock())
    catalog.invalidate()
    return RouteOut.of(route)


@router.post("/routes/{route_id}/resume", response_model=RouteOut)
def resume_route(
    tools: Tools,
    route_id: str,
    body: ReasonIn,
    clock: Clock,
    catalog: Annotated[Catalog, Depends(get_catalog)],
    _: Annotated[Principal, Depends(supervisor_access)],
) -> RouteOut:
    """Let a paused route work again (``route.resume``); 409 when it is not paused."""
    route = tools.resume_route(route_id, body.reason, clock())
    catalog.invalidate()
    return RouteOut.of(route)


@router.post("/transfers/{transfer_id}/retry", response_model=TransferSummary)
def retry_now(
    tools: Tools,
    transfer_id: str,
    body: ReasonIn,
    clock: Clock,
    _: Annotated[Principal, Depends(admin_access)],
) -> TransferSummary:
    """Make a live transfer due now with its attempts reset (``transfer.retry_now``)."""
    return TransferSummary.of(tools.retry_transfer_now(transfer_id, body.reason, clock()))


@router.post("/transfers/{transfer_id}/reject", response_model=TransferSummary)
def reject(
    tools: Tools,
    transfer_id: str,
    body: ReasonIn,
    clock: Clock,
    _: Annotated[Principal, Depends(admin_access)],
) -> TransferSummary:
    """Reject a stuck transfer (``transfer.reject``): 409 ``invalid-transition`` from a state
    the table does not allow (once submitted to its destination, only the chain decides)."""
    return TransferSummary.of(tools.reject_transfer(transfer_id, body.reason, clock()))


@router.post("/transfers/{transfer_id}/refund", response_model=TransferSummary)
async def force_refund(
    request: Request,
    store: StoreDep,
    tools: Tools,
    transfer_id: str,
    body: ReasonIn,
    clock: Clock,
    _: Annotated[Principal, Depends(admin_access)],
) -> TransferSummary:
    """Force the refund of a transfer whose timeout passed (``transfer.force_refund``): the
    destination's final block is read here and must have passed the timeout (409 otherwise,
    or when a delivery may be on its way); the transfer moves to ``timed_out`` at once and
    the relayer's refund path (the notaries' proven non-receipt) returns it on its source."""
    record = await to_thread.run_sync(lambda: store.transfer(transfer_id))
    route = await to_thread.run_sync(lambda: store.route(record.route_id))
    adapter = adapter_for(get_adapters(request), str(route.destination))
    if adapter is None:
        raise NotFound(
            f"this hub process serves no chain {route.destination!r}: cannot read its clock",
            chain_id=str(route.destination),
        )
    final = await adapter.finalized_height()
    header = await adapter.header(final)
    moved = await to_thread.run_sync(
        lambda: tools.force_refund(
            transfer_id,
            body.reason,
            clock(),
            dest_height=int(final),
            dest_time_ms=int(header.time) * 1000,
        )
    )
    return TransferSummary.of(moved)


def chain_floor(routes: list[RouteRecord], chain_id: str) -> int:
    """The lowest height a chain's scan may be rewound to: the lowest ``start_height`` of the
    routes leaving it (0 when a route sets none)."""
    starts = []
    for route in routes:
        if str(route.source) != chain_id:
            continue
        start = route.settings.get("start_height")
        ok = isinstance(start, int) and not isinstance(start, bool) and start >= 0
        starts.append(start if ok else 0)
    if not starts:
        raise NotFound(
            f"no route leaves chain {chain_id!r}: it has no scan cursor", chain_id=chain_id
        )
    return max(0, min(starts) - 1)  # type: ignore[type-var]


@router.post("/chains/{chain_id}/cursor/rewind", response_model=RewindOut)
def rewind_cursor(
    store: StoreDep,
    tools: Tools,
    chain_id: str,
    body: RewindIn,
    clock: Clock,
    _: Annotated[Principal, Depends(admin_access)],
) -> RewindOut:
    """Scan ``chain_id`` again from ``height + 1`` (``cursor.rewind``): bounded below by the
    chain's floor, and only backwards. Packets seen again are matched to their transfers."""
    floor = chain_floor(store.routes(), chain_id)
    key = Relayer.chain_cursor_key(ChainId(chain_id))
    old, new = tools.rewind_cursor_to(
        key, Height(body.height), Height(floor), body.reason, clock(), chain_id=chain_id
    )
    return RewindOut(
        chain_id=chain_id, cursor=key, old_height=int(old), new_height=int(new), floor=floor
    )


@router.post("/chains/{chain_id}/client/unfreeze", response_model=ClientOut)
async def unfreeze_client(
    request: Request,
    store: StoreDep,
    tools: Tools,
    chain_id: str,
    body: UnfreezeIn,
    clock: Clock,
    _: Annotated[Principal, Depends(admin_access)],
) -> ClientOut:
    """Replace a frozen light client by one trusting a new anchor ``(height, hash)`` taken
    outside the node (``client.unfreeze``, with the freeze's evidence digest): the header the
    node serves at ``height`` must hash to ``hash`` (else 422), through the one follower.
    The relayer resumes the chain's routes on its next pass."""
    adapter = adapter_for(get_adapters(request), chain_id)
    if adapter is None:
        raise NotFound(f"this hub process serves no chain {chain_id!r}", chain_id=chain_id)
    settings = getattr(request.app.state, "relayer_settings", None) or RelayerSettings()
    follower = relayer_follower(store, {ChainId(chain_id): adapter}, settings, clock)
    anchor = Anchor(body.height, bytes.fromhex(body.hash[2:]))
    try:
        record = await follower.anchored_record(ChainId(chain_id), anchor)
    except (ConfigError, VerificationError) as err:
        raise InvalidInput(f"the new anchor does not hold: {err.message}", field="hash") from err
    saved = await to_thread.run_sync(lambda: tools.unfreeze_client(record, body.reason, clock()))
    return ClientOut.of(saved, None, None)


@router.get("/evidence/equivocations", response_model=list[EvidenceOut])
def equivocations(
    store: StoreDep, _: Annotated[Principal, Depends(supervisor_access)]
) -> list[EvidenceOut]:
    """Every notary equivocation the hub caught: both signed statements and the notary's
    address, for penalties (``pjgw evidence verify`` checks a file of them offline)."""
    return [EvidenceOut.of(e) for e in store.equivocations()]


__all__ = ["chain_floor", "operator_tools", "router"]
