"""Inclusion proofs of many events at once, for every family (``core.seams.ManyProofs``).

Under load a block carries hundreds of packets and both the relayer (``source_final ->
proven``) and every notary (each batch member) prove each one: with one node request
per event that was most of their time (``docs/benchmarks.md``, issue #15). An
adapter that can fetch many proofs per request (``prove_many``: the Pujiang node's
bulk route, the EVM block's receipts trie built once) is asked once for all; any
other adapter is asked per event, as before. Verification is unchanged: each proof
is still checked on its own by the light client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from core.errors import ChainError
from core.seams import ChainAdapter
from core.types import ChainEvent, InclusionProof


async def prove_events(adapter: ChainAdapter, events: Sequence[ChainEvent]) -> list[InclusionProof]:
    """The proof of each of ``events``, in order, in as few requests as ``adapter`` can."""
    if not events:
        return []
    many = getattr(adapter, "prove_many", None)  # also through the relayer's metered view
    if many is not None:
        proofs = list(await many(list(events)))
        if len(proofs) != len(events):
            raise ChainError(f"prove_many answered {len(proofs)} proofs for {len(events)} events")
        return proofs
    return list(await asyncio.gather(*(adapter.prove(e) for e in events)))


__all__ = ["prove_events"]
