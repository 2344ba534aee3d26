"""One listing of a final block's events for every caller that asks for it.

A block holds many packets under load, and the steps of each one (the relayer
proving them, a notary attesting them, acknowledgements read on the
destination) would each list the same block again. A final block never
changes, so one listing per ``(chain, height)`` serves them all: the listing is
a shared task (callers arriving while it runs wait for the same answer), the
newest ``size`` blocks are kept, and a failed listing is dropped so the next
caller asks the node again. Used by the relayer's protocol and by the notary.

``at`` finds an event by its position in O(1): a notary looks up every member of a
batch in a block of thousands of events, and scanning the listing per member was
O(members x events) (issue #15). The index is built once per listing, beside it, and
keeps the FIRST event listed at a position (as a scan would find it).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping

from core.ids import Height
from core.seams import ChainAdapter
from core.types import ChainEvent

Position = tuple[int, ...]
"""An event's place in its block, as ``ChainEvent.position`` holds it."""


class BlockListings:
    """``events(h, h)`` of final blocks, listed once per ``(chain, height)``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tasks: OrderedDict[tuple[str, int], asyncio.Task[list[ChainEvent]]] = OrderedDict()
        self._indexes: dict[tuple[str, int], tuple[list[ChainEvent], Mapping[Position, ChainEvent]]]
        self._indexes = {}

    async def events(self, adapter: ChainAdapter, height: int) -> list[ChainEvent]:
        """The events of block ``height`` of ``adapter``'s chain (a final block)."""
        key = (str(adapter.chain_id), int(height))
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(_list(adapter, int(height)))
            self._tasks[key] = task
            while len(self._tasks) > self.size:
                self._indexes.pop(self._tasks.popitem(last=False)[0], None)
        self._tasks.move_to_end(key)
        try:
            return await asyncio.shield(task)
        except Exception:
            if self._tasks.get(key) is task:
                del self._tasks[key]
                self._indexes.pop(key, None)
            raise

    async def at(self, adapter: ChainAdapter, height: int) -> Mapping[Position, ChainEvent]:
        """The events of block ``height`` by position (``tuple(event.position)``); the first
        one listed where a listing holds two at one position."""
        events = await self.events(adapter, height)
        key = (str(adapter.chain_id), int(height))
        found = self._indexes.get(key)
        if found is None or found[0] is not events:  # built for this very listing only
            index: dict[Position, ChainEvent] = {}
            for event in events:
                index.setdefault(tuple(event.position), event)
            found = (events, index)
            if key in self._tasks:  # still kept (not evicted or forgotten meanwhile)
                self._indexes[key] = found
        return found[1]

    def forget(self, chain_id: str, height: int) -> None:
        """Drop a listing (the block was found changed: the next caller lists it again)."""
        self._tasks.pop((str(chain_id), int(height)), None)
        self._indexes.pop((str(chain_id), int(height)), None)


async def _list(adapter: ChainAdapter, height: int) -> list[ChainEvent]:
    return list(await adapter.events(Height(height), Height(height)))


__all__ = ["BlockListings", "Position"]
