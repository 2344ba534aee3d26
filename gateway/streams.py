"""A bound on concurrent event streams (server-sent events), in total and per address.

A stream holds a connection and polls the store every half second for up to
an hour, so streams are counted: beyond ``PJGW_MAX_EVENT_STREAMS`` open at
once a new one is 503 ``streams-exhausted``; beyond
``PJGW_MAX_EVENT_STREAMS_PER_ADDRESS`` from one client address, 429
``rate-limited``. Both answer before the stream opens, with ``Retry-After``.
``stream_slot`` is a FastAPI dependency with ``yield``: FastAPI runs its exit
after the streamed response ends (or the client leaves), which frees the slot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

from fastapi import Request

from gateway.problems import RateLimited, StreamsExhausted

RETRY_SECONDS = 5


class StreamSlots:
    """Open streams by address; single-threaded (the event loop), so no lock."""

    def __init__(self, total: int, per_address: int) -> None:
        self.total = total
        self.per_address = per_address
        self.open: Counter[str] = Counter()

    @property
    def active(self) -> int:
        return self.open.total()

    def acquire(self, address: str) -> None:
        if self.active >= self.total:
            raise StreamsExhausted(
                f"{self.total} event streams are open; retry later", retry_after=RETRY_SECONDS
            )
        if self.open[address] >= self.per_address:
            raise RateLimited(
                f"{self.per_address} event streams are open from this address",
                retry_after=RETRY_SECONDS,
            )
        self.open[address] += 1

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


async def stream_slot(request: Request) -> AsyncIterator[None]:
    """Hold one slot of ``app.state.streams`` for the life of the response."""
    slots: StreamSlots = request.app.state.streams
    address = request.client.host if request.client else ""
    slots.acquire(address)
    try:
        yield
    finally:
        slots.release(address)


__all__ = ["StreamSlots", "stream_slot"]
