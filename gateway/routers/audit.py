"""``/v1/audit``: the hash-chained audit log for supervisors and admins (``docs/supervision.md``).

``GET /v1/audit`` filters by subject, actor, action and time, pages by cursor
(``after``: the last ``seq`` seen), and exports JSON lines (``Accept:
application/x-ndjson`` or ``format=ndjson``: every matching entry, streamed
page by page) that ``pjgw audit verify`` checks. Checkpoints are the hub's
signatures over the head; an admin makes one (``POST /v1/audit/checkpoints``)
and may anchor its hash on a chain the hub serves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from core.errors import ConfigError, NotFound
from gateway.audit.anchoring import anchor_checkpoint
from gateway.audit.checkpoints import checkpoint_key, make_checkpoint
from gateway.auth import Principal, admin_access, supervisor_access
from gateway.problems import NotImplementedYet
from gateway.routers.deps import get_adapters, get_clock, get_store
from gateway.schemas.audit import MAX_HEIGHT, AnchorIn, AuditHeadOut, AuditPage, CheckpointOut

router = APIRouter(prefix="/v1/audit", tags=["audit"])

NDJSON = "application/x-ndjson"
EXPORT_PAGE = 1000
MAX_SECONDS = 2**43  # in milliseconds still exact in a double and a BIGINT

Filter = Annotated[str | None, Query(max_length=128)]


def _filters(
    subject: Filter = None,
    subject_id: Filter = None,
    actor: Filter = None,
    action: Filter = None,
    since: Annotated[
        float | None, Query(ge=0, le=MAX_SECONDS, description="unix seconds, inclusive")
    ] = None,
    until: Annotated[
        float | None, Query(ge=0, le=MAX_SECONDS, description="unix seconds, exclusive")
    ] = None,
) -> dict[str, Any]:
    return {
        "subject": subject,
        "subject_id": subject_id,
        "actor": actor,
        "action": action,
        "since_ms": None if since is None else round(since * 1000),
        "until_ms": None if until is None else round(until * 1000),
    }


@router.get(
    "",
    response_model=AuditPage,
    responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}}}},
)
def list_audit(
    request: Request,
    filters: Annotated[dict[str, Any], Depends(_filters)],
    _: Annotated[Principal, Depends(supervisor_access)],
    after: Annotated[int, Query(ge=0, le=MAX_HEIGHT, description="the last seq seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Annotated[Literal["json", "ndjson"] | None, Query()] = None,
) -> Any:
    """Entries oldest first; JSON lines of every matching entry with ``format=ndjson`` or
    ``Accept: application/x-ndjson``."""
    store: Any = get_store(request)
    wants_lines = format == "ndjson" or (
        format is None and NDJSON in request.headers.get("accept", "")
    )
    if wants_lines:
        return StreamingResponse(_lines(store, filters, after), media_type=NDJSON)
    entries, cursor = store.audit_entries(after_seq=after, limit=limit, **filters)
    seq, head = store.audit_head()
    return AuditPage(entries=entries, next=cursor, head=AuditHeadOut(seq=seq, hash=head.hex()))


def _lines(store: Any, filters: dict[str, Any], after: int) -> Iterator[bytes]:
    while True:
        page, cursor = store.audit_entries(after_seq=after, limit=EXPORT_PAGE, **filters)
        for entry in page:
            yield json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        if cursor is None:
            return
        after = cursor


@router.get("/head", response_model=AuditHeadOut)
def audit_head(
    request: Request, _: Annotated[Principal, Depends(supervisor_access)]
) -> AuditHeadOut:
    seq, head = get_store(request).audit_head()  # type: ignore[attr-defined]
    return AuditHeadOut(seq=seq, hash=head.hex())


@router.get("/checkpoints", response_model=list[CheckpointOut])
def list_checkpoints(
    request: Request, _: Annotated[Principal, Depends(supervisor_access)]
) -> list[CheckpointOut]:
    return [CheckpointOut.of(c) for c in get_store(request).audit_checkpoints()]  # type: ignore[attr-defined]


@router.post("/checkpoints", status_code=201, response_model=CheckpointOut)
def create_checkpoint(
    request: Request,
    clock: Annotated[Callable[[], float], Depends(get_clock)],
    _: Annotated[Principal, Depends(admin_access)],
) -> CheckpointOut:
    """Sign the current head with the hub's checkpoint key (audited ``audit.checkpoint``)."""
    try:
        secret = checkpoint_key(request.app.state.settings)
    except ConfigError as err:  # the operator's to configure: say so, not a 500
        raise NotImplementedYet(f"audit checkpoints are not configured: {err.message}") from None
    return CheckpointOut.of(make_checkpoint(get_store(request), secret, clock()))  # type: ignore[arg-type]


@router.post("/checkpoints/{seq}/anchor", response_model=CheckpointOut)
async def anchor(
    request: Request,
    seq: Annotated[int, Path(ge=1, le=MAX_HEIGHT)],
    body: AnchorIn,
    clock: Annotated[Callable[[], float], Depends(get_clock)],
    _: Annotated[Principal, Depends(admin_access)],
) -> CheckpointOut:
    """Write checkpoint ``seq``'s hash on ``chain_id`` through the chain's anchoring
    capability, and record where (audited ``audit.anchor``)."""
    store: Any = get_store(request)
    found = next(
        (c for c in await to_thread.run_sync(store.audit_checkpoints) if c.seq == seq), None
    )
    if found is None:
        raise NotFound(f"no audit checkpoint at seq {seq}", seq=seq)
    adapters = get_adapters(request)
    record = await anchor_checkpoint(store, adapters, found, body.chain_id, clock)
    return CheckpointOut.of(record)


__all__ = ["router"]
