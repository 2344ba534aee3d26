"""Persistence of the Pujiang light client's states (``core.seams.ClientCodec``).

No family defines a byte encoding of its light-client states, so this does:

* client state: JSON ``{chain_id, trusting_period_ms, max_clock_drift_ms, hash_profile}``;
* consensus state: ``rlp([height, header_hash, time_ms, state_root, state_size,
  events_root, event_count, validators, next_validators_hash, next_validators
  or b"", hash_profile])`` with the validator sets in their canonical
  encoding. Keys and proofs of possession are checked again when a state is
  loaded, once per distinct set (``accept_validator_set``), so a tampered
  store cannot slip in an unchecked key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rlp

from adapters.codec_util import big_int, json_bytes, json_object
from core.errors import BadEncoding, ConfigError
from core.types import HeaderUpdate
from proofs.pujiang import codec as pj_codec
from proofs.pujiang.commit import accept_validator_set, decode_validator_set
from proofs.pujiang.light_client import (
    ClientState,
    ConsensusState,
    create_checkpoint,
    decode_header_evidence,
)


class PujiangClientCodec:
    """``ClientCodec`` of one Pujiang chain (its hash profile: SHA-256 or SM3)."""

    min_height = 1

    def __init__(self, chain_id: str, hash_profile: str = "sha256") -> None:
        self.chain_id = chain_id
        self.hash_profile = hash_profile
        self._hash = pj_codec.hash_profile(hash_profile)
        self._accepted: dict[bytes, Any] = {}  # validator sets by encoding: PoPs checked once

    def initial_client_state(self, trusting_period: int, max_clock_drift: int) -> ClientState:
        return ClientState(
            chain_id=self.chain_id.encode(),
            trusting_period_ms=trusting_period * 1000,
            max_clock_drift_ms=max_clock_drift * 1000,
            hash_profile=self.hash_profile,
        )

    def encode_client(self, state: object) -> bytes:
        if not isinstance(state, ClientState):
            raise ConfigError("not a Pujiang client state")
        return json_bytes(
            {
                "chain_id": state.chain_id.decode(),
                "trusting_period_ms": state.trusting_period_ms,
                "max_clock_drift_ms": state.max_clock_drift_ms,
                "hash_profile": state.hash_profile,
            }
        )

    def decode_client(self, data: bytes) -> ClientState:
        doc = json_object(data, "Pujiang client state")
        try:
            return ClientState(
                chain_id=str(doc["chain_id"]).encode(),
                trusting_period_ms=int(doc["trusting_period_ms"]),
                max_clock_drift_ms=int(doc["max_clock_drift_ms"]),
                hash_profile=str(doc["hash_profile"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise BadEncoding("stored Pujiang client state lacks a field") from err

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

    def decode_consensus(self, data: bytes, client: object) -> ConsensusState:
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
            height=big_int(height),
            header_hash=header_hash,
            time_ms=big_int(time_ms),
            state_root=state_root,
            state_size=big_int(state_size),
            events_root=events_root,
            event_count=big_int(event_count),
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
        self, client: object, header: HeaderUpdate, trusted_hash: bytes, now: int
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

    def max_step(self) -> int | None:
        return None  # skipping verification; the follower bisects when the trust overlap fails

    def state_hash(self, state: object) -> bytes:
        return _state(state).header_hash

    def state_height(self, state: object) -> int:
        return _state(state).height

    def state_time_ms(self, state: object) -> int:
        return _state(state).time_ms

    def trusting_period(self, client: object) -> int:
        if not isinstance(client, ClientState):
            raise ConfigError("not a Pujiang client state")
        return client.trusting_period_ms // 1000

    def header_hash(self, header: HeaderUpdate) -> bytes:
        return self._hash(header.encoded)

    def parent_hash(self, header: HeaderUpdate) -> bytes:
        return bytes(pj_codec.decode_header(header.encoded).parent_hash)


def _state(state: object) -> ConsensusState:
    if not isinstance(state, ConsensusState):
        raise ConfigError("not a Pujiang consensus state")
    return state


__all__ = ["PujiangClientCodec"]
