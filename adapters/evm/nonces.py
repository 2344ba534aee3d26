"""Nonces for one sending account: many transactions in flight, no gap, no reuse.

The chain executes an account's transactions strictly in nonce order, so two
mistakes are fatal: handing out a nonce twice (one of the two transactions is
dropped) and skipping one (every later transaction waits forever behind the
gap). The manager hands out nonces from a local counter under a lock, so
hundreds of concurrent sends each get their own, and tracks what happened to
each one:

* ``confirm``: a node accepted the transaction; the nonce is used.
* ``release``: the transaction never reached a node (it was refused before
  or by the node for a reason other than its nonce); the nonce goes back to
  a pool and is handed out again, lowest first, so no gap remains.
* ``spent``: the node says the nonce is already used (``nonce too low``,
  an already-imported or underpriced replacement): something else used it.
* ``doubt``: the fate is unknown (a timeout after sending).

After ``spent``, ``doubt`` or ``invalidate`` (a reorg dropped transactions)
the counter may be wrong, so the manager
re-reads the chain's *pending* nonce (``eth_getTransactionCount(addr,
"pending")``, which counts the mempool) at the next reservation made while
nothing else is outstanding. A new manager (a restarted process) starts the
same way: from the chain's pending nonce, so it never reuses one that a
previous process got accepted.

CONTRACT: one manager per account per process, and no other sender using
the account at the same time (another sender is tolerated, but its nonces
show up here as ``spent`` and retries).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable, Callable

from core.errors import ChainRejected, InvalidInput

PendingNonce = Callable[[], Awaitable[int]]

# What nodes answer when the nonce is already taken (geth, anvil, Besu, Nethermind, Erigon).
_NONCE_USED = (
    "nonce too low",
    "already known",
    "already imported",
    "known transaction",
    "replacement transaction underpriced",
    "nonce has already been used",
    "oldnonce",
    "nonce is too low",
)


class NonceTaken(ChainRejected):
    """The node refused a fresh transaction because its nonce is already used.

    The local counter was behind the chain (another sender, a restarted
    process, a send whose answer was lost); the manager re-reads the chain's
    nonce (``spent``), so the same action signed again goes through:
    retryable, unlike the node's other refusals.
    """

    code = "nonce-taken"
    retryable = True


def is_nonce_used(err: ChainRejected) -> bool:
    """True when the node refused a transaction because its nonce is already taken."""
    text = err.message.lower()
    return any(marker in text for marker in _NONCE_USED)


def is_already_known(err: ChainRejected) -> bool:
    """True when the node already holds this very transaction (same bytes)."""
    text = err.message.lower()
    return "already known" in text or "already imported" in text or "known transaction" in text


class NonceManager:
    """Hands out the nonces of one account (see the module docstring for the rules)."""

    def __init__(self, fetch_pending: PendingNonce) -> None:
        self._fetch_pending = fetch_pending
        self._lock = asyncio.Lock()
        self._next: int | None = None
        self._free: list[int] = []  # released nonces below _next (a min-heap)
        self._outstanding: set[int] = set()
        self._stale = False
        self.resyncs = 0

    @property
    def next_nonce(self) -> int | None:
        """The next fresh nonce (None before the first reservation)."""
        return self._next

    @property
    def outstanding(self) -> frozenset[int]:
        """Nonces handed out whose fate is not settled yet."""
        return frozenset(self._outstanding)

    async def reserve(self) -> int:
        """One nonce: a released one first (lowest), else the next fresh one."""
        return (await self.reserve_many(1))[0]

    async def reserve_many(self, count: int) -> list[int]:
        """``count`` nonces in increasing order (released ones first, then fresh ones)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidInput("count must be a positive integer", field="count")
        async with self._lock:
            start = self._next
            if start is None or (self._stale and not self._outstanding):
                start = self._sync(await self._fetch_pending())
            nonces = [heapq.heappop(self._free) for _ in range(min(count, len(self._free)))]
            fresh = count - len(nonces)
            nonces += range(start, start + fresh)
            self._next = start + fresh
            self._outstanding.update(nonces)
            return nonces

    def _sync(self, pending: int) -> int:
        if isinstance(pending, bool) or not isinstance(pending, int) or pending < 0:
            raise InvalidInput("the pending nonce must be a non-negative integer")
        if self._next is not None:
            self.resyncs += 1
        # Everything below the chain's pending nonce is used; everything from it on is ours
        # to hand out (nothing is outstanding when this runs, except at the first use).
        self._next = pending
        self._free = []
        self._stale = False
        return pending

    async def recover(self) -> None:
        """Re-read the chain's pending nonce NOW and move past it (a nonce was taken by
        another sender): everything below the pending nonce is used, so the counter
        jumps there when it is behind, released nonces below it are dropped, and the
        next reservation is fresh. No backoff: the answer is one read away."""
        async with self._lock:
            pending = await self._fetch_pending()
            if isinstance(pending, bool) or not isinstance(pending, int) or pending < 0:
                raise InvalidInput("the pending nonce must be a non-negative integer")
            self.resyncs += 1
            if self._next is None or pending > self._next:
                self._next = pending
            self._free = [n for n in self._free if n >= pending]
            heapq.heapify(self._free)
            if not self._outstanding:
                self._stale = False

    def confirm(self, nonce: int) -> None:
        """A node accepted the transaction with ``nonce``."""
        self._outstanding.discard(nonce)

    def release(self, nonce: int) -> None:
        """The transaction with ``nonce`` reached no node: hand the nonce out again."""
        if nonce in self._outstanding:
            self._outstanding.discard(nonce)
            heapq.heappush(self._free, nonce)

    def spent(self, nonce: int) -> None:
        """The node says ``nonce`` is already used: re-read the chain when quiet."""
        self._outstanding.discard(nonce)
        self._stale = True

    def doubt(self, nonce: int) -> None:
        """The fate of ``nonce`` is unknown (timeout): re-read the chain when quiet."""
        self._outstanding.discard(nonce)
        self._stale = True

    def invalidate(self) -> None:
        """Re-read the chain's pending nonce at the next quiet reservation.

        CONTRACT: call it after a reorg (the scanner reported a ``Rewind``) or
        when a transaction stays pending far too long: transactions of
        orphaned blocks that no node re-injected leave the counter ahead of
        the chain, and everything sent after them would wait behind the gap.
        """
        self._stale = True

    def settle(self, nonce: int, error: BaseException | None) -> None:
        """Settle ``nonce`` from the outcome of sending its transaction.

        None: accepted. ``ChainRejected``: spent when the node names the nonce,
        else released. Anything else (timeouts, cancellation): in doubt.
        """
        if error is None:
            self.confirm(nonce)
        elif isinstance(error, ChainRejected):
            if is_nonce_used(error):
                self.spent(nonce)
            else:
                self.release(nonce)
        else:
            self.doubt(nonce)
