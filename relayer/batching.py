"""Which proven transfers go into which batch: pure rules, no I/O (issue #15).

A batch holds packets of ONE route, at most ``max_size`` of them, in the order
the transfers became due (oldest first, so none starves). A partial batch waits
for more packets until its oldest member has lingered ``linger`` seconds (about
a source block time: what arrives in the same block goes out together); a full
one goes at once. The statement's tree is ``proofs.notary.batch``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from core.batches import MAX_BATCH_SIZE, BatchKind, BatchMember, BatchStatement
from core.errors import InvalidInput
from core.records import TransferRecord
from core.seams import BridgeEndpoint
from core.types import Packet
from proofs.hashing import get_hash_function
from proofs.notary.batch import compute_batch_proofs, compute_batch_root


def plan_batches(
    candidates: Sequence[TransferRecord],
    *,
    route_id: str,
    max_size: int,
    linger: float,
    now: float,
) -> list[list[TransferRecord]]:
    """The batches to assemble now from ``candidates`` (proven, in no batch yet).

    Only transfers of ``route_id``; chunks of ``max_size`` in the order they became
    proven (``updated_at``); the last, partial chunk only once its oldest member has
    waited ``linger`` seconds. What is left waits for the next pass.
    """
    if not 1 <= max_size <= MAX_BATCH_SIZE:
        raise InvalidInput(f"a batch holds 1 .. {MAX_BATCH_SIZE} packets, not {max_size}")
    mine = sorted(
        (t for t in candidates if t.route_id == route_id), key=lambda t: (t.updated_at, t.id)
    )
    chunks = [list(mine[i : i + max_size]) for i in range(0, len(mine), max_size)]
    if chunks and len(chunks[-1]) < max_size and chunks[-1][0].updated_at + linger > now:
        chunks.pop()
    return chunks


Leaf = Callable[[Packet], bytes]
"""A packet's leaf in the acting chain's batch trees (``BridgeEndpoint.batch_leaf``, or a
cache of it: ``LeafCache``)."""


def batch_tree(
    bridge: BridgeEndpoint, packets: Sequence[Packet], leaf: Leaf | None = None
) -> tuple[bytes, list[tuple[bytes, ...]]]:
    """The root and every member's proof, with the ACTING chain's leaf and hash."""
    hash_fn = get_hash_function(bridge.batch_hash_name())
    leaves = [(leaf or bridge.batch_leaf)(p) for p in packets]
    return compute_batch_root(leaves, hash_fn=hash_fn), compute_batch_proofs(
        leaves, hash_fn=hash_fn
    )


def batch_root(
    bridge: BridgeEndpoint, packets: Sequence[Packet], leaf: Leaf | None = None
) -> bytes:
    """The root alone (assembling a batch needs no member proofs: they are built when its
    chunks are sent)."""
    hash_fn = get_hash_function(bridge.batch_hash_name())
    return compute_batch_root([(leaf or bridge.batch_leaf)(p) for p in packets], hash_fn=hash_fn)


def members_of(
    bridge: BridgeEndpoint, packets: Sequence[Packet], leaf: Leaf | None = None
) -> tuple[bytes, list[BatchMember]]:
    """The root and the ``BatchMember`` of each packet, in leaf order."""
    root, proofs = batch_tree(bridge, packets, leaf)
    return root, [BatchMember(p, i, proofs[i]) for i, p in enumerate(packets)]


class LeafCache:
    """Each packet's leaf computed once per acting chain and kept for the newest ``size``:
    a batch member's leaf is needed to check it can be batched, to assemble its batch and to
    send it (an EIP-712 hash of the packet on EVM: three times per packet before)."""

    def __init__(self, size: int = 65_536) -> None:
        self.size = size
        self._leaves: OrderedDict[tuple[str, Packet], bytes] = OrderedDict()

    def of(self, chain: str, bridge: BridgeEndpoint) -> Leaf:
        """``bridge.batch_leaf`` (of ``chain``), remembered."""

        def leaf(packet: Packet) -> bytes:
            key = (chain, packet)
            value = self._leaves.get(key)
            if value is None:
                value = bridge.batch_leaf(packet)
                self._leaves[key] = value
                if len(self._leaves) > self.size:
                    self._leaves.popitem(last=False)
            return value

        return leaf


def chunks_of(members: Sequence[BatchMember], capacity: int) -> list[list[BatchMember]]:
    """The members in transactions of at most ``capacity`` (the acting chain's limit)."""
    size = max(1, int(capacity))
    return [list(members[i : i + size]) for i in range(0, len(members), size)]


def statement_of(
    source: str, dest: str, epoch: int, kind: int, size: int, root: bytes
) -> BatchStatement:
    return BatchStatement(source, dest, epoch, BatchKind(kind), size, root)


__all__ = [
    "LeafCache",
    "batch_root",
    "batch_tree",
    "chunks_of",
    "members_of",
    "plan_batches",
    "statement_of",
]
