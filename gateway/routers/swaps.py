"""``/v1/swaps``: propose an atomic swap, read it, list them, follow it (SSE), delegate a claim.

The hub coordinates and watches; it never holds funds. A proposal names both
legs and the sha256 hashlock; the hub checks the terms against the chains'
timing (``proofs.htlc``: ``T1 >= T2 + delta``, enough time to lock and claim)
and refuses unsafe ones with a typed problem. Timelocks left out are computed:
``T2 = now + setup time``, ``T1 = T2 + delta``. The parties lock their legs
themselves; the watchtower (``relayer.swaps``) follows both chains.

Creation is idempotent under ``Idempotency-Key`` (scoped to the caller's key
name, bound to the sha256 of the canonical body), as for transfers. A
hashlock serves one swap only: another proposal with it is a 409.

SECURITY: the secret never comes with a proposal. An initiator who lets the
hub claim leg 2 for it sends the preimage to ``POST /v1/swaps/{id}/claim``
only; it is checked against the hashlock, stored for the watchtower, and never
returned, logged or quoted in an error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from core.errors import Conflict, InvalidInput, NotFound
from core.ids import ChainId
from core.records import ActionRecord, ChainRecord
from core.seams import HtlcChain
from core.states import TERMINAL_SWAP_STATES, SwapState
from core.swaps import LegState, NewSwap, NewSwapLeg, SwapRecord, SwapStore
from gateway.auth import Principal, client_access, read_access
from gateway.families import Families
from gateway.problems import NotReady
from gateway.routers.deps import Catalog, get_catalog, get_clock, get_families, get_store
from gateway.routers.history_stream import history_events
from gateway.schemas.swaps import (
    Leg2CheckOut,
    SwapClaimRequest,
    SwapEventOut,
    SwapLegRequest,
    SwapOut,
    SwapPage,
    SwapRequest,
    SwapSummary,
    swap_transactions,
)
from gateway.schemas.transfers import ActionOut
from gateway.store.codec import PAGE_CURSOR_PATTERN
from gateway.streams import stream_slot
from proofs.htlc.errors import ClaimWindowClosed
from proofs.htlc.rules import validate_preimage, validate_terms
from proofs.htlc.timing import (
    ChainTiming,
    SwapPolicy,
    SwapTiming,
    compute_default_timelocks,
    compute_delta,
)
from relayer.swaps import SwapWatchtower

router = APIRouter(prefix="/v1/swaps", tags=["swaps"])

MAX_LIST = 200
SWAP_STEPS = ("claim_leg1", "claim_leg2", "refund_leg1", "refund_leg2")
"""Journal steps the watchtower uses (shown when the store cannot list a swap's actions)."""

IdempotencyKey = Annotated[
    str,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post("", status_code=201, response_model=SwapOut)
async def create_swap(
    request: Request,
    response: Response,
    body: SwapRequest,
    idempotency_key: IdempotencyKey,
    principal: Annotated[Principal, Depends(client_access)],
    store: Annotated[SwapStore, Depends(get_store)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
    families: Annotated[Families, Depends(get_families)],
    clock: Annotated[Callable[[], float], Depends(get_clock)],
) -> SwapOut:
    now = clock()
    (chain_a, htlc_a), (chain_b, htlc_b) = await to_thread.run_sync(
        _chains, catalog, families, body
    )
    policy = getattr(request.app.state, "swap_policy", None) or SwapPolicy()
    timing = SwapTiming(_chain_timing(htlc_a, chain_a), _chain_timing(htlc_b, chain_b), policy)
    t1, t2 = _timelocks(body, now, timing)
    claims = body.delegate
    new = NewSwap(
        hashlock=bytes.fromhex(body.hashlock[2:]),
        leg1=_leg(families, body.leg1, chain_a, t1, "leg1", claims.claim_leg1, claims.refund_leg1),
        leg2=_leg(families, body.leg2, chain_b, t2, "leg2", claims.claim_leg2, claims.refund_leg2),
    )
    validate_terms(new, now, timing)
    scoped_key = f"{principal.name}:{idempotency_key}"
    record, created = await to_thread.run_sync(
        lambda: store.create_swap(
            new, now, idempotency_key=scoped_key, request_hash=body.request_hash()
        )
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/swaps/{record.id}"
    return _detail(record, [], [], compute_delta(timing))


def _chains(
    catalog: Catalog, families: Families, body: SwapRequest
) -> list[tuple[ChainRecord, HtlcChain]]:
    """Both legs' chains, each with an adapter (built from its record, reading no node)
    whose chain has an HTLC the hub can watch (``HtlcChain.htlc``)."""
    found = []
    for name, leg in (("leg1", body.leg1), ("leg2", body.leg2)):
        field = f"{name}.chain_id"
        try:
            chain = catalog.chain(leg.chain_id)
        except NotFound:
            raise InvalidInput(
                f"{field}: chain {leg.chain_id!r} is not registered", field=field
            ) from None
        adapter = families.offline_adapter(chain)
        if not isinstance(adapter, HtlcChain) or adapter.htlc() is None:
            raise InvalidInput(
                f"{field}: the hub has no HTLC on {chain.chain_id} (a {chain.family} chain "
                "without one, or its HTLC is not configured)",
                field=field,
            )
        if not chain.enabled:
            raise InvalidInput(f"{name}.chain_id: {chain.chain_id} is disabled", field=name)
        found.append((chain, adapter))
    return found


def _chain_timing(adapter: HtlcChain, chain: ChainRecord) -> ChainTiming:
    """The chain's figures from its own settings (``HtlcChain.chain_timing``)."""
    figures = adapter.chain_timing()
    if figures is None:
        raise InvalidInput(f"the {chain.family} adapter gives no HTLC timing for {chain.chain_id}")
    return ChainTiming(figures.block_time, figures.confirmations, figures.clock_drift)


def _timelocks(body: SwapRequest, now: float, timing: SwapTiming) -> tuple[int, int]:
    """The proposal's ``(T1, T2)``, or a safe pair with the parties' lock allowance."""
    if body.leg1.timelock is not None and body.leg2.timelock is not None:
        return body.leg1.timelock, body.leg2.timelock
    return compute_default_timelocks(now, timing)


def _leg(
    families: Families,
    leg: SwapLegRequest,
    chain: ChainRecord,
    timelock: int,
    name: str,
    claim: bool,
    refund: bool,
) -> NewSwapLeg:
    """A leg's terms, its asset and addresses normalized by its chain family's rules."""
    family = chain.family
    return NewSwapLeg(
        chain_id=chain.chain_id,
        asset=families.validate_asset(family, leg.asset, f"{name}.asset"),
        amount=int(leg.amount),
        sender=families.validate_address(family, leg.sender, f"{name}.sender"),
        receiver=families.validate_address(family, leg.receiver, f"{name}.receiver"),
        timelock=timelock,
        claim_delegated=claim,
        refund_delegated=refund,
    )


@router.post("/{swap_id}/claim", status_code=202, response_model=SwapOut)
async def delegate_claim(
    swap_id: str,
    body: SwapClaimRequest,
    _: Annotated[Principal, Depends(client_access)],
    store: Annotated[SwapStore, Depends(get_store)],
    clock: Annotated[Callable[[], float], Depends(get_clock)],
) -> SwapOut:
    """Hand the hub the preimage so it claims leg 2 for the initiator (202: it will).

    Checks, in order: the swap exists (404); sha256(preimage) is its hashlock
    (422 ``htlc-wrong-preimage``); the initiator delegated leg 2's claim (409);
    leg 2 is not settled and its timelock has not passed (409
    ``htlc-claim-window-closed``). A repeat with the same preimage is a no-op.
    """
    swap = await to_thread.run_sync(store.swap, swap_id)
    preimage = body.secret_bytes()
    validate_preimage(preimage, swap.hashlock)
    leg2 = swap.leg2
    if not leg2.claim_delegated:
        raise Conflict(
            "the initiator did not delegate claiming leg 2 (delegate.claim_leg2): "
            "claim it on its chain yourself",
            swap_id=swap.id,
        )
    if leg2.state in (LegState.CLAIMED, LegState.REFUNDED):
        raise ClaimWindowClosed(f"leg 2 is already {leg2.state}", swap_id=swap.id)
    now = clock()
    if now >= leg2.timelock:
        raise ClaimWindowClosed("leg 2's timelock has passed: it can only be refunded now")
    record = await to_thread.run_sync(store.set_swap_preimage, swap.id, preimage, now)
    return _detail(record, _actions(store, swap.id), store.swap_history(swap.id), None)


@router.get("/{swap_id}/leg2-check", response_model=Leg2CheckOut)
async def leg2_check(
    request: Request,
    swap_id: str,
    store: Annotated[SwapStore, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
    clock: Annotated[Callable[[], float], Depends(get_clock)],
) -> Leg2CheckOut:
    """May the responder lock leg 2 now? 200 when it may; otherwise the problem saying why:
    409 ``htlc-leg1-not-final`` (retry later), ``htlc-leg1-too-little-time``, or 422
    ``htlc-unsafe-timelocks`` / ``htlc-timelock-out-of-range``. Reads leg 1's lock on its
    chain, so it needs the hub's chain adapters (503 ``not-ready`` without them)."""
    swap = await to_thread.run_sync(store.swap, swap_id)
    provider = request.app.state.adapters
    adapters = {}
    for leg in swap.legs:
        adapter = None if provider is None else provider.get(str(leg.chain_id))
        if adapter is None:
            raise NotReady(f"the API has no adapter for {leg.chain_id}", failed=[str(leg.chain_id)])
        adapters[leg.chain_id] = adapter
    policy = getattr(request.app.state, "swap_policy", None) or SwapPolicy()
    tower = SwapWatchtower(store, adapters, worker_id="api", clock=clock, policy=policy)
    await tower.check_leg2_lock(swap.id)
    now = clock()
    return Leg2CheckOut(
        may_lock=True,
        leg1_seconds_left=int(swap.leg1.timelock - now),
        leg2_seconds_left=int(swap.leg2.timelock - now),
    )


@router.get("/{swap_id}", response_model=SwapOut)
def get_swap(
    swap_id: str,
    store: Annotated[SwapStore, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
) -> SwapOut:
    record = store.swap(swap_id)
    return _detail(record, _actions(store, swap_id), store.swap_history(swap_id), None)


@router.get("", response_model=SwapPage)
def list_swaps(
    store: Annotated[SwapStore, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
    status: SwapState | None = None,
    chain: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50,
    cursor: Annotated[str | None, Query(max_length=100, pattern=PAGE_CURSOR_PATTERN)] = None,
) -> SwapPage:
    """Newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    page, next_cursor = store.list_swaps(
        state=status, chain=ChainId(chain) if chain else None, after=cursor, limit=limit
    )
    return SwapPage(items=[SwapSummary.of(s) for s in page], next_cursor=next_cursor)


def _existing(swap_id: str, store: Annotated[SwapStore, Depends(get_store)]) -> SwapRecord:
    """Resolved before the stream opens, so an unknown id is a 404 problem, not a stream."""
    return store.swap(swap_id)


@router.get("/{swap_id}/events", response_class=EventSourceResponse)
async def swap_events(
    request: Request,
    swap: Annotated[SwapRecord, Depends(_existing)],
    _slot: Annotated[None, Depends(stream_slot)],
    store: Annotated[SwapStore, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
    last_event_id: Annotated[int, Header(alias="Last-Event-ID", ge=0)] = 0,
) -> AsyncIterator[ServerSentEvent]:
    """Each history line as it is stored (``event: swap``); ends after a terminal state."""
    async for sse in history_events(
        request,
        read=lambda after: store.swap_history(swap.id, after),
        state=swap.state,
        terminal=TERMINAL_SWAP_STATES,
        render=lambda line: SwapEventOut.of(line).model_dump(mode="json"),
        event="swap",
        after=last_event_id,
    ):
        yield sse


def _actions(store: SwapStore, swap_id: str) -> list[ActionRecord]:
    listing = getattr(store, "swap_actions", None)
    if listing is not None:
        return list(listing(swap_id))
    found: list[ActionRecord] = []
    for base in SWAP_STEPS:  # a retried step is journalled as "<step>#<attempt>"
        attempt = 1
        while (action := store.swap_action(swap_id, _step(base, attempt))) is not None:
            found.append(action)
            attempt += 1
    return found


def _step(base: str, attempt: int) -> str:
    return base if attempt == 1 else f"{base}#{attempt}"


def _detail(
    record: SwapRecord,
    actions: list[ActionRecord],
    history: list,
    delta: int | None,  # type: ignore[type-arg]
) -> SwapOut:
    return SwapOut(
        **SwapSummary.of(record).model_dump(),
        transactions=swap_transactions(record, actions),
        actions=[ActionOut.of(a) for a in actions],
        history=[SwapEventOut.of(e) for e in history],
        delta_seconds=delta,
    )


__all__ = ["router"]
