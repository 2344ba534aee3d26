"""Reading an EVM chain safely: retried reads, chunked log scans, reorg detection.

* :class:`Reader`: idempotent JSON-RPC reads with an overall deadline and a
  bounded number of retries on ``ChainUnavailable`` (never on a rejection:
  asking again would get the same answer); concurrent reads are coalesced
  into one batch (:class:`Coalescer`). Writes never go through it.
* :func:`fetch_logs`: ``eth_getLogs`` over ``[start, end]`` in chunks of
  ``log_range`` blocks; a chunk the node refuses (too many results, range too
  large) is halved and retried, down to one block.
* :class:`LogScanner`: the stateful scanner the relayer drives. It remembers
  the hash of the blocks it read (a :class:`BlockHashStore`), and before each
  chunk compares the newest remembered hash with the chain. On a mismatch it
  walks back to the newest remembered block still on the chain, forgets
  everything above it and rescans from there, reporting the rewind so the
  caller can drop what it derived from the orphaned blocks. A reorg deeper
  than ``max_reorg_depth`` raises ``ReorgDetected``: rewinding that far is an
  operator's decision.

Block hashes are remembered sparsely: the last block of every chunk, every
block that held a log, and every block within ``max_reorg_depth`` of the
scan's upper bound (where reorgs happen), so a rewind near the tip lands on
the exact fork point.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.evm.rpc import MAX_BATCH, JsonRpcClient
from core.errors import ChainRejected, ChainUnavailable, InvalidInput, ReorgDetected

RpcLog = dict[str, Any]


RpcCalls = list[tuple[str, list[Any]]]


class Coalescer:
    """Calls made in one event-loop turn leave together as one JSON-RPC batch.

    Why: fifty coroutines that each estimate gas (or send a transaction) at
    the same moment would cost fifty HTTP requests, and the request overhead,
    not the node's work, would bound throughput. Queued calls are flushed by
    a callback scheduled with ``call_soon``, i.e. once every coroutine that
    was ready has reached its await: no timer, no added latency. A lone call
    goes out as a plain request. A ``ChainRejected`` answer reaches only its
    caller; a failure of the whole request reaches every caller in it.
    """

    def __init__(
        self,
        one: Callable[[str, list[Any]], Awaitable[Any]],
        many: Callable[[RpcCalls], Awaitable[list[Any]]],
    ) -> None:
        self._one = one
        self._many = many
        self._queue: list[tuple[str, list[Any], asyncio.Future[Any]]] = []
        self._scheduled = False
        self.requests = 0  # HTTP requests made (for tests and benchmarks)

    async def call(self, method: str, *params: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((method, list(params), future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        queue, self._queue = self._queue, []
        self._scheduled = False
        for first in range(0, len(queue), MAX_BATCH):
            task = asyncio.ensure_future(self._send(queue[first : first + MAX_BATCH]))
            task.add_done_callback(_consume)

    async def _send(self, queue: list[tuple[str, list[Any], asyncio.Future[Any]]]) -> None:
        self.requests += 1
        try:
            if len(queue) == 1:
                method, params, _ = queue[0]
                results = [await self._one(method, params)]
            else:
                results = await self._many([(method, params) for method, params, _ in queue])
        except BaseException as err:
            for _, _, future in queue:
                if not future.done():
                    future.set_exception(err)
            return
        for (_, _, future), result in zip(queue, results, strict=True):
            if future.done():
                continue
            if isinstance(result, ChainRejected):
                future.set_exception(result)
            else:
                future.set_result(result)


def _consume(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # failures were handed to the callers' futures


class Reader:
    """Idempotent reads: an overall deadline per call, retries on ``ChainUnavailable`` only.

    With ``batching`` (the default) concurrent ``call``s are coalesced into
    JSON-RPC batches (:class:`Coalescer`) and ``batch`` sends real batches;
    without it (nodes that refuse batches) every call is its own request.
    """

    def __init__(
        self,
        rpc: JsonRpcClient,
        *,
        retries: int = 3,
        backoff: float = 0.2,
        timeout: float | None = None,
        batch_timeout: float | None = None,
        batching: bool = True,
    ) -> None:
        if retries < 0 or backoff < 0:
            raise InvalidInput("retries and backoff must not be negative")
        self.rpc = rpc
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout or rpc.timeout
        self.batch_timeout = batch_timeout or self.timeout
        self.batching = batching
        self._coalescer = Coalescer(self._call_now, lambda calls: self.batch(calls, strict=False))

    async def call(self, method: str, *params: Any) -> Any:
        """One read, retried on unavailability (the method must be idempotent)."""
        if self.batching:
            return await self._coalescer.call(method, *params)
        return await self._call_now(method, list(params))

    async def _call_now(self, method: str, params: list[Any]) -> Any:
        return await self._retry(
            lambda: self.rpc.call(method, *params, timeout=self.timeout), method, self.timeout
        )

    async def batch(
        self, calls: Sequence[tuple[str, Sequence[Any]]], *, strict: bool = True
    ) -> list[Any]:
        """``rpc.batch`` in chunks of at most ``MAX_BATCH`` calls, each retried as a whole.

        Without ``batching`` the calls go one by one; with ``strict=False`` a
        rejected call appears in the list as its ``ChainRejected``.
        """
        results: list[Any] = []
        if not self.batching:
            for method, params in calls:
                try:
                    results.append(await self._call_now(method, list(params)))
                except ChainRejected as err:
                    if strict:
                        raise
                    results.append(err)
            return results
        deadline = self.batch_timeout
        for first in range(0, len(calls), MAX_BATCH):
            chunk = list(calls[first : first + MAX_BATCH])
            results += await self._retry(
                lambda chunk=chunk: self.rpc.batch(chunk, strict=strict, timeout=deadline),
                f"batch of {len(chunk)}",
                deadline,
            )
        return results

    async def _retry(self, make: Callable[[], Awaitable[Any]], what: str, deadline: float) -> Any:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                # httpx's timeout bounds each phase (connect, read…); this bounds the whole
                # call, so a node trickling bytes cannot hold a caller forever.
                async with asyncio.timeout(deadline * 2):
                    return await make()
            except TimeoutError as err:
                failure: ChainUnavailable = ChainUnavailable(f"{what}: no answer in time")
                failure.__cause__ = err
            except ChainUnavailable as err:
                failure = err
            if attempt == self.retries:
                raise failure
            await asyncio.sleep(delay)
            delay *= 2
        raise ChainUnavailable(f"{what}: no attempt was made")  # unreachable: retries >= 0


# --- logs ---------------------------------------------------------------------------------


async def fetch_logs(
    reader: Reader,
    start: int,
    end: int,
    *,
    addresses: Sequence[str],
    topics: Sequence[Any] = (),
    log_range: int = 2_000,
) -> list[RpcLog]:
    """The logs of ``addresses`` matching ``topics`` in ``[start, end]``, in chain order.

    Chunks of ``log_range`` blocks; a refused chunk is halved (nodes cap a
    query's result count or block range), down to a single block.
    """
    if log_range < 1:
        raise InvalidInput("log_range must be at least 1", field="log_range")
    if start < 0 or end < start:
        return []
    logs: list[RpcLog] = []
    low, size = start, log_range
    while low <= end:
        high = min(end, low + size - 1)
        query: dict[str, Any] = {"fromBlock": hex(low), "toBlock": hex(high)}
        query["address"] = list(addresses)
        if topics:
            query["topics"] = list(topics)
        try:
            chunk = await reader.call("eth_getLogs", query)
        except ChainRejected:
            if high == low:
                raise
            size = max(1, (high - low + 1) // 2)
            continue
        if not isinstance(chunk, list):
            raise ChainUnavailable("eth_getLogs: the node answered something other than a list")
        logs += chunk
        low = high + 1
    logs.sort(key=_log_order)
    return logs


def _log_order(log: Mapping[str, Any]) -> tuple[int, int]:
    return int(log["blockNumber"], 16), int(log["logIndex"], 16)


# --- remembered block hashes --------------------------------------------------------------


class BlockHashStore(Protocol):
    """Where the scanner remembers the hashes of blocks it read.

    In memory for now (:class:`MemoryBlockHashStore`); the hub's SQL store
    implements the same three calls later.
    """

    def put(self, height: int, block_hash: bytes) -> None:
        """Remember ``block_hash`` at ``height`` (replacing what was there)."""
        ...

    def recent(self, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` remembered ``(height, hash)``, newest first."""
        ...

    def rewind(self, height: int) -> None:
        """Forget every height above ``height``."""
        ...


@dataclass
class MemoryBlockHashStore:
    """A :class:`BlockHashStore` in a dict, keeping the newest ``keep`` heights."""

    keep: int = 4_096
    _hashes: dict[int, bytes] = field(default_factory=dict)
    _heights: list[int] = field(default_factory=list)  # sorted

    def put(self, height: int, block_hash: bytes) -> None:
        if height not in self._hashes:
            bisect.insort(self._heights, height)
        self._hashes[height] = block_hash
        while len(self._heights) > self.keep:
            del self._hashes[self._heights.pop(0)]

    def recent(self, limit: int) -> list[tuple[int, bytes]]:
        heights = self._heights[-limit:] if limit > 0 else []
        return [(h, self._hashes[h]) for h in reversed(heights)]

    def rewind(self, height: int) -> None:
        cut = bisect.bisect_right(self._heights, height)
        for h in self._heights[cut:]:
            del self._hashes[h]
        del self._heights[cut:]

    def get(self, height: int) -> bytes | None:
        return self._hashes.get(height)


@dataclass(frozen=True, slots=True)
class Rewind:
    """The scanner moved back: blocks above ``ancestor`` were replaced.

    The caller drops whatever it derived from logs above ``ancestor`` (they
    may be gone, or moved); the scanner reads those heights again.
    """

    ancestor: int
    orphaned_tip: int  # the newest remembered height that was no longer on the chain


@dataclass(frozen=True, slots=True)
class LogBatch:
    """One step of a scan: the logs of ``[start, end]`` (empty when ``end < start``)."""

    start: int
    end: int
    logs: list[RpcLog]
    rewind: Rewind | None = None


class LogScanner:
    """Scans logs forward from ``start``, remembering block hashes to detect reorgs.

    ``next_height`` is the next block to read. The caller persists its own
    cursor (the last height whose events it fully processed) and passes it
    back as ``start`` after a restart, with the same hash store.
    """

    def __init__(
        self,
        reader: Reader,
        *,
        addresses: Sequence[str],
        topics: Sequence[Any] = (),
        start: int = 0,
        store: BlockHashStore | None = None,
        log_range: int = 2_000,
        max_reorg_depth: int = 64,
    ) -> None:
        if start < 0 or log_range < 1 or max_reorg_depth < 1:
            raise InvalidInput("start >= 0, log_range >= 1 and max_reorg_depth >= 1 are required")
        self.reader = reader
        self.addresses = [a.lower() for a in addresses]
        self.topics = list(topics)
        self.store: BlockHashStore = store if store is not None else MemoryBlockHashStore()
        self.log_range = log_range
        self.max_reorg_depth = max_reorg_depth
        self.origin = start
        self.next_height = start

    async def scan(self, up_to: int) -> LogBatch:
        """Check for a reorg, then read the next chunk (``log_range`` blocks at most) to ``up_to``.

        CONTRACT: ``up_to`` is at most the chain's latest height.

        Raises ``ReorgDetected`` for a reorg deeper than ``max_reorg_depth``, or
        when the chain changed while the chunk was read (nothing is advanced;
        scanning again is safe).
        """
        rewind = await self.check_reorg()
        start = self.next_height
        if start > up_to:
            return LogBatch(start, start - 1, [], rewind)
        end = min(up_to, start + self.log_range - 1)
        logs = await fetch_logs(
            self.reader,
            start,
            end,
            addresses=self.addresses,
            topics=self.topics,
            log_range=self.log_range,
        )
        near_tip = range(max(start, up_to - self.max_reorg_depth + 1), end + 1)
        heights = sorted({int(log["blockNumber"], 16) for log in logs} | {end, *near_tip})
        hashes = await self._hashes(heights)
        for log in logs:
            height = int(log["blockNumber"], 16)
            if log.get("removed") or _hash_bytes(log.get("blockHash")) != hashes[height]:
                raise ReorgDetected(
                    f"block {height} changed while blocks {start}..{end} were scanned",
                    height=height,
                )
        for height in heights:
            block_hash = hashes[height]
            if block_hash is None:
                raise ReorgDetected(f"block {height} vanished during the scan", height=height)
            self.store.put(height, block_hash)
        self.next_height = end + 1
        return LogBatch(start, end, logs, rewind)

    async def check_reorg(self) -> Rewind | None:
        """Compare the newest remembered block with the chain; rewind past a reorg."""
        newest = self.store.recent(1)
        if not newest:
            return None
        tip, tip_hash = newest[0]
        if (await self._hashes([tip]))[tip] == tip_hash:
            return None
        remembered = self.store.recent(self.max_reorg_depth + 1)
        window = [(h, hh) for h, hh in remembered if h >= tip - self.max_reorg_depth]
        chain = await self._hashes([h for h, _ in window])
        for height, block_hash in window:
            if chain[height] == block_hash:
                return self._rewind(height, tip)
        older = [h for h, _ in remembered if h < tip - self.max_reorg_depth]
        fallback = self.origin - 1
        if older or tip - fallback > self.max_reorg_depth:
            raise ReorgDetected(
                f"no remembered block within {self.max_reorg_depth} of height {tip} is still on "
                "the chain: the reorg is deeper than max_reorg_depth",
                height=tip,
            )
        return self._rewind(fallback, tip)

    def _rewind(self, ancestor: int, tip: int) -> Rewind:
        self.store.rewind(ancestor)
        self.next_height = ancestor + 1
        return Rewind(ancestor=ancestor, orphaned_tip=tip)

    async def _hashes(self, heights: Sequence[int]) -> dict[int, bytes | None]:
        """The chain's block hash at each height (None where there is no block)."""
        blocks = await self.reader.batch(
            [("eth_getBlockByNumber", [hex(h), False]) for h in heights]
        )
        return {
            h: _hash_bytes(b.get("hash")) if isinstance(b, Mapping) else None
            for h, b in zip(heights, blocks, strict=True)
        }


def _hash_bytes(value: object) -> bytes | None:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        return None
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        return None
