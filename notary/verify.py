"""The notary's own verification of one chain: verified headers, proven events, non-receipt.

One ``ChainVerifier`` per chain, over the notary's OWN adapter and the one
light-client follower (``adapters.follower``) persisted in the notary's own
files (never the hub's store). It answers with verified data only, for every
family alike, through the seam:

* :meth:`ChainVerifier.consensus_at`: the light client's consensus state at
  exactly ``height`` (verified forward from the nearest trusted state,
  skipping with bisection where the family allows; below the lowest trusted
  state by parent-hash links);
* :meth:`ChainVerifier.proven_event`: the bridge event at ``(height, position)``,
  its inclusion proven against that state, and its attributes decoded again
  from the PROVEN bytes (``ChainAdapter.event_from_proof``), not from what the
  node's event listing said. The header the node serves at that height is
  compared with the trusted one: a second valid header is a fork and freezes
  the notary's client (the follower keeps the evidence);
* :meth:`ChainVerifier.final_block`: for a packet TO this chain, the height and
  time of the verified finalized header and whether the packet's receipt
  entry (``BridgeEndpoint.receipt_key``) is in the state there, by a state
  proof (``ChainAdapter.prove_state``) the light client checks against the
  verified state root (non-delivery, ``proofs.notary.nondelivery``).

SECURITY: without a configured checkpoint the first one is the node's finalized
header, trusted on first use (``docs/notary.md``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from adapters.block_listings import BlockListings
from adapters.follower import LightClientFollower, Verified
from adapters.proving import prove_events
from core.errors import InvalidInput, PjgwError
from core.ids import ChainId
from core.seams import ChainAdapter
from core.types import ChainEvent, InclusionProof, Packet
from notary.errors import EventNotFound, PacketMismatch
from proofs.notary.nondelivery import DestinationBlock

log = logging.getLogger("pjgw.notary")

CACHED_HEIGHTS = 64  # event listings kept per chain (final blocks: they never change)


class ChainVerifier:
    """Verified reads of one chain for a notary (see the module docstring)."""

    def __init__(self, adapter: ChainAdapter, follower: LightClientFollower) -> None:
        self.adapter = adapter
        self.chain_id = ChainId(str(adapter.chain_id))
        self.follower = follower
        # A notary attests many packets of one block at once: one listing per height.
        self._listings = BlockListings(CACHED_HEIGHTS)

    async def consensus_at(self, height: int, *, recheck: bool = False) -> Verified:
        """The verified consensus state at ``height``."""
        return await self.follower.verified_at(self.chain_id, height, recheck=recheck)

    async def latest_verified(self) -> Verified:
        """A verified consensus state at the chain's finalized height (timeouts)."""
        return await self.follower.latest_verified(self.chain_id)

    async def proofs_of(
        self, places: Sequence[tuple[int, tuple[int, ...]]]
    ) -> dict[tuple[int, tuple[int, ...]], InclusionProof]:
        """The inclusion proofs of the listed events at ``places`` (height, position), one
        request per block where the adapter can (``adapters.proving.prove_events``): what a
        batch's members will ask ``proven_event`` for. Best effort: a place not listed, or a
        block whose fetch failed, is left out, and ``proven_event`` then fetches (and
        refuses) that member on its own. Each proof is still verified there, alone."""
        heights: dict[int, set[tuple[int, ...]]] = {}
        for height, position in places:
            heights.setdefault(int(height), set()).add(tuple(position))
        found: dict[tuple[int, tuple[int, ...]], InclusionProof] = {}
        for height, positions in heights.items():
            try:
                listed = [
                    e
                    for e in await self._listings.events(self.adapter, height)
                    if tuple(e.position) in positions
                ]
                proofs = await prove_events(self.adapter, listed)
            except PjgwError as err:
                log.info("proofs of %s block %d in one go: %s", self.chain_id, height, err)
                continue
            found.update(
                ((height, tuple(e.position)), p) for e, p in zip(listed, proofs, strict=True)
            )
        return found

    async def proven_event(
        self,
        height: int,
        position: tuple[int, ...],
        tx_hash: bytes,
        *,
        fetched: InclusionProof | None = None,
    ) -> ChainEvent:
        """The event at ``(height, position)`` of ``tx_hash``, proven and re-decoded;
        ``fetched``: its proof from ``proofs_of`` (verified here like a fresh one)."""
        events = await self._listings.events(self.adapter, height)
        listed = [e for e in events if tuple(e.position) == tuple(position)]
        if not listed or listed[0].tx_hash != tx_hash:
            raise EventNotFound(
                f"no bridge event at {self.chain_id} height {height} position {list(position)} "
                f"in tx 0x{tx_hash.hex()}",
                chain=self.chain_id,
                height=height,
            )
        verified = await self.consensus_at(height, recheck=True)
        proof = fetched if fetched is not None else await self.adapter.prove(listed[0])
        await asyncio.to_thread(
            verified.light_client.verify_membership, verified.consensus_state, proof
        )
        try:
            return self.adapter.event_from_proof(listed[0], proof, verified.header_hash)
        except InvalidInput as err:
            raise PacketMismatch(err.message) from err

    async def final_block(self, packet: Packet) -> DestinationBlock:
        """The verified finalized block and, by a state proof there, whether ``packet`` is in.

        SECURITY: height and time come from the header the light client accepted,
        ``received`` from a proof against that header's state root; nothing the
        node says is taken without one. A proof that does not verify raises.
        """
        if packet.dest_chain != self.chain_id:
            raise InvalidInput(f"packet is for {packet.dest_chain}, not {self.chain_id}")
        verified = await self.latest_verified()
        key = self.adapter.bridge().receipt_key(packet)
        proof = await self.adapter.prove_state(key, verified.height)
        await asyncio.to_thread(
            verified.light_client.verify_membership, verified.consensus_state, proof
        )
        time_ms = verified.codec.state_time_ms(verified.consensus_state)
        return DestinationBlock(int(verified.height), time_ms, bool(proof.value))


__all__ = ["CACHED_HEIGHTS", "ChainVerifier"]
