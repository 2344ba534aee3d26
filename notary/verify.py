"""The notary's own verification of one chain: trusted checkpoint, headers, proven events.

One ``ChainVerifier`` per chain, over the notary's OWN adapter and light
client (never the hub's). It answers two questions with verified data only:

* :meth:`ChainVerifier.consensus_at`: the light client's consensus state at
  exactly ``height``. Above the checkpoint: the light client verifies the
  header from it (skipping / segment verification by the family's rule) and
  the checkpoint advances there. Below it: the header is tied to the
  checkpoint by its parent-hash links (at most ``max_backfill`` headers, from
  the nearest header verified before, kept in memory), then made a consensus
  state from that hash, as an operator checkpoint would.
* :meth:`ChainVerifier.proven_event`: the bridge event at ``(height, position)``,
  its inclusion proven against that state, and its attributes re-decoded from
  the PROVEN bytes (not from what the node's event listing said).
* :meth:`ChainVerifier.final_block`: for a packet TO this chain, the height and
  time of the verified finalized header and whether the packet's receipt
  entry is in the state under its state root, by a state proof (non-delivery,
  ``proofs.notary.nondelivery``): an RFC 6962 membership / absence proof of
  ``recv/<source>/<seq>`` on Pujiang, an ``eth_getProof`` (MPT account and
  storage proof) of ``Bridge.received[source][seq]`` on EVM.

SECURITY: the first checkpoint is trusted on first use (``checkpoints.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from core.errors import BadProof, InvalidHeader, InvalidInput, RootMismatch
from core.ids import Height
from core.types import ChainEvent, InclusionProof, Packet
from notary.checkpoints import Checkpoint, CheckpointFile
from notary.errors import EventNotFound, PacketMismatch
from proofs.notary.nondelivery import (
    DestinationBlock,
    compute_evm_received_slot,
    compute_pujiang_recv_key,
)

MAX_BACKFILL = 1024
CACHED_HEIGHTS = 64  # verified states and event listings kept per chain
MAX_VERIFIED = 8192  # header hashes kept in memory per chain (~0.5 MiB)
Clock = Callable[[], float]


class ChainVerifier:
    """Family-neutral part: the checkpoint, the anchor state and the walk down to old headers."""

    def __init__(
        self,
        adapter: Any,
        checkpoints: CheckpointFile,
        *,
        configured: Checkpoint | None = None,
        clock: Clock = time.time,
        max_backfill: int = MAX_BACKFILL,
    ) -> None:
        self.adapter = adapter
        self.chain_id = str(adapter.chain_id)
        self._checkpoints = checkpoints
        self._configured = configured
        self._clock = clock
        self._max_backfill = max_backfill
        self._anchor: tuple[Checkpoint, object] | None = None
        # Header hashes this notary verified (light client or parent-hash links), by height:
        # a backfill walks down from the nearest one instead of from the checkpoint, so work
        # handed out newest first does not refetch the same headers for every older item.
        self._verified: dict[int, bytes] = {}
        # A notary attests many packets of one block at once (run_once is concurrent): one
        # verification per height, one event listing per height, both of FINAL blocks only.
        self._lock = asyncio.Lock()
        self._states: OrderedDict[int, object] = OrderedDict()
        self._listings: OrderedDict[int, list[ChainEvent]] = OrderedDict()

    # --- family hooks ----------------------------------------------------------------
    async def _state_from_hash(self, height: int, trusted_hash: bytes) -> object:
        raise NotImplementedError

    async def _verify_above(self, anchor: object, anchor_height: int, height: int) -> object:
        raise NotImplementedError

    async def _links(self, first: int, last: int) -> list[tuple[bytes, bytes]]:
        """``(hash, parent_hash)`` of every header in ``[first, last]``, computed locally."""
        raise NotImplementedError

    async def _proven(self, state: object, event: ChainEvent) -> ChainEvent:
        raise NotImplementedError

    async def _received(self, state: object, packet: Packet) -> bool:
        """Whether ``packet``'s receipt entry is in the state of ``state``, PROVEN."""
        raise NotImplementedError

    def _time_ms(self, state: object) -> int:
        raise NotImplementedError

    # --- the checkpoint --------------------------------------------------------------
    async def checkpoint(self) -> Checkpoint:
        """The trusted checkpoint: configured, else stored, else trusted on first use."""
        if self._configured is not None:
            stored = self._checkpoints.get(self.chain_id)
            if stored is None or stored.source == "tofu":
                self._checkpoints.put(self.chain_id, self._configured)
            self._configured = None
        found = self._checkpoints.get(self.chain_id)
        if found is None:
            height = int(await self.adapter.finalized_height())
            header = await self.adapter.header(Height(height))
            found = Checkpoint(height, header.hash, "tofu")
            self._checkpoints.put(self.chain_id, found)
        return found

    async def _anchor_state(self) -> tuple[Checkpoint, object]:
        checkpoint = await self.checkpoint()
        if self._anchor is None or self._anchor[0] != checkpoint:
            self._anchor = (
                checkpoint,
                await self._state_from_hash(checkpoint.height, checkpoint.hash),
            )
        return self._anchor

    def now(self) -> int:
        return int(self._clock())

    # --- verified data ---------------------------------------------------------------
    async def consensus_at(self, height: int) -> object:
        """The verified consensus state at ``height`` (cached: a final header never changes)."""
        async with self._lock:  # the checkpoint moves one way at a time
            state = self._states.get(height)
            if state is None:
                state = await self._consensus_at(height)
                _remember_lru(self._states, height, state)
            return state

    async def _events_at(self, height: int) -> list[ChainEvent]:
        listed = self._listings.get(height)
        if listed is None:
            listed = list(await self.adapter.events(Height(height), Height(height)))
            _remember_lru(self._listings, height, listed)
        return listed

    async def _consensus_at(self, height: int) -> object:
        checkpoint, anchor = await self._anchor_state()
        if height == checkpoint.height:
            return anchor
        self._remember(checkpoint.height, checkpoint.hash)
        if height > checkpoint.height:
            state = await self._verify_above(anchor, checkpoint.height, height)
            advanced = Checkpoint(height, _state_hash(state), "verified")
            self._checkpoints.put(self.chain_id, advanced)
            self._anchor = (advanced, state)
            self._remember(height, advanced.hash)
            return state
        top = min(h for h in self._verified if h >= height)  # the checkpoint at worst
        if top - height > self._max_backfill:
            raise InvalidHeader(
                f"height {height} is more than {self._max_backfill} headers below the "
                f"nearest verified header {top} of {self.chain_id}",
                check="backfill",
            )
        links = await self._links(height, top)
        expected = self._verified[top]
        for at, (header_hash, parent) in zip(
            range(top, height - 1, -1), reversed(links), strict=True
        ):
            if header_hash != expected:
                raise RootMismatch(
                    f"header links of {self.chain_id} break between {height} and the checkpoint",
                    check="parent-hash",
                )
            self._remember(at, header_hash)
            expected = parent
        return await self._state_from_hash(height, links[0][0])

    def _remember(self, height: int, header_hash: bytes) -> None:
        self._verified.pop(height, None)
        self._verified[height] = header_hash
        while len(self._verified) > MAX_VERIFIED:  # the least recently verified go first
            del self._verified[next(iter(self._verified))]

    async def latest_verified(self) -> object:
        """A verified consensus state at the chain's finalized height (timeouts)."""
        return await self.consensus_at(int(await self.adapter.finalized_height()))

    async def final_block(self, packet: Packet) -> DestinationBlock:
        """The verified finalized block and, by a state proof there, whether ``packet`` is in.

        SECURITY: height and time come from the header the light client accepted,
        ``received`` from a proof against that header's state root; nothing the
        node says is taken without one. A proof that does not verify raises.
        """
        if packet.dest_chain != self.chain_id:
            raise InvalidInput(f"packet is for {packet.dest_chain}, not {self.chain_id}")
        state = await self.latest_verified()
        height = int(getattr(state, "height"))  # noqa: B009 - both families name it height
        received = await self._received(state, packet)
        return DestinationBlock(height, self._time_ms(state), received)

    async def proven_event(
        self, height: int, position: tuple[int, ...], tx_hash: bytes
    ) -> ChainEvent:
        """The event at ``(height, position)`` of ``tx_hash``, proven and re-decoded."""
        listed = [e for e in await self._events_at(height) if tuple(e.position) == tuple(position)]
        if not listed or listed[0].tx_hash != tx_hash:
            raise EventNotFound(
                f"no bridge event at {self.chain_id} height {height} position {list(position)} "
                f"in tx 0x{tx_hash.hex()}",
                chain=self.chain_id,
                height=height,
            )
        state = await self.consensus_at(height)
        return await self._proven(state, listed[0])


def _remember_lru(cache: OrderedDict[int, Any], key: int, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHED_HEIGHTS:
        cache.popitem(last=False)


def _state_hash(state: object) -> bytes:
    found = getattr(state, "header_hash", None) or getattr(state, "hash", None)
    if not isinstance(found, bytes):
        raise InvalidInput("a consensus state without a header hash")
    return found


# --- Pujiang ------------------------------------------------------------------------------


class PujiangVerifier(ChainVerifier):
    """Over ``proofs.pujiang.light_client``: BFT commits, RFC 6962 event proofs."""

    def __init__(
        self,
        adapter: Any,
        checkpoints: CheckpointFile,
        *,
        trusting_period: int = 14 * 24 * 3600,
        max_clock_drift: int = 15,
        **kw: Any,
    ) -> None:
        from proofs.pujiang.light_client import ClientState

        super().__init__(adapter, checkpoints, **kw)
        self.light_client = adapter.light_client()
        self.client_state = ClientState(
            chain_id=self.chain_id.encode(),
            trusting_period_ms=trusting_period * 1000,
            max_clock_drift_ms=max_clock_drift * 1000,
            hash_profile=adapter.settings.hash_profile,
        )

    async def _state_from_hash(self, height: int, trusted_hash: bytes) -> object:
        from proofs.pujiang.light_client import create_checkpoint, decode_header_evidence

        header = await self.adapter.header(Height(height))
        _, validators = decode_header_evidence(header.evidence)
        return create_checkpoint(
            self.client_state,
            header.encoded,
            validators,
            trusted_height=height,
            trusted_hash=trusted_hash,
            now_ms=self.now() * 1000,
        )

    async def _verify_above(self, anchor: object, anchor_height: int, height: int) -> object:
        header = await self.adapter.header(Height(height))
        return self.light_client.verify_header(self.client_state, anchor, header, self.now())

    async def _links(self, first: int, last: int) -> list[tuple[bytes, bytes]]:
        from proofs.pujiang import codec

        links = []
        for height in range(first, last + 1):
            header = await self.adapter.header(Height(height))
            decoded = codec.decode_header(header.encoded)
            links.append((self.client_state.hash_fn(header.encoded), decoded.parent_hash))
        return links

    async def _proven(self, state: object, event: ChainEvent) -> ChainEvent:
        from adapters.pujiang import wire
        from proofs.pujiang import codec

        proof = await self.adapter.prove(event)
        if int.from_bytes(proof.key, "big") != event.position[0]:
            raise PacketMismatch("the proof is for another leaf than the event")
        self.light_client.verify_membership(state, proof, client_state=self.client_state)
        leaf = codec.decode_event(proof.value)
        kind = wire.EVENT_KINDS.get(leaf.kind)
        if kind is None:
            raise PacketMismatch(f"the proven leaf is a {leaf.kind!r} event")
        return ChainEvent(
            chain_id=event.chain_id,
            height=event.height,
            kind=kind,
            tx_hash=event.tx_hash,
            position=event.position,
            attributes=wire.event_attributes(leaf),
            raw=proof.value,
        )

    def _time_ms(self, state: object) -> int:
        return int(getattr(state, "time_ms"))  # noqa: B009

    async def _received(self, state: object, packet: Packet) -> bool:
        import rlp

        from adapters.pujiang import wire
        from proofs.pujiang.light_client import STATE_ABSENCE_PROOF_KIND, STATE_PROOF_KIND
        from proofs.pujiang.state_proofs import StateAbsenceProof, StateLeaf, StateProof

        height = int(getattr(state, "height"))  # noqa: B009
        key = compute_pujiang_recv_key(str(packet.source_chain), packet.sequence)
        what = f"state proof of 0x{key.hex()} at {self.chain_id} height {height}"
        answer = await self.adapter.node.get(
            "/v1/proofs/state", {"key": "0x" + key.hex(), "height": height}
        )
        if wire.int_field(answer, "height", what) != height:
            raise BadProof(f"{what}: the node proved another height", check="proof-height")
        if answer.get("value") is not None:
            value = wire.hex_field(answer, "value", what)
            encoded = rlp.encode(StateProof(height, key, value, *_leaf_position(answer, what)))
            kind, proven_value = STATE_PROOF_KIND, value
        else:
            brackets = [
                [] if answer.get(side) is None else [_state_leaf(answer[side], what, StateLeaf)]
                for side in ("left", "right")
            ]
            encoded = rlp.encode(StateAbsenceProof(height, key, *brackets))
            kind, proven_value = STATE_ABSENCE_PROOF_KIND, b""
        proof = InclusionProof(
            self.adapter.chain_id, Height(height), kind, key, proven_value, (encoded,)
        )
        self.light_client.verify_membership(state, proof, client_state=self.client_state)
        return kind == STATE_PROOF_KIND


# --- EVM ----------------------------------------------------------------------------------


class EvmVerifier(ChainVerifier):
    """Over ``proofs.evm.client``: header segments to a final header, receipt-log proofs."""

    def __init__(self, adapter: Any, checkpoints: CheckpointFile, **kw: Any) -> None:
        super().__init__(adapter, checkpoints, **kw)
        self.light_client = adapter.light_client()
        self.client_state = adapter.settings.client_state()

    async def _state_from_hash(self, height: int, trusted_hash: bytes) -> object:
        from proofs.evm.header import decode_header

        header = await self.adapter.header(Height(height))
        return self.light_client.consensus_state_from_checkpoint(
            self.chain_id, decode_header(header.encoded), trusted_hash
        )

    async def _verify_above(self, anchor: object, anchor_height: int, height: int) -> object:
        header = await self.adapter.header_update(anchor_height, height)
        return self.light_client.verify_header(self.client_state, anchor, header, self.now())

    async def _links(self, first: int, last: int) -> list[tuple[bytes, bytes]]:
        from proofs.evm.header import header_from_rpc

        links = []
        for block in await self.adapter.blocks(range(first, last + 1)):
            if block is None:
                raise EventNotFound(f"{self.chain_id} lacks a block between {first} and {last}")
            header = header_from_rpc(block)
            links.append((self.light_client.policy.compute_hash(header), header.parent_hash))
        return links

    async def _proven(self, state: object, event: ChainEvent) -> ChainEvent:
        from proofs.evm.client import decode_log_key

        proof = await self.adapter.prove(event)
        log = self.light_client.verify_log(state, proof)
        tx_index, _ = decode_log_key(proof.key)
        if tx_index != event.position[0]:
            raise PacketMismatch("the proof is for another transaction than the event")
        rpc_log = {
            "address": "0x" + log.address.hex(),
            "topics": ["0x" + t.hex() for t in log.topics],
            "data": "0x" + log.data.hex(),
            "blockHash": "0x" + _state_hash(state).hex(),
            "blockNumber": hex(event.height),
            "transactionHash": "0x" + event.tx_hash.hex(),
            "transactionIndex": hex(tx_index),
            "logIndex": hex(event.position[1]),
        }
        fresh = self.adapter.decode_event(rpc_log)
        if fresh is None:
            raise PacketMismatch("the proven log is not a bridge event")
        return fresh

    def _time_ms(self, state: object) -> int:
        return int(getattr(state, "timestamp")) * 1000  # noqa: B009

    async def _received(self, state: object, packet: Packet) -> bool:
        """``eth_getProof`` of ``received[keccak(source)][seq]`` against the verified state root."""
        from proofs.mpt import EMPTY_CODE_HASH, verify_eip1186_response

        bridge = self.adapter.settings.bridge_address
        if bridge is None:
            raise InvalidInput(f"no bridge_address is configured for {self.chain_id}")
        height = int(getattr(state, "height"))  # noqa: B009
        slot = compute_evm_received_slot(str(packet.source_chain), packet.sequence)
        answer = await self.adapter.reader.call(
            "eth_getProof", bridge, ["0x" + slot.hex()], hex(height)
        )
        proven = verify_eip1186_response(getattr(state, "state_root"), answer)  # noqa: B009
        if proven.address != bytes.fromhex(bridge.removeprefix("0x")):
            raise BadProof("the node proved another account than the bridge", check="address")
        if proven.account is None or proven.account.code_hash == EMPTY_CODE_HASH:
            raise BadProof(
                f"no bridge contract at {bridge} in {self.chain_id} block {height}",
                check="account",
            )
        if slot not in proven.storage:
            raise BadProof("the node proved other storage slots", check="slot")
        return proven.storage[slot] != 0


def _leaf_position(entry: Any, what: str) -> tuple[int, list[bytes]]:
    from adapters.pujiang import wire

    path = wire.field(entry, "path", what)
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        raise BadProof(f"{what}: malformed audit path", check="encoding")
    nodes = [bytes.fromhex(p.removeprefix("0x")) for p in path]
    return wire.int_field(entry, "index", what), nodes


def _state_leaf(entry: Any, what: str, leaf_type: Any) -> Any:
    from adapters.pujiang import wire

    if not isinstance(entry, dict):
        raise BadProof(f"{what}: malformed bracketing leaf", check="encoding")
    key = wire.hex_field(entry, "key", what)
    value = wire.hex_field(entry, "value", what)
    return leaf_type(key, value, *_leaf_position(entry, what))


def verifier_for(adapter: Any, checkpoints: CheckpointFile, **kw: Any) -> ChainVerifier:
    """The verifier of ``adapter``'s family (``InvalidInput`` for a family without one)."""
    if adapter.family == "pujiang":
        return PujiangVerifier(adapter, checkpoints, **kw)
    if adapter.family == "evm":
        kw.pop("trusting_period", None)
        kw.pop("max_clock_drift", None)
        return EvmVerifier(adapter, checkpoints, **kw)
    raise InvalidInput(f"the notary has no verifier for the {adapter.family!r} family")
