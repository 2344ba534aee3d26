"""A record's history as server-sent events: the one polling loop behind
``/v1/transfers/{id}/events`` and ``/v1/swaps/{id}/events``.

Each stored history line becomes one event (``id`` = the line's id, so a
client resumes with ``Last-Event-ID``); the stream ends after a terminal
state, when the client is gone, or after ``SSE_MAX_SECONDS``. The store is
polled (in a worker thread: the store is synchronous) every
``app.state.sse_poll_seconds``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from typing import Any

from anyio import to_thread
from fastapi import Request
from fastapi.sse import ServerSentEvent

SSE_MAX_SECONDS = 3600.0


async def history_events(
    request: Request,
    *,
    read: Callable[[int], Sequence[Any]],
    state: Any,
    terminal: Collection[Any],
    render: Callable[[Any], dict[str, Any]],
    event: str,
    after: int,
) -> AsyncIterator[ServerSentEvent]:
    """Lines of ``read(after_id)`` as ``event`` events, from ``after`` on."""
    poll = float(request.app.state.sse_poll_seconds)
    waited = 0.0
    while waited < SSE_MAX_SECONDS:
        lines = await to_thread.run_sync(read, after)
        for line in lines:
            after = line.id
            state = line.state
            yield ServerSentEvent(data=render(line), id=str(line.id), event=event)
        if state in terminal:
            return
        if not lines and await request.is_disconnected():
            return
        await asyncio.sleep(poll)
        waited += poll
