"""The relayer's light clients: anchor, advance, persist, freeze (one keeper per engine).

The light clients themselves are pure (``proofs``); this module does what they
leave to the caller: it fetches headers through the adapter, keeps the
verified consensus states in the store (``Store.save_client``) and decides the
first trusted state.

Trust anchor: an operator's checkpoint from ``RelayerSettings.checkpoints``
(height and hash taken outside the node), or, when there is none, the node's
own header at first use (TOFU: "trust on first use"), at the height just below
the first packet to prove. Every later header is verified from a stored
state. SECURITY: TOFU trusts the node at one instant; a checkpoint removes
even that.

Persistence is per family (:class:`ClientCodec`): no family defines a byte
encoding of its states, so this module does, and writes it down here:

* ``pujiang``: client state JSON ``{chain_id, trusting_period_ms,
  max_clock_drift_ms, hash_profile}``; consensus state ``rlp([height,
  header_hash, time_ms, state_root, state_size, events_root, event_count,
  validators, next_validators_hash, next_validators or b"", hash_profile])``
  with the validator sets in their canonical encoding (keys and proofs of
  possession are checked again when a state is loaded, once per set);
* ``evm``: client state JSON of ``EvmClientState``; consensus state the
  header's RLP (the hash is recomputed with the chain's finality policy).

A frozen client is recorded with ``ClientRecord.frozen`` and its reason, so
every relayer process (and the API) sees it and the routes from that chain
stop until an operator re-anchors.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

import rlp

from core.errors import (
    BadEncoding,
    ClientFrozen,
    ConfigError,
    InsufficientPower,
    InvalidHeader,
    Misbehaviour,
    NotFound,
    VerificationError,
)
from core.ids import ChainId, Height
from core.records import ClientRecord
from core.seams import ChainAdapter, LightClient, Store
from core.types import TrustedHeader
from proofs.evm.client import EvmClientState, EvmConsensusState, EvmLightClient
from proofs.evm.header import decode_header as decode_evm_header
from proofs.evm.header import encode_header as encode_evm_header
from proofs.pujiang import codec as pj_codec
from proofs.pujiang.commit import accept_validator_set, decode_validator_set
from proofs.pujiang.light_client import (
    ClientState,
    ConsensusState,
    create_checkpoint,
    decode_header_evidence,
)
from relayer.settings import ClientParams, RelayerSettings

# --- per-family persistence ------------------------------------------------------------------


class ClientCodec(Protocol):
    """How one family's light-client states become bytes and come back."""

    min_height: int

    def initial_client_state(self, adapter: ChainAdapter, params: ClientParams) -> object: ...
    def encode_client(self, state: object) -> bytes: ...
    def decode_client(self, data: bytes) -> object: ...
    def encode_consensus(self, state: object) -> bytes: ...
    def decode_consensus(self, data: bytes, client: object, lc: LightClient) -> object: ...
    def anchor(
        self,
        lc: LightClient,
        client: object,
        header: TrustedHeader,
        trusted_hash: bytes,
        now: int,
    ) -> object:
        """The first consensus state from ``header``, whose hash must be ``trusted_hash``."""
        ...

    def max_step(self, adapter: ChainAdapter) -> int | None:
        """The most heights one verified update may span (``None``: no bound)."""
        ...

    def state_hash(self, state: object) -> bytes: ...
    def parent_hash(self, header: TrustedHeader) -> bytes:
        """The parent hash a header names (decoded from ``encoded``)."""
        ...


class PujiangCodec:
    """Persistence of ``proofs.pujiang`` states (see the module docstring)."""

    min_height = 1

    def __init__(self) -> None:
        self._accepted: dict[bytes, Any] = {}  # validator sets by encoding: PoPs checked once

    def initial_client_state(self, adapter: ChainAdapter, params: ClientParams) -> ClientState:
        settings = getattr(adapter, "settings", None)
        profile = getattr(settings, "hash_profile", "sha256")
        return ClientState(
            chain_id=str(adapter.chain_id).encode(),
            trusting_period_ms=params.trusting_period * 1000,
            max_clock_drift_ms=params.max_clock_drift * 1000,
            hash_profile=profile,
        )

    def encode_client(self, state: object) -> bytes:
        if not isinstance(state, ClientState):
            raise ConfigError("not a Pujiang client state")
        return json.dumps(
            {
                "chain_id": state.chain_id.decode(),
                "trusting_period_ms": state.trusting_period_ms,
                "max_clock_drift_ms": state.max_clock_drift_ms,
                "hash_profile": state.hash_profile,
            },
            sort_keys=True,
        ).encode()

    def decode_client(self, data: bytes) -> ClientState:
        doc = _json(data)
        return ClientState(
            chain_id=str(doc["chain_id"]).encode(),
            trusting_period_ms=int(doc["trusting_period_ms"]),
            max_clock_drift_ms=int(doc["max_clock_drift_ms"]),
            hash_profile=str(doc["hash_profile"]),
        )

    def encode_consensus(self, state: object) -> bytes:
        if not isinstance(state, ConsensusState):
            raise ConfigError("not a Pujiang consensus state")
        nxt = state.next_validators.encoded if state.next_validators is not None else b""
        return rlp.encode(
            [
                state.height,
                state.header_hash,
                state.time_ms,
                state.state_root,
                state.state_size,
                state.events_root,
                state.event_count,
                state.validators.encoded,
                state.next_validators_hash,
                nxt,
                state.hash_profile.encode(),
            ]
        )

    def decode_consensus(self, data: bytes, client: object, lc: LightClient) -> ConsensusState:
        try:
            items = rlp.decode(data)
        except Exception as err:  # rlp raises several classes
            raise BadEncoding("stored Pujiang consensus state does not decode") from err
        if not isinstance(items, list) or len(items) != 11:
            raise BadEncoding("stored Pujiang consensus state has the wrong shape")
        (height, header_hash, time_ms, state_root, state_size, events_root, event_count) = items[:7]
        validators, next_hash, next_validators, profile = items[7:]
        hash_fn = pj_codec.hash_profile(profile.decode())
        valset = self._accept(validators, hash_fn)
        next_set = self._accept(next_validators, hash_fn) if next_validators else None
        return ConsensusState(
            height=_int(height),
            header_hash=header_hash,
            time_ms=_int(time_ms),
            state_root=state_root,
            state_size=_int(state_size),
            events_root=events_root,
            event_count=_int(event_count),
            validators=valset,
            next_validators_hash=next_hash,
            next_validators=next_set,
            hash_profile=profile.decode(),
        )

    def _accept(self, encoded: bytes, hash_fn: Callable[[bytes], bytes]) -> Any:
        found = self._accepted.get(encoded)
        if found is None:
            found = accept_validator_set(decode_validator_set(encoded, hash_fn))
            self._accepted[encoded] = found
        return found

    def anchor(
        self,
        lc: LightClient,
        client: object,
        header: TrustedHeader,
        trusted_hash: bytes,
        now: int,
    ) -> ConsensusState:
        if not isinstance(client, ClientState):
            raise ConfigError("not a Pujiang client state")
        _commit, validators = decode_header_evidence(header.evidence)
        return create_checkpoint(
            client,
            header.encoded,
            validators,
            trusted_height=int(header.height),
            trusted_hash=trusted_hash,
            now_ms=now * 1000,
        )

    def max_step(self, adapter: ChainAdapter) -> int | None:
        return None  # skipping verification; a failed trust overlap is reported as is

    def state_hash(self, state: object) -> bytes:
        return state.header_hash if isinstance(state, ConsensusState) else b""

    def parent_hash(self, header: TrustedHeader) -> bytes:
        return bytes(pj_codec.decode_header(header.encoded).parent_hash)


class EvmCodec:
    """Persistence of ``proofs.evm.client`` states (see the module docstring)."""

    min_height = 0

    def initial_client_state(self, adapter: ChainAdapter, params: ClientParams) -> EvmClientState:
        settings = getattr(adapter, "settings", None)
        if settings is not None and hasattr(settings, "client_state"):
            state: EvmClientState = settings.client_state()
            return state
        return EvmClientState(
            chain_id=adapter.chain_id,
            trusting_period=params.trusting_period,
            max_clock_drift=params.max_clock_drift,
        )

    def encode_client(self, state: object) -> bytes:
        if not isinstance(state, EvmClientState):
            raise ConfigError("not an EVM client state")
        return json.dumps(
            {
                "chain_id": str(state.chain_id),
                "trusting_period": state.trusting_period,
                "max_clock_drift": state.max_clock_drift,
                "max_headers": state.max_headers,
            },
            sort_keys=True,
        ).encode()

    def decode_client(self, data: bytes) -> EvmClientState:
        doc = _json(data)
        return EvmClientState(
            chain_id=ChainId(str(doc["chain_id"])),
            trusting_period=int(doc["trusting_period"]),
            max_clock_drift=int(doc["max_clock_drift"]),
            max_headers=int(doc["max_headers"]),
        )

    def encode_consensus(self, state: object) -> bytes:
        if not isinstance(state, EvmConsensusState):
            raise ConfigError("not an EVM consensus state")
        return rlp.encode([str(state.chain_id).encode(), encode_evm_header(state.header)])

    def decode_consensus(self, data: bytes, client: object, lc: LightClient) -> EvmConsensusState:
        if not isinstance(lc, EvmLightClient):
            raise ConfigError("an EVM consensus state needs the EVM light client")
        try:
            chain, header_rlp = rlp.decode(data)
        except Exception as err:  # rlp raises several classes
            raise BadEncoding("stored EVM consensus state does not decode") from err
        header = decode_evm_header(header_rlp)
        return EvmConsensusState(ChainId(chain.decode()), header, lc.policy.compute_hash(header))

    def anchor(
        self,
        lc: LightClient,
        client: object,
        header: TrustedHeader,
        trusted_hash: bytes,
        now: int,
    ) -> EvmConsensusState:
        if not isinstance(lc, EvmLightClient):
            raise ConfigError("an EVM chain needs the EVM light client")
        return lc.consensus_state_from_checkpoint(
            header.chain_id, decode_evm_header(header.encoded), trusted_hash
        )

    def max_step(self, adapter: ChainAdapter) -> int | None:
        settings = getattr(adapter, "settings", None)
        segment = int(getattr(settings, "max_header_segment", 1024))
        descendants = 0
        if getattr(settings, "finality", "") == "confirmations":
            descendants = int(getattr(settings, "confirmations", 0))
        return max(1, segment - descendants - 1)

    def state_hash(self, state: object) -> bytes:
        return state.hash if isinstance(state, EvmConsensusState) else b""

    def parent_hash(self, header: TrustedHeader) -> bytes:
        return bytes(decode_evm_header(header.encoded).parent_hash)


def default_codecs() -> dict[str, ClientCodec]:
    """The built-in families; an installed family adds its codec to the keeper."""
    return {"pujiang": PujiangCodec(), "evm": EvmCodec()}


def _json(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError as err:
        raise BadEncoding("stored client state is not JSON") from err
    if not isinstance(doc, dict):
        raise BadEncoding("stored client state is not a JSON object")
    return doc


def _int(item: bytes) -> int:
    return int.from_bytes(item, "big")


# --- the keeper ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verified:
    """A consensus state the relayer's light client accepted at ``height``."""

    chain_id: ChainId
    height: Height
    light_client: LightClient
    client_state: object
    consensus_state: object
    header_hash: bytes


class ClientKeeper:
    """Anchors, advances and persists one light client per source chain.

    Advancing a chain is serialised by an ``asyncio.Lock`` per chain in this
    process; across processes the stored record is re-read before each update
    and the states merged, so two relayers verifying different heights both
    keep their work. Header verification (BLS pairings, hashing) runs in a
    thread so the event loop keeps serving.
    """

    def __init__(
        self,
        store: Store,
        adapters: Mapping[ChainId, ChainAdapter],
        settings: RelayerSettings,
        clock: Callable[[], float],
        codecs: Mapping[str, ClientCodec] | None = None,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.settings = settings
        self.clock = clock
        self.codecs = dict(codecs or default_codecs())
        self._locks: dict[ChainId, asyncio.Lock] = {}
        self._decoded: dict[tuple[ChainId, int, bytes], object] = {}
        self._clients: dict[ChainId, LightClient] = {}

    def frozen_reason(self, chain_id: ChainId) -> str | None:
        """Why the client of ``chain_id`` is frozen, or ``None`` when it is not."""
        record = self.store.client(chain_id)
        if record is not None and record.frozen:
            return record.frozen_reason or "light client frozen"
        return None

    def light_client(self, chain_id: ChainId) -> LightClient:
        if chain_id not in self._clients:
            self._clients[chain_id] = self._adapter(chain_id).light_client()
        return self._clients[chain_id]

    def _adapter(self, chain_id: ChainId) -> ChainAdapter:
        adapter = self.adapters.get(chain_id)
        if adapter is None:
            raise ConfigError(f"no adapter for chain {chain_id}")
        return adapter

    def _codec(self, chain_id: ChainId) -> ClientCodec:
        family = self._adapter(chain_id).family
        found = self.codecs.get(family)
        if found is None:
            raise ConfigError(f"no light-client persistence for the {family!r} family")
        return found

    async def verified_at(self, chain_id: ChainId, height: int) -> Verified:
        """The consensus state at exactly ``height``, verifying the header there if needed.

        ``ClientFrozen`` when the stored client is frozen; ``ConfigError`` when
        ``height`` lies below the trust anchor (nothing there can be verified);
        the light client's ``VerificationError`` when the header is refused.
        """
        lock = self._locks.setdefault(chain_id, asyncio.Lock())
        async with lock:
            return await self._verified_at(chain_id, int(height))

    async def _verified_at(self, chain_id: ChainId, height: int) -> Verified:
        adapter, codec, lc = (
            self._adapter(chain_id),
            self._codec(chain_id),
            self.light_client(chain_id),
        )
        now = int(self.clock())
        record = self.store.client(chain_id)
        if record is not None and record.frozen:
            raise ClientFrozen(
                f"light client of {chain_id} is frozen: {record.frozen_reason}", chain=chain_id
            )
        if record is None:
            record = await self._anchor(chain_id, height, now)
        client = codec.decode_client(record.client_state)
        if height in record.consensus_states:
            state = self._decode(chain_id, height, record.consensus_states[height], client)
            return Verified(chain_id, Height(height), lc, client, state, codec.state_hash(state))
        below = [h for h in record.consensus_states if h < height]
        if not below:
            state = await self._backfill(chain_id, record, client, height, now)
            return Verified(chain_id, Height(height), lc, client, state, codec.state_hash(state))
        base_height = max(below)
        base = self._decode(chain_id, base_height, record.consensus_states[base_height], client)
        step = codec.max_step(adapter)
        new_states: dict[int, object] = {}
        target = height if step is None else min(height, base_height + step)
        while base_height < height:
            header = await _fetch_header(adapter, base_height, target)
            try:
                base = await asyncio.to_thread(lc.verify_header, client, base, header, now)
            except Misbehaviour as err:
                self._freeze(chain_id, f"misbehaviour at height {target}: {err.message}")
                raise ClientFrozen(f"light client of {chain_id} froze: {err.message}") from err
            except InsufficientPower:
                # Bisection: too little of the trusted set signed the far header (the
                # set rotated) — verify a header halfway first, then try again from it.
                if target - base_height <= 1:
                    self._save(chain_id, codec, new_states)
                    raise
                target = base_height + (target - base_height) // 2
                continue
            base_height = target
            new_states[target] = base
            target = height if step is None else min(height, base_height + step)
        self._save(chain_id, codec, new_states)
        return Verified(chain_id, Height(height), lc, client, base, codec.state_hash(base))

    async def _backfill(
        self, chain_id: ChainId, record: ClientRecord, client: object, height: int, now: int
    ) -> object:
        """A state BELOW the lowest trusted one, by the parent-hash chain down from it.

        SECURITY: sound without new trust: the lowest trusted header's hash is
        known, each header served is checked to hash to the expected value, and
        its ``parent_hash`` is then the expected hash one height down.
        """
        adapter, codec, lc = (
            self._adapter(chain_id),
            self._codec(chain_id),
            self.light_client(chain_id),
        )
        low = min(record.consensus_states)
        if low - height > self.settings.max_backfill:
            raise ConfigError(
                f"height {height} of {chain_id} is {low - height} below the light client's "
                f"lowest trusted height {low} (max_backfill {self.settings.max_backfill}); "
                "configure an older checkpoint to relay it",
                chain=chain_id,
            )
        expected = codec.state_hash(
            self._decode(chain_id, low, record.consensus_states[low], client)
        )
        current = low
        while current > height:
            header = await adapter.header(Height(current))
            await asyncio.to_thread(codec.anchor, lc, client, header, expected, now)
            expected = codec.parent_hash(header)
            current -= 1
        header = await adapter.header(Height(height))
        state = await asyncio.to_thread(codec.anchor, lc, client, header, expected, now)
        self._save(chain_id, codec, {height: state})
        return state

    async def _anchor(self, chain_id: ChainId, height: int, now: int) -> ClientRecord:
        adapter, codec, lc = (
            self._adapter(chain_id),
            self._codec(chain_id),
            self.light_client(chain_id),
        )
        client = codec.initial_client_state(adapter, self.settings.client_params(chain_id))
        checkpoint = self.settings.checkpoints.get(str(chain_id))
        if checkpoint is not None:
            anchor_height = checkpoint.height
            header = await adapter.header(Height(anchor_height))
            trusted_hash = checkpoint.hash_bytes
        else:
            finalized = int(await adapter.finalized_height())
            anchor_height = max(codec.min_height, min(finalized, height - 1))
            header = await adapter.header(Height(anchor_height))
            trusted_hash = header.hash  # TOFU: the node's word, once
        if int(header.height) != anchor_height:
            raise InvalidHeader(f"node served header {header.height} for {anchor_height}")
        try:
            state = await asyncio.to_thread(codec.anchor, lc, client, header, trusted_hash, now)
        except VerificationError as err:
            if checkpoint is None:
                raise
            # A checkpoint the node's chain does not match is the operator's to fix: it must
            # not reject the transfers that happened to need the anchor.
            raise ConfigError(
                f"the header of {chain_id} at checkpoint height {anchor_height} does not match "
                f"the configured checkpoint: {err.message}",
                chain=chain_id,
            ) from err
        record = ClientRecord(
            chain_id=chain_id,
            client_state=codec.encode_client(client),
            consensus_states={anchor_height: codec.encode_consensus(state)},
            trusted_height=Height(anchor_height),
            updated_at=self.clock(),
        )
        self.store.save_client(record)
        return record

    def _decode(self, chain_id: ChainId, height: int, data: bytes, client: object) -> object:
        key = (chain_id, height, hashlib.sha256(data).digest())
        found = self._decoded.get(key)
        if found is None:
            found = self._codec(chain_id).decode_consensus(
                data, client, self.light_client(chain_id)
            )
            if len(self._decoded) > 4 * self.settings.max_consensus_states:
                self._decoded.clear()
            self._decoded[key] = found
        return found

    def _save(self, chain_id: ChainId, codec: ClientCodec, states: Mapping[int, object]) -> None:
        if not states:
            return
        current = self.store.client(chain_id)  # re-read: another process may have added states
        if current is None:
            raise NotFound(f"light client of {chain_id} vanished from the store")
        merged = dict(current.consensus_states)
        merged.update({h: codec.encode_consensus(s) for h, s in states.items()})
        keep = sorted(merged)[-self.settings.max_consensus_states :]
        self.store.save_client(
            replace(
                current,
                consensus_states={h: merged[h] for h in keep},
                trusted_height=Height(max(current.trusted_height, *states)),
                updated_at=self.clock(),
            )
        )

    def _freeze(self, chain_id: ChainId, reason: str) -> None:
        current = self.store.client(chain_id)
        if current is not None:
            self.store.save_client(
                replace(current, frozen=True, frozen_reason=reason, updated_at=self.clock())
            )


async def _fetch_header(adapter: ChainAdapter, trusted_height: int, height: int) -> TrustedHeader:
    """The header at ``height`` with the evidence to verify it from ``trusted_height``.

    EVM evidence is the chain of headers from the trusted one (its adapter's
    ``header_update``); families with skipping verification need only ``header``.
    """
    update = getattr(adapter, "header_update", None)
    if update is not None:
        header: TrustedHeader = await update(trusted_height, height)
        return header
    return await adapter.header(Height(height))
