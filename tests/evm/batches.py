"""Batches for ``Bridge.sol`` tests and benches: packets -> root, proofs, statement, certificate.

The tree and the digests are the production code's (``proofs.notary.batch``,
``adapters.evm.certificate``); this module only arranges them as the contract's
call arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.evm.certificate import BridgeDomain, Packet, compute_batch_digest, compute_packet_hash
from core.batches import BatchKind
from proofs.hashing import KECCAK256
from proofs.notary.batch import compute_batch_proofs, compute_batch_root


@dataclass(frozen=True)
class Batch:
    """A batch of packets of one route as the contract takes it."""

    source: str
    dest: str
    epoch: int
    kind: BatchKind
    packets: tuple[Packet, ...]
    root: bytes
    proofs: tuple[tuple[bytes, ...], ...]

    @property
    def statement(self) -> tuple[Any, ...]:
        """``Bridge.BatchStatement`` as eth-abi encodes it."""
        return (self.source, self.dest, self.epoch, int(self.kind), len(self.packets), self.root)

    def digest(self, domain: BridgeDomain) -> bytes:
        return compute_batch_digest(domain, *self.statement)

    def members(
        self, indices: Sequence[int] | None = None
    ) -> tuple[list[Any], list[int], list[Any]]:
        """``(packets, indices, proofs)`` call arguments for the members ``indices`` (all)."""
        chosen = range(len(self.packets)) if indices is None else indices
        return (
            [self.packets[i].as_abi() for i in chosen],
            list(chosen),
            [list(self.proofs[i]) for i in chosen],
        )


def make_batch(
    packets: Sequence[Packet], kind: BatchKind = BatchKind.DELIVERY, epoch: int = 1
) -> Batch:
    leaves = [compute_packet_hash(p) for p in packets]
    return Batch(
        source=packets[0].source_chain,
        dest=packets[0].dest_chain,
        epoch=epoch,
        kind=kind,
        packets=tuple(packets),
        root=compute_batch_root(leaves, hash_fn=KECCAK256),
        proofs=tuple(compute_batch_proofs(leaves, hash_fn=KECCAK256)),
    )
