"""Persistence of the EVM light client's states (``core.seams.ClientCodec``).

* client state: JSON of ``EvmClientState`` (chain id, trusting period, clock
  drift, most headers per update);
* consensus state: ``rlp([chain_id, header_rlp])``: the header itself, whose
  hash is recomputed with the chain's finality policy when it is loaded (a
  QBFT header hashes without its seals).
"""

from __future__ import annotations

import rlp

from adapters.codec_util import json_bytes, json_object
from core.errors import BadEncoding, ConfigError
from core.ids import ChainId
from core.types import HeaderUpdate
from proofs.evm.client import EvmClientState, EvmConsensusState, EvmLightClient
from proofs.evm.header import decode_header, encode_header


class EvmClientCodec:
    """``ClientCodec`` of one EVM chain (its finality policy and header segment bound)."""

    min_height = 0

    def __init__(
        self, light_client: EvmLightClient, client_state: EvmClientState, max_step: int
    ) -> None:
        self.light_client = light_client
        self.client_state = client_state
        self._max_step = max_step

    def initial_client_state(self, trusting_period: int, max_clock_drift: int) -> EvmClientState:
        return self.client_state  # the chain's settings fix both

    def encode_client(self, state: object) -> bytes:
        if not isinstance(state, EvmClientState):
            raise ConfigError("not an EVM client state")
        return json_bytes(
            {
                "chain_id": str(state.chain_id),
                "trusting_period": state.trusting_period,
                "max_clock_drift": state.max_clock_drift,
                "max_headers": state.max_headers,
            }
        )

    def decode_client(self, data: bytes) -> EvmClientState:
        doc = json_object(data, "EVM client state")
        try:
            return EvmClientState(
                chain_id=ChainId(str(doc["chain_id"])),
                trusting_period=int(doc["trusting_period"]),
                max_clock_drift=int(doc["max_clock_drift"]),
                max_headers=int(doc["max_headers"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise BadEncoding("stored EVM client state lacks a field") from err

    def encode_consensus(self, state: object) -> bytes:
        state = _state(state)
        return rlp.encode([str(state.chain_id).encode(), encode_header(state.header)])

    def decode_consensus(self, data: bytes, client: object) -> EvmConsensusState:
        try:
            chain, header_rlp = rlp.decode(data)
        except Exception as err:  # rlp raises several classes
            raise BadEncoding("stored EVM consensus state does not decode") from err
        header = decode_header(header_rlp)
        return EvmConsensusState(
            ChainId(chain.decode()), header, self.light_client.policy.compute_hash(header)
        )

    def anchor(
        self, client: object, header: HeaderUpdate, trusted_hash: bytes, now: int
    ) -> EvmConsensusState:
        return self.light_client.consensus_state_from_checkpoint(
            header.chain_id, decode_header(header.encoded), trusted_hash
        )

    def max_step(self) -> int | None:
        return self._max_step

    def state_hash(self, state: object) -> bytes:
        return _state(state).hash

    def state_height(self, state: object) -> int:
        return int(_state(state).height)

    def state_time_ms(self, state: object) -> int:
        return int(_state(state).timestamp) * 1000

    def trusting_period(self, client: object) -> int:
        if not isinstance(client, EvmClientState):
            raise ConfigError("not an EVM client state")
        return int(client.trusting_period)

    def header_hash(self, header: HeaderUpdate) -> bytes:
        return self.light_client.policy.compute_hash(decode_header(header.encoded))

    def parent_hash(self, header: HeaderUpdate) -> bytes:
        return bytes(decode_header(header.encoded).parent_hash)


def _state(state: object) -> EvmConsensusState:
    if not isinstance(state, EvmConsensusState):
        raise ConfigError("not an EVM consensus state")
    return state


__all__ = ["EvmClientCodec"]
