"""The mempool: checked transactions waiting for a block, first come first served.

A sender may have several transactions waiting (nonces ``n, n+1, …``); a new
one is accepted only with the next nonce after the sender's committed nonce
and everything of theirs already waiting or being executed, so a block never
meets a gap it could have avoided. The pool is bounded and is not persisted:
a restart drops it and clients resubmit (their receipts say ``pending`` until
then, and 404 after a restart).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from core.errors import Conflict, StoreUnavailable
from devnet.txs import CheckedTx, Reason, TxRejected


class MempoolFull(StoreUnavailable):
    """The mempool is full; retry after the next block."""

    code = "mempool-full"


class Mempool:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._waiting: OrderedDict[bytes, CheckedTx] = OrderedDict()
        self._next_nonce: dict[bytes, int] = {}
        self._in_flight: dict[bytes, int] = {}
        """Per sender: transactions waiting or taken for a block not yet stored."""
        self._taken: set[bytes] = set()

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, tx_hash: object) -> bool:
        """Waiting, or in a block being made (a receipt of either says ``pending``)."""
        return tx_hash in self._waiting or tx_hash in self._taken

    def add(self, tx: CheckedTx, committed_nonce: Callable[[bytes], int]) -> None:
        """Queue ``tx``: ``TxRejected`` (wrong nonce), ``Conflict`` (already queued), full."""
        with self._lock:
            if tx.hash in self._waiting:
                raise Conflict(f"transaction 0x{tx.hash.hex()} is already in the mempool")
            if len(self._waiting) >= self._capacity:
                raise MempoolFull(f"the mempool holds {self._capacity} transactions; retry later")
            expected = self._next_nonce.get(tx.sender)
            if expected is None:
                expected = committed_nonce(tx.sender)
            if tx.nonce != expected:
                raise TxRejected(
                    Reason.WRONG_NONCE, f"nonce {tx.nonce}, the account expects {expected}"
                )
            self._waiting[tx.hash] = tx
            self._next_nonce[tx.sender] = expected + 1
            self._in_flight[tx.sender] = self._in_flight.get(tx.sender, 0) + 1

    def take(self, max_txs: int, max_bytes: int) -> list[CheckedTx]:
        """The oldest transactions that fit a block; they stay in flight until ``done``."""
        taken: list[CheckedTx] = []
        size = 0
        with self._lock:
            while self._waiting and len(taken) < max_txs:
                tx = next(iter(self._waiting.values()))
                if taken and size + tx.size > max_bytes:
                    break
                del self._waiting[tx.hash]
                self._taken.add(tx.hash)
                taken.append(tx)
                size += tx.size
        return taken

    def done(self, taken: Sequence[CheckedTx]) -> None:
        """The block holding ``taken`` is stored: senders with nothing left fall back to state."""
        with self._lock:
            for tx in taken:
                self._taken.discard(tx.hash)
                left = self._in_flight.get(tx.sender, 0) - 1
                if left > 0:
                    self._in_flight[tx.sender] = left
                else:
                    self._in_flight.pop(tx.sender, None)
                    self._next_nonce.pop(tx.sender, None)
