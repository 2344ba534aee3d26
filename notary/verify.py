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
  the notary's client (the follower keeps the evidence).
  :meth:`ChainVerifier.proven_events` does the same for a batch's members, per
  block rather than per event (one header check, one proof request, one thread
  hop), each event still checked on its own;
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
from dataclasses import dataclass

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
STATE_PROOFS_AT_ONCE = 32
"""Non-receipt state proofs of a refund batch asked of the node at once."""


@dataclass(frozen=True, slots=True)
class EventAt:
    """Where a work item says its event is: block, position in the block, transaction."""

    height: int
    position: tuple[int, ...]
    tx_hash: bytes


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

    async def proven_event(
        self, height: int, position: tuple[int, ...], tx_hash: bytes
    ) -> ChainEvent:
        """The event at ``(height, position)`` of ``tx_hash``, proven and re-decoded."""
        (outcome,) = await self.proven_events([EventAt(height, tuple(position), tx_hash)])
        if isinstance(outcome, PjgwError):
            raise outcome
        return outcome

    async def proven_events(self, places: Sequence[EventAt]) -> list[ChainEvent | PjgwError]:
        """Each of ``places`` proven and re-decoded (``proven_event``), or what refused it.

        Per block, not per event: the listing looked up by position (``BlockListings.at``),
        the header verified once (with its fork re-check), the proofs fetched in one go
        (``adapters.proving.prove_events``; per event if that fails) and checked in one
        thread hop. SECURITY: each event is still checked on its own, as alone: listed at
        its position in its transaction, its own proof verified against the verified state
        of its height, its attributes decoded from the PROVEN bytes; its outcome and
        refusal are those ``proven_event`` gives it (issue #15).
        """
        outcomes: list[ChainEvent | PjgwError | None] = [None] * len(places)
        blocks: dict[int, list[int]] = {}
        for i, place in enumerate(places):
            blocks.setdefault(int(place.height), []).append(i)
        for height, indices in blocks.items():
            await self._proven_block(height, [(i, places[i]) for i in indices], outcomes)
        answered = [o for o in outcomes if o is not None]
        if len(answered) != len(places):  # every path above answers each place: a bug
            raise RuntimeError("proven_events left a place unanswered")
        return answered

    async def _proven_block(
        self,
        height: int,
        wanted: list[tuple[int, EventAt]],
        outcomes: list[ChainEvent | PjgwError | None],
    ) -> None:
        """``proven_events`` for the places of one block, written into ``outcomes``."""
        try:
            index = await self._listings.at(self.adapter, height)
        except PjgwError as err:
            for i, _place in wanted:
                outcomes[i] = err
            return
        listed: list[tuple[int, ChainEvent]] = []
        for i, place in wanted:
            event = index.get(place.position)
            if event is None or event.tx_hash != place.tx_hash:
                outcomes[i] = EventNotFound(
                    f"no bridge event at {self.chain_id} height {height} position "
                    f"{list(place.position)} in tx 0x{place.tx_hash.hex()}",
                    chain=self.chain_id,
                    height=height,
                )
            else:
                listed.append((i, event))
        if not listed:
            return
        try:
            verified = await self.consensus_at(height, recheck=True)
        except PjgwError as err:
            for i, _event in listed:
                outcomes[i] = err
            return
        proofs = await self._proofs([e for _i, e in listed])

        def check() -> None:
            for (i, event), proof in zip(listed, proofs, strict=True):
                outcomes[i] = _proven(self.adapter, verified, event, proof)

        await asyncio.to_thread(check)  # one thread hop for the block, not one per event

    async def _proofs(self, events: list[ChainEvent]) -> list[InclusionProof | PjgwError]:
        """The proofs of ``events``: in one go where the adapter can, else each alone (a
        failure then refuses only its own event)."""
        try:
            return list(await prove_events(self.adapter, events))
        except PjgwError as err:
            if len(events) > 1:
                log.info(
                    "proofs of %s block %s in one go: %s", self.chain_id, events[0].height, err
                )

        async def one(event: ChainEvent) -> InclusionProof | PjgwError:
            try:
                return await self.adapter.prove(event)
            except PjgwError as err:
                return err

        return list(await asyncio.gather(*(one(e) for e in events)))

    async def final_block(self, packet: Packet) -> DestinationBlock:
        """The verified finalized block and, by a state proof there, whether ``packet`` is in.

        SECURITY: height and time come from the header the light client accepted,
        ``received`` from a proof against that header's state root; nothing the
        node says is taken without one. A proof that does not verify raises.
        """
        (outcome,) = await self.final_blocks([packet])
        if isinstance(outcome, PjgwError):
            raise outcome
        return outcome

    async def final_blocks(self, packets: Sequence[Packet]) -> list[DestinationBlock | PjgwError]:
        """``final_block`` for each of ``packets`` (a refund batch's members), or what refused
        it: all at ONE verified finalized block (its header verified once), each packet's
        receipt entry proven by its own state proof against that block's state root, the
        proofs checked in one thread hop."""
        outcomes: list[DestinationBlock | PjgwError | None] = [None] * len(packets)
        for i, packet in enumerate(packets):
            if packet.dest_chain != self.chain_id:
                outcomes[i] = InvalidInput(
                    f"packet is for {packet.dest_chain}, not {self.chain_id}"
                )
        asked = [i for i, o in enumerate(outcomes) if o is None]
        if not asked:
            return [o for o in outcomes if o is not None]
        try:
            verified = await self.latest_verified()
        except PjgwError as err:
            return [err if o is None else o for o in outcomes]
        bridge = self.adapter.bridge()
        gate = asyncio.Semaphore(STATE_PROOFS_AT_ONCE)

        async def proof(packet: Packet) -> InclusionProof | PjgwError:
            async with gate:
                try:
                    return await self.adapter.prove_state(
                        bridge.receipt_key(packet), verified.height
                    )
                except PjgwError as err:
                    return err

        proofs = await asyncio.gather(*(proof(packets[i]) for i in asked))
        time_ms = verified.codec.state_time_ms(verified.consensus_state)

        def check() -> None:
            for i, found in zip(asked, proofs, strict=True):
                if isinstance(found, PjgwError):
                    outcomes[i] = found
                    continue
                try:
                    verified.light_client.verify_membership(verified.consensus_state, found)
                except PjgwError as err:
                    outcomes[i] = err
                    continue
                outcomes[i] = DestinationBlock(int(verified.height), time_ms, bool(found.value))

        await asyncio.to_thread(check)  # one thread hop for the batch, not one per packet
        answered = [o for o in outcomes if o is not None]
        if len(answered) != len(packets):  # every path above answers each packet: a bug
            raise RuntimeError("final_blocks left a packet unanswered")
        return answered


def _proven(
    adapter: ChainAdapter, verified: Verified, event: ChainEvent, proof: InclusionProof | PjgwError
) -> ChainEvent | PjgwError:
    """One listed event's proof verified against ``verified`` and the event decoded from the
    proven bytes; or the refusal (``PacketMismatch`` when the proven bytes are not it)."""
    if isinstance(proof, PjgwError):
        return proof
    try:
        verified.light_client.verify_membership(verified.consensus_state, proof)
    except PjgwError as err:
        return err
    try:
        return adapter.event_from_proof(event, proof, verified.header_hash)
    except InvalidInput as err:
        mismatch = PacketMismatch(err.message)
        mismatch.__cause__ = err
        return mismatch
    except PjgwError as err:
        return err


__all__ = ["CACHED_HEIGHTS", "STATE_PROOFS_AT_ONCE", "ChainVerifier", "EventAt"]
