"""``/v1/transfers``: create a transfer, read it, list them, follow its history (SSE).

Creation is idempotent under the ``Idempotency-Key`` header, scoped to the
caller's API key name: the same key with the same body (sha256 of its
canonical JSON) returns the first transfer with 200; another body is a 409
problem. The transfer is stored ``requested`` and its source action is
journaled (``Store.record_action(id, "source_submit", …)``); the relayer
sends it. A replay re-journals nothing (``record_action`` is idempotent) and
a replay after a crash between the two writes completes the journal.

Before its source action is journaled, a new transfer is screened against the
hub's checks (``relayer.risk.holds``: risk limits, payload policies): over a
limit it is created and moved to ``held`` (202, its ``hold`` says why and until
when; the relayer sends nothing until it is released) or ``rejected`` (201,
nothing is journaled or signed). Its creating key is recorded as its owner.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from core.errors import InvalidInput
from core.ids import ChainId
from core.records import ActionRecord, NewTransfer, TransferRecord
from core.seams import RiskStore, Store
from core.states import TERMINAL_TRANSFER_STATES, TransferState
from core.steps import Step
from gateway.auth import Principal, client_access, read_access
from gateway.families import Families
from gateway.routers.deps import (
    Catalog,
    adapter_for,
    get_catalog,
    get_clock,
    get_families,
    get_store,
)
from gateway.routers.history_stream import history_events
from gateway.routers.transfer_source import (
    SOURCE_STEP,
    SourceTx,
    check_managed,
    from_managed_account,
    from_signed_tx,
)
from gateway.schemas.common import parse_hex
from gateway.schemas.transfers import (
    ActionOut,
    ChainTxOut,
    EventOut,
    TransferOut,
    TransferPage,
    TransferRequest,
    TransferSummary,
)
from gateway.store.codec import PAGE_CURSOR_PATTERN
from gateway.streams import stream_slot
from relayer.risk.holds import screen
from relayer.settings import RelayerSettings

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])

MAX_LIST = 200
KNOWN_STEPS = tuple(Step)  # the journal rows a transfer can have
"""Journal steps shown by ``GET /v1/transfers/{id}`` when the store cannot list them all."""

IdempotencyKey = Annotated[
    str,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post("", status_code=201, response_model=TransferOut)
async def create_transfer(
    request: Request,
    response: Response,
    body: TransferRequest,
    idempotency_key: IdempotencyKey,
    principal: Annotated[Principal, Depends(client_access)],
    store: Annotated[Store, Depends(get_store)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
    families: Annotated[Families, Depends(get_families)],
    clock: Annotated[Callable[[], float], Depends(get_clock)],
) -> TransferOut:
    state = request.app.state
    route, source, dest = await to_thread.run_sync(_route_and_chains, catalog, body.route_id)
    if not route.enabled:
        raise InvalidInput(f"route {route.route_id!r} is disabled", field="route_id")
    body = body.model_copy(
        update={
            "sender": families.validate_address(source.family, body.sender, "sender"),
            "receiver": families.validate_address(dest.family, body.receiver, "receiver"),
        }
    )
    live = adapter_for(state.adapters, str(source.chain_id))
    signed: SourceTx | None = None
    if body.signed_tx is not None:
        signed = from_signed_tx(body, source, dest, parse_hex(body.signed_tx), families, live)
    else:
        check_managed(body, source, state.accounts, families, live)
    new = NewTransfer(
        route_id=route.route_id,
        kind=body.kind,
        sender=body.sender,
        receiver=body.receiver,
        denom=body.denom,
        amount=int(body.amount),
        payload=body.payload_bytes(),
        timeout_height=body.timeout_height,
        timeout_time=body.timeout_seconds,
        source_tx=signed.tx_hash if signed else None,
    )
    new = dataclasses.replace(new, created_by=principal.name)
    scoped_key = f"{principal.name}:{idempotency_key}"
    recheck = _hold_recheck(request)
    record, created, action = await to_thread.run_sync(
        _create,
        store,
        new,
        clock(),
        scoped_key,
        body.request_hash(),
        signed,
        source.chain_id,
        recheck,
    )
    if action is None and record.state is not TransferState.REJECTED:
        # from_account: sign once the transfer exists (and only once)
        managed = await from_managed_account(
            body, source, dest, state.accounts, live, state.nonces, families
        )
        # The transfer gets its transaction's hash in the journal's commit: the watcher
        # finds it by the hash, however early the transaction lands or the relayer stops.
        action = await to_thread.run_sync(
            lambda: store.record_action(
                record.id,
                SOURCE_STEP,
                source.chain_id,
                managed.action,
                clock(),
                source_tx=managed.tx_hash,
            )
        )
    if not created:
        response.status_code = 200
    elif record.state is TransferState.HELD:
        response.status_code = 202  # accepted, and held: nothing is sent until released
    response.headers["Location"] = f"/v1/transfers/{record.id}"
    return _detail(record, [a for a in (action,) if a is not None], [])


def _hold_recheck(request: Request) -> float:
    settings = getattr(request.app.state, "relayer_settings", None) or RelayerSettings()
    return float(settings.hold_recheck)


def _route_and_chains(catalog: Catalog, route_id: str) -> tuple:  # type: ignore[type-arg]
    route = catalog.route(route_id)
    return route, catalog.chain(route.source), catalog.chain(route.destination)


def _create(
    store: Store,
    new: NewTransfer,
    now: float,
    key: str,
    request_hash: bytes,
    signed: SourceTx | None,
    source_chain: ChainId,
    recheck: float,
) -> tuple[TransferRecord, bool, ActionRecord | None]:
    # One source transaction is one transfer, whatever key a client retries with: the store
    # looks it up in the creating transaction (unique index, migration 0004).
    record, created = store.create_transfer(
        new, now, idempotency_key=key, request_hash=request_hash
    )
    if (
        record.state is TransferState.REQUESTED
        and record.admitted_at is None
        and record.packet is None  # a packet on chain: the relayer's source screening
        and isinstance(store, RiskStore)
    ):
        # Screened before anything is journaled: a held transfer's send waits for its
        # release (the relayer steps ``held`` transfers apart), a rejected one has none.
        # A replay screens a transfer its first request created but did not screen (the
        # API stopped between the two commits): nothing is journaled unscreened. One the
        # watcher found on chain first is screened by the relayer at ``proven`` as before.
        (record,) = screen(store, [record], TransferState.REQUESTED, "api", now, recheck=recheck)
    if record.state is TransferState.REJECTED:
        return record, created, store.action(record.id, SOURCE_STEP)
    # A transfer created just now has no journal yet: skip the read.
    existing = None if created else store.action(record.id, SOURCE_STEP)
    if existing is not None or signed is None:
        return record, created, existing
    action = store.record_action(record.id, SOURCE_STEP, source_chain, signed.action, now)
    return record, created, action


@router.get("/{transfer_id}", response_model=TransferOut)
def get_transfer(
    transfer_id: str,
    store: Annotated[Store, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
) -> TransferOut:
    return transfer_detail(store, transfer_id)


def transfer_detail(store: Store, transfer_id: str) -> TransferOut:
    """A transfer with its journal, its chain transactions and its whole history
    (``NotFound`` when unknown): the API's answer and the dashboard's page."""
    record = store.transfer(transfer_id)
    return _detail(record, _actions(store, transfer_id), store.history(transfer_id))


@router.get("", response_model=TransferPage)
def list_transfers(
    store: Annotated[Store, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
    status: TransferState | None = None,
    chain: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50,
    cursor: Annotated[str | None, Query(max_length=100, pattern=PAGE_CURSOR_PATTERN)] = None,
) -> TransferPage:
    """Newest first; pass ``next_cursor`` back as ``cursor`` for the next page.

    The cursor is a position (creation time, id), so transfers created while a
    client pages are never repeated or skipped on the pages after the first.
    """
    page, next_cursor = store.list_transfers(
        state=status, chain=ChainId(chain) if chain else None, after=cursor, limit=limit
    )
    return TransferPage(items=[TransferSummary.of(t) for t in page], next_cursor=next_cursor)


def _existing(transfer_id: str, store: Annotated[Store, Depends(get_store)]) -> TransferRecord:
    """Resolved before the stream opens, so an unknown id is a 404 problem, not a stream."""
    return store.transfer(transfer_id)


@router.get("/{transfer_id}/events", response_class=EventSourceResponse)
async def transfer_events(
    request: Request,
    transfer: Annotated[TransferRecord, Depends(_existing)],
    _slot: Annotated[None, Depends(stream_slot)],
    store: Annotated[Store, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
    last_event_id: Annotated[int, Header(alias="Last-Event-ID", ge=0)] = 0,
) -> AsyncIterator[ServerSentEvent]:
    """Each history line as it is stored (``id`` = its id, ``event: transfer``), polling
    the store; the stream ends after a terminal state. ``Last-Event-ID`` resumes."""
    async for sse in history_events(
        request,
        read=lambda after: store.history(transfer.id, after),
        state=transfer.state,
        terminal=TERMINAL_TRANSFER_STATES,
        render=lambda line: EventOut.of(line).model_dump(mode="json"),
        event="transfer",
        after=last_event_id,
    ):
        yield sse


def _actions(store: Store, transfer_id: str) -> list[ActionRecord]:
    listing = getattr(store, "actions", None)
    if listing is not None:
        return list(listing(transfer_id))
    found = [store.action(transfer_id, step) for step in KNOWN_STEPS]
    return [a for a in found if a is not None]


def _detail(record: TransferRecord, actions: list, history: list) -> TransferOut:  # type: ignore[type-arg]
    summary = TransferSummary.of(record)
    txs: list[ChainTxOut] = []
    seen: set[bytes] = set()
    if record.source_tx is not None:
        source = str(record.packet.source) if record.packet else None
        txs.append(
            ChainTxOut(role="source", chain_id=source, tx_hash="0x" + record.source_tx.hex())
        )
        seen.add(record.source_tx)
    for a in actions:
        if a.tx_hash is not None and a.tx_hash not in seen:
            seen.add(a.tx_hash)
            txs.append(
                ChainTxOut(role=a.step, chain_id=str(a.chain_id), tx_hash="0x" + a.tx_hash.hex())
            )
    if record.dest_tx is not None and record.dest_tx not in seen:
        dest = str(record.packet.destination) if record.packet else None
        txs.append(
            ChainTxOut(role="destination", chain_id=dest, tx_hash="0x" + record.dest_tx.hex())
        )
    return TransferOut(
        **summary.model_dump(),
        transactions=txs,
        actions=[ActionOut.of(a) for a in actions],
        history=[EventOut.of(e) for e in history],
    )


__all__ = ["router", "transfer_detail"]
