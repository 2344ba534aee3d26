"""Persistence of the CometBFT light client's states (``core.seams.ClientCodec``).

* client state: JSON ``{chain_id, trusting_period_ns, max_clock_drift_ns,
  trust_level}`` (a frozen client is persisted by the follower's record, not here);
* consensus state: JSON of ``TrustedBlock`` with the next validator set in
  the RPC's own shape (``{"validators": [{address, pub_key, voting_power}]}``),
  so loading it runs ``ValidatorSet.from_json``'s checks again and
  ``TrustedBlock`` re-checks that the set hashes to ``next_validators_hash``.
"""

from __future__ import annotations

import base64
from fractions import Fraction

from adapters.codec_util import json_bytes, json_object
from core.errors import BadEncoding, ConfigError, RootMismatch
from core.types import HeaderUpdate
from proofs.cometbft.hashing import header_hash
from proofs.cometbft.light_client import CometClientState, decode_envelope
from proofs.cometbft.types import Header, ValidatorSet
from proofs.cometbft.verifier import TrustedBlock, TrustOptions

NS = 1_000_000_000


class CometBftClientCodec:
    """``ClientCodec`` of one CometBFT chain (its trust options from the chain's settings)."""

    min_height = 1

    def __init__(self, client_state: CometClientState) -> None:
        self.client_state = client_state

    def initial_client_state(self, trusting_period: int, max_clock_drift: int) -> CometClientState:
        return self.client_state  # the chain's settings fix the trust options

    def encode_client(self, state: object) -> bytes:
        if not isinstance(state, CometClientState):
            raise ConfigError("not a CometBFT client state")
        options = state.options
        return json_bytes(
            {
                "chain_id": state.chain_id,
                "trusting_period_ns": options.trusting_period_ns,
                "max_clock_drift_ns": options.max_clock_drift_ns,
                "trust_level": str(options.trust_level),
            }
        )

    def decode_client(self, data: bytes) -> CometClientState:
        doc = json_object(data, "CometBFT client state")
        try:
            options = TrustOptions(
                trusting_period_ns=int(doc["trusting_period_ns"]),
                max_clock_drift_ns=int(doc["max_clock_drift_ns"]),
                trust_level=Fraction(str(doc["trust_level"])),
            )
            return CometClientState(chain_id=str(doc["chain_id"]), options=options)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as err:
            raise BadEncoding("stored CometBFT client state lacks a field") from err

    def encode_consensus(self, state: object) -> bytes:
        block = _state(state)
        return json_bytes(
            {
                "chain_id": block.chain_id,
                "height": block.height,
                "time_ns": block.time_ns,
                "hash": block.hash.hex(),
                "app_hash": block.app_hash.hex(),
                "next_validators_hash": block.next_validators_hash.hex(),
                "next_validators": {
                    "validators": [
                        {
                            "address": v.address.hex().upper(),
                            "pub_key": {
                                "type": "tendermint/PubKeyEd25519",
                                "value": base64.b64encode(v.pub_key).decode(),
                            },
                            "voting_power": str(v.voting_power),
                        }
                        for v in block.next_validators.validators
                    ]
                },
            }
        )

    def decode_consensus(self, data: bytes, client: object) -> TrustedBlock:
        doc = json_object(data, "CometBFT consensus state")
        try:
            validators = ValidatorSet.from_json(doc["next_validators"])
            block = TrustedBlock(
                chain_id=str(doc["chain_id"]),
                height=int(doc["height"]),
                time_ns=int(doc["time_ns"]),
                hash=bytes.fromhex(doc["hash"]),
                app_hash=bytes.fromhex(doc["app_hash"]),
                next_validators_hash=bytes.fromhex(doc["next_validators_hash"]),
                next_validators=validators,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise BadEncoding("stored CometBFT consensus state lacks a field") from err
        return block

    def anchor(
        self, client: object, header: HeaderUpdate, trusted_hash: bytes, now: int
    ) -> TrustedBlock:
        block = decode_envelope(header)
        if header_hash(block.header) != trusted_hash:
            raise RootMismatch(
                f"header {block.height} does not hash to the trusted hash", check="checkpoint"
            )
        if block.next_validators is None:
            raise BadEncoding("a CometBFT anchor needs the next validator set")
        return TrustedBlock.from_signed_header(block.signed_header, block.next_validators)

    def max_step(self) -> int | None:
        return None  # skipping verification (trust level), bisection on failure

    def state_hash(self, state: object) -> bytes:
        return _state(state).hash

    def state_height(self, state: object) -> int:
        return _state(state).height

    def state_time_ms(self, state: object) -> int:
        return _state(state).time_ns // 1_000_000

    def trusting_period(self, client: object) -> int:
        if not isinstance(client, CometClientState):
            raise ConfigError("not a CometBFT client state")
        return client.options.trusting_period_ns // 1_000_000_000

    def header_hash(self, header: HeaderUpdate) -> bytes:
        return header_hash(decode_envelope(header).header)

    def parent_hash(self, header: HeaderUpdate) -> bytes:
        parsed: Header = decode_envelope(header).header
        return parsed.last_block_id.hash


def _state(state: object) -> TrustedBlock:
    if not isinstance(state, TrustedBlock):
        raise ConfigError("not a CometBFT consensus state")
    return state


__all__ = ["CometBftClientCodec"]
