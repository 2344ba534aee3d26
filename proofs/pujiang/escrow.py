"""The Pujiang bridge's escrow accounts: where a chain keeps its tokens sent to another.

One account per counterparty chain, derived from its id (no key signs for it). Here
in ``proofs`` because the devnet node credits it and the hub's adapter reads it (the
conservation breaker), and neither may import the other.
"""

from __future__ import annotations

import rlp

from proofs.hashing import HashFunction

ESCROW_TAG = b"pujiang/escrow/v1"
ADDRESS_LENGTH = 20


def escrow_address(counterparty: bytes, hash_fn: HashFunction) -> bytes:
    """The account holding this chain's tokens sent to ``counterparty``: no key signs for it."""
    return hash_fn(rlp.encode([ESCROW_TAG, counterparty]))[:ADDRESS_LENGTH]


__all__ = ["ESCROW_TAG", "escrow_address"]
