"""``/v1/risk``: the risk limits, their windows' usage and the held queue; decisions on held
transfers (``docs/supervision.md``).

Supervisor or admin: read ``GET /v1/risk``; release or reject a held transfer
(``POST /v1/risk/held/{id}/release|reject``). Admin only: write a route's limits for a
denomination (``PUT /v1/risk/limits``, validated when written: a 422 names the bad
field) and remove them (``DELETE``). A transfer's owner — the API key that created it
(``transfers.created_by``) — cancels it while it is held
(``POST /v1/transfers/{id}/cancel``). Every change is audited as the calling key.
Changing a limit never touches a transfer already admitted: limits apply to what is
screened after them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from core.errors import ConfigError
from core.records import ALL_DENOMS
from core.seams import RiskStore
from gateway.auth import Principal, admin_access, client_access, supervisor_access
from gateway.routers.deps import get_clock, get_store
from gateway.schemas.audit import ReasonIn
from gateway.schemas.risk import LimitIn, LimitOut, RiskOut
from gateway.schemas.transfers import TransferSummary
from gateway.store.codec import PAGE_CURSOR_PATTERN
from relayer.risk.limits import rate_usage, window_usage

router = APIRouter(prefix="/v1", tags=["risk"])

Clock = Annotated[Callable[[], float], Depends(get_clock)]
MAX_HELD = 200


def _risk(request: Request) -> RiskStore:
    store: Any = get_store(request)
    if not isinstance(store, RiskStore):
        raise ConfigError("this hub's store keeps no risk limits")
    return store


@router.get("/risk", response_model=RiskOut)
def read_risk(
    request: Request,
    clock: Clock,
    _: Annotated[Principal, Depends(supervisor_access)],
    held_limit: Annotated[int, Query(ge=1, le=MAX_HELD)] = 50,
    held_cursor: Annotated[str | None, Query(max_length=100, pattern=PAGE_CURSOR_PATTERN)] = None,
) -> RiskOut:
    """Every limit with what its window holds now (value admitted in the window, transfers
    in the last minute), and a page of the held queue, oldest first."""
    store, now = _risk(request), clock()
    limits = store.risk_limits()
    out: list[LimitOut] = []
    views = {r: store.risk_view(r, now) for r in sorted({lim.route_id for lim in limits})}
    for lim in limits:
        admitted = views[lim.route_id].admitted
        out.append(
            LimitOut.of(lim, window_usage(lim, admitted, now), rate_usage(lim, admitted, now))
        )
    held, cursor = store.held_transfers(after=held_cursor, limit=held_limit)
    return RiskOut(
        now=now, limits=out, held=[TransferSummary.of(t) for t in held], next_cursor=cursor
    )


@router.put("/risk/limits", response_model=LimitOut)
def put_limit(
    request: Request, body: LimitIn, clock: Clock, _: Annotated[Principal, Depends(admin_access)]
) -> LimitOut:
    """Create or replace the limits of ``(route_id, denom)`` (``denom`` ``*``: the route's
    every denomination together); audited as ``risk.limit``."""
    return LimitOut.of(_risk(request).put_risk_limit(body.record(), clock()))


@router.delete("/risk/limits", status_code=204)
def delete_limit(
    request: Request,
    clock: Clock,
    _: Annotated[Principal, Depends(admin_access)],
    route_id: Annotated[str, Query(max_length=128)],
    denom: Annotated[str, Query(max_length=256)] = ALL_DENOMS,
) -> None:
    """Remove the limits of ``(route_id, denom)``; audited. 404 when there are none."""
    _risk(request).delete_risk_limit(route_id, denom, clock())


@router.post("/risk/held/{transfer_id}/release", response_model=TransferSummary)
def release(
    request: Request,
    transfer_id: str,
    body: ReasonIn,
    clock: Clock,
    _: Annotated[Principal, Depends(supervisor_access)],
) -> TransferSummary:
    """Release a held transfer now, without a check (it counts in its windows from now):
    back to ``requested`` (nothing sent yet) or ``proven``; 409 unless held."""
    return TransferSummary.of(_risk(request).release_held(transfer_id, body.reason, clock()))


@router.post("/risk/held/{transfer_id}/reject", response_model=TransferSummary)
def reject(
    request: Request,
    transfer_id: str,
    body: ReasonIn,
    clock: Clock,
    _: Annotated[Principal, Depends(supervisor_access)],
) -> TransferSummary:
    """Reject a held transfer: ``rejected`` when nothing left the source; otherwise it stays
    held (decision ``rejected``) until its timeout passes and is then refunded."""
    return TransferSummary.of(_risk(request).reject_held(transfer_id, body.reason, clock()))


@router.post("/transfers/{transfer_id}/cancel", response_model=TransferSummary)
def cancel(
    request: Request,
    transfer_id: str,
    body: ReasonIn,
    clock: Clock,
    principal: Annotated[Principal, Depends(client_access)],
) -> TransferSummary:
    """Its owner (the key that created it) cancels a held transfer: as a rejection, with the
    decision ``cancelled``; 403 for any other key, 409 unless held."""
    store = _risk(request)
    return TransferSummary.of(store.cancel_held(transfer_id, principal.name, body.reason, clock()))


__all__ = ["router"]
