"""Persistence of the FISCO BCOS 2.x light client's states (``core.seams.ClientCodec``).

* client state: JSON ``{chain_id, group_id, trusting_period, max_clock_drift}``
  (a frozen client is persisted by the follower's record, not here);
* consensus state: JSON of ``FiscoConsensusState`` (hex fields), decoded with
  every size checked again, so a damaged file is ``BadEncoding``, never misread.

``anchor`` trusts a header under a hash known out of band; when the chain's
settings pin a sealer list (a trust file), the anchored header must carry it.
"""

from __future__ import annotations

from adapters.codec_util import json_bytes, json_object
from adapters.fisco.light_client import (
    FiscoClientState,
    FiscoConsensusState,
    consensus_state_of,
    decode_update,
)
from core.errors import BadEncoding, ConfigError, RootMismatch
from core.types import HeaderUpdate
from proofs.fisco.errors import SealerListMismatch
from proofs.fisco.header import compute_header_hash


class FiscoClientCodec:
    """``ClientCodec`` of one FISCO group (trust options and pinned sealers from its settings)."""

    min_height = 1  # block 0 (genesis) carries no signatures: anchors start at block 1

    def __init__(
        self, client_state: FiscoClientState, trusted_sealers: tuple[bytes, ...] | None
    ) -> None:
        self.client_state = client_state
        self.trusted_sealers = trusted_sealers

    def initial_client_state(self, trusting_period: int, max_clock_drift: int) -> FiscoClientState:
        return self.client_state  # the chain's settings fix the trust options

    def encode_client(self, state: object) -> bytes:
        if not isinstance(state, FiscoClientState):
            raise ConfigError("not a FISCO client state")
        return json_bytes(
            {
                "chain_id": state.chain_id,
                "group_id": state.group_id,
                "trusting_period": state.trusting_period,
                "max_clock_drift": state.max_clock_drift,
            }
        )

    def decode_client(self, data: bytes) -> FiscoClientState:
        doc = json_object(data, "FISCO client state")
        try:
            return FiscoClientState(
                chain_id=_text(doc["chain_id"]),
                group_id=_count(doc["group_id"]),
                trusting_period=_count(doc["trusting_period"]),
                max_clock_drift=_count(doc["max_clock_drift"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise BadEncoding("stored FISCO client state lacks a field") from err

    def encode_consensus(self, state: object) -> bytes:
        s = _state(state)
        return json_bytes(
            {
                "number": s.number,
                "hash": s.hash.hex(),
                "timestamp_ms": s.timestamp_ms,
                "sealers": [k.hex() for k in s.sealers],
                "transactions_root": s.transactions_root.hex(),
                "receipts_root": s.receipts_root.hex(),
            }
        )

    def decode_consensus(self, data: bytes, client: object) -> FiscoConsensusState:
        doc = json_object(data, "FISCO consensus state")
        try:
            sealers = tuple(_hex(k, 64) for k in doc["sealers"])
            if not sealers:
                raise ValueError("no sealers")
            return FiscoConsensusState(
                number=_count(doc["number"]),
                hash=_hex(doc["hash"], 32),
                timestamp_ms=_count(doc["timestamp_ms"]),
                sealers=sealers,
                transactions_root=_hex(doc["transactions_root"], 32),
                receipts_root=_hex(doc["receipts_root"], 32),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise BadEncoding("stored FISCO consensus state lacks a field") from err

    def anchor(
        self, client: object, header: HeaderUpdate, trusted_hash: bytes, now: int
    ) -> FiscoConsensusState:
        parsed = decode_update(header)
        if compute_header_hash(parsed) != trusted_hash:
            raise RootMismatch(
                f"header {parsed.number} does not hash to the trusted hash", check="checkpoint"
            )
        if self.trusted_sealers is not None and parsed.sealer_list != self.trusted_sealers:
            raise SealerListMismatch("the checkpoint's sealer list is not the trusted one")
        return consensus_state_of(parsed)

    def max_step(self) -> int | None:
        return None  # any later header verifies by its quorum; the follower bisects on a change

    def state_hash(self, state: object) -> bytes:
        return _state(state).hash

    def state_height(self, state: object) -> int:
        return _state(state).number

    def state_time_ms(self, state: object) -> int:
        return _state(state).timestamp_ms

    def trusting_period(self, client: object) -> int:
        if not isinstance(client, FiscoClientState):
            raise ConfigError("not a FISCO client state")
        return int(client.trusting_period)

    def header_hash(self, header: HeaderUpdate) -> bytes:
        return compute_header_hash(decode_update(header))

    def parent_hash(self, header: HeaderUpdate) -> bytes:
        return decode_update(header).parent_hash


def _state(state: object) -> FiscoConsensusState:
    if not isinstance(state, FiscoConsensusState):
        raise ConfigError("not a FISCO consensus state")
    return state


def _hex(value: object, size: int) -> bytes:
    if not isinstance(value, str):
        raise TypeError("not hex text")
    raw = bytes.fromhex(value)
    if len(raw) != size:
        raise ValueError(f"{len(raw)} bytes, not {size}")
    return raw


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError("not a non-negative integer")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("not text")
    return value


__all__ = ["FiscoClientCodec"]
