"""The dashboard's pages: overview, chains, routes, transfers, swaps, notaries, relayers.

Each page is one synchronous handler (FastAPI runs it in a worker thread, so the
store's blocking calls never hold the event loop) reading bounded slices of the
store: lists page by the store's cursors or stop at ``PAGE`` rows. Operator
actions (pause or resume a route, retry a waiting transfer now) go through the
same seams as the API and record who did them.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from core.errors import InvalidInput, NotFound
from core.seams import OperatorTools, RiskStore, Store
from core.states import TERMINAL_TRANSFER_STATES, SwapState, TransferState
from core.swaps import SwapStore
from gateway.auth import Principal
from gateway.routers.chains import client_status
from gateway.routers.deps import get_store
from gateway.routers.transfers import transfer_detail
from gateway.store.codec import PAGE_CURSOR_PATTERN
from gateway.store.operator import OperatorReadsMixin
from gateway.ui.access import form_of, operator, supervisor, viewer
from gateway.ui.render import HEADERS, page

router = APIRouter(include_in_schema=False)
log = logging.getLogger("pjgw.ui")

PAGE = 50
RECENT = 10
LIVE_ROWS = 8
"""Rows of a list page that follow their transfer's event stream (the API allows 16
streams per address: a page must leave room for a second tab)."""

Viewer = Annotated[Principal, Depends(viewer)]
Operator = Annotated[Principal, Depends(operator)]
Supervisor = Annotated[Principal, Depends(supervisor)]
StoreDep = Annotated[Store, Depends(get_store)]
Cursor = Annotated[str | None, Query(max_length=100, pattern=PAGE_CURSOR_PATTERN)]


def _operator_reads(store: Store) -> OperatorReadsMixin:
    """The store's dashboard reads (``gateway.store.operator``), or a clear refusal."""
    if not isinstance(store, OperatorReadsMixin):
        raise InvalidInput("this hub's store has no operator reads (gateway.store.SqlStore has)")
    return store


def _operator_tools(store: Store) -> OperatorTools:
    """The store's audited operator tools (``core.seams.OperatorTools``), or a clear refusal."""
    if not isinstance(store, OperatorTools):
        raise InvalidInput("this hub's store has no operator tools (gateway.store.SqlStore has)")
    return store


def _routes_with_status(store: Store) -> list[dict[str, Any]]:
    statuses = store.route_statuses()
    return [
        {"route": r, "reports": [s for s in statuses if s.route_id == r.route_id]}
        for r in store.routes()
    ]


@router.get("/ui", response_class=HTMLResponse)
def overview(request: Request, principal: Viewer, store: StoreDep) -> HTMLResponse:
    reads = _operator_reads(store)
    now = request.app.state.clock()
    counts = reads.counts_by_state()
    clients = [(c, store.client(c.chain_id)) for c in store.chains()]
    recent, _ = store.list_transfers(limit=RECENT)
    _, waiting = reads.backing_off(now, 1)
    return page(
        request,
        "overview.html",
        principal,
        counts=counts,
        chains=clients,
        routes=_routes_with_status(store),
        recent=recent,
        waiting=waiting,
        equivocations=reads.recent_equivocations(1)[1],
        notaries=reads.notary_activity(),
    )


@router.get("/ui/chains", response_class=HTMLResponse)
def chains(request: Request, principal: Viewer, store: StoreDep) -> HTMLResponse:
    now = request.app.state.clock()
    rows = []
    for chain in store.chains():
        client = store.client(chain.chain_id)
        status = None if client is None else client_status(request, chain, client, now)
        rows.append({"chain": chain, "client": status})
    return page(request, "chains.html", principal, chains=rows)


@router.get("/ui/routes", response_class=HTMLResponse)
def routes(request: Request, principal: Viewer, store: StoreDep) -> HTMLResponse:
    return page(request, "routes.html", principal, routes=_routes_with_status(store))


@router.post("/ui/routes/{route_id}/{action}")
def route_action(
    request: Request, route_id: str, action: str, principal: Operator, store: StoreDep
) -> RedirectResponse:
    """Pause (``disable``) or resume (``enable``) a route: its relayers lease none of its
    transfers while it is paused and pick them up again once it is resumed. Both go through
    the store's audited operator tools, so the audit log names the operator."""
    if action not in ("enable", "disable"):
        raise NotFound(f"no route action {action!r}")
    now = request.app.state.clock()
    audited = _operator_tools(store)
    if action == "disable":
        audited.pause_route(route_id, f"paused from the dashboard by {principal.name}", now)
    elif store.route(route_id).paused_reason is not None:
        audited.resume_route(route_id, f"resumed from the dashboard by {principal.name}", now)
    request.app.state.catalog.invalidate()
    log.warning("route %s %sd by operator %s", route_id, action, principal.name)
    return RedirectResponse("/ui/routes", status_code=303, headers=HEADERS)


@router.get("/ui/transfers", response_class=HTMLResponse)
def transfers(
    request: Request,
    principal: Viewer,
    store: StoreDep,
    q: Annotated[str, Query(max_length=256)] = "",
    state: TransferState | None = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    """The newest transfers (by state, paged), or those a search finds: an id, an address,
    or any transaction hash of a transfer."""
    next_cursor = None
    if q.strip():
        found = _operator_reads(store).find_transfers(q, PAGE)
    else:
        found, next_cursor = store.list_transfers(state=state, after=cursor, limit=PAGE)
    live = [t.id for t in found if t.state not in TERMINAL_TRANSFER_STATES][:LIVE_ROWS]
    return page(
        request,
        "transfers.html",
        principal,
        transfers=found,
        q=q,
        state=state.value if state else "",
        states=[s.value for s in TransferState],
        next_cursor=next_cursor,
        live=live,
    )


@router.get("/ui/transfers/{transfer_id}", response_class=HTMLResponse)
def transfer(
    request: Request, transfer_id: str, principal: Viewer, store: StoreDep
) -> HTMLResponse:
    try:
        detail = transfer_detail(store, transfer_id)
    except NotFound:
        return page(request, "refused.html", principal, 404, message=f"no transfer {transfer_id!r}")
    record = store.transfer(transfer_id)
    return page(
        request,
        "transfer.html",
        principal,
        t=detail,
        record=record,
        signatures=store.signatures(transfer_id),
        last_event=detail.history[-1].id if detail.history else 0,
        terminal=record.state in TERMINAL_TRANSFER_STATES,
    )


@router.post("/ui/transfers/{transfer_id}/retry")
def retry_transfer(
    request: Request, transfer_id: str, principal: Operator, store: StoreDep
) -> RedirectResponse:
    """Make a waiting transfer due now (its relayer steps it on its next pass)."""
    record = store.transfer(transfer_id)
    if record.state in TERMINAL_TRANSFER_STATES:
        raise InvalidInput(f"transfer {transfer_id} is {record.state}: nothing to retry")
    now = request.app.state.clock()
    _operator_tools(store).retry_transfer_now(
        transfer_id, f"retry now, asked by operator {principal.name}", now
    )
    return RedirectResponse(f"/ui/transfers/{transfer_id}", status_code=303, headers=HEADERS)


@router.post("/ui/transfers/{transfer_id}/hold/{action}")
async def decide_hold(
    request: Request, transfer_id: str, action: str, principal: Supervisor, store: StoreDep
) -> RedirectResponse:
    """Release or reject a held transfer (supervisor or admin), with the form's reason;
    through the store's audited decisions, so the audit log names the key."""
    if action not in ("release", "reject"):
        raise NotFound(f"no hold action {action!r}")
    if not isinstance(store, RiskStore):
        raise NotFound("this hub keeps no risk holds")
    form = await form_of(request)
    reason = (form.get("reason") or "").strip() or f"{action}d from the dashboard"
    now = request.app.state.clock()
    decide = store.release_held if action == "release" else store.reject_held
    await to_thread.run_sync(decide, transfer_id, f"{reason} ({principal.name})", now)
    log.warning("held transfer %s: %s by %s", transfer_id, action, principal.name)
    return RedirectResponse(f"/ui/transfers/{transfer_id}", status_code=303, headers=HEADERS)


@router.get("/ui/swaps", response_class=HTMLResponse)
def swaps(
    request: Request,
    principal: Viewer,
    store: StoreDep,
    state: SwapState | None = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    found, next_cursor = (
        store.list_swaps(state=state, after=cursor, limit=PAGE)
        if isinstance(store, SwapStore)
        else ([], None)
    )
    return page(
        request,
        "swaps.html",
        principal,
        swaps=found,
        state=state.value if state else "",
        states=[s.value for s in SwapState],
        next_cursor=next_cursor,
    )


@router.get("/ui/swaps/{swap_id}", response_class=HTMLResponse)
def swap(request: Request, swap_id: str, principal: Viewer, store: StoreDep) -> HTMLResponse:
    try:
        if not isinstance(store, SwapStore):
            raise NotFound("this hub keeps no swaps")
        record = store.swap(swap_id)
    except NotFound:
        return page(request, "refused.html", principal, 404, message=f"no swap {swap_id!r}")
    history = store.swap_history(swap_id)
    return page(request, "swap.html", principal, s=record, history=history)


@router.get("/ui/notaries", response_class=HTMLResponse)
def notaries(request: Request, principal: Viewer, store: StoreDep) -> HTMLResponse:
    reads = _operator_reads(store)
    return page(
        request,
        "notaries.html",
        principal,
        notaries=reads.notary_activity(),
        statements=reads.recent_statements(PAGE),
        equivocations=reads.recent_equivocations(PAGE)[0],
    )


@router.get("/ui/relayers", response_class=HTMLResponse)
def relayers(request: Request, principal: Viewer, store: StoreDep) -> HTMLResponse:
    reads = _operator_reads(store)
    now = request.app.state.clock()
    reports = store.route_statuses()
    workers: dict[str, list[Any]] = {}
    for report in reports:
        workers.setdefault(report.worker, []).append(report)
    waiting, total = reads.backing_off(now, PAGE)
    return page(
        request,
        "relayers.html",
        principal,
        workers=workers,
        leases=reads.leases(now, PAGE),
        waiting=waiting,
        waiting_total=total,
    )


__all__ = ["router"]
