"""Persistence of the ChainMaker light client's states (``core.seams.ClientCodec``).

* client state: JSON of the trusting parameters and every trusted configuration
  (validators with pinned certificates or keys, org CAs, hash and auth type), so
  a stored client anchors and verifies without the trust file;
* consensus state: JSON of the verified block (height, hash, time), the header's
  protobuf bytes (for the proof roots) and the configuration in force after it
  (which a configuration block may have rotated).

Decoding rebuilds every configuration through ``compute_chain_trust`` (its
checks run again) and re-checks that the stored header hashes to the stored
hash, so damaged bytes raise ``BadEncoding`` instead of being misread.
"""

from __future__ import annotations

from typing import Any

from adapters.chainmaker.light_client import (
    ChainMakerClient,
    ChainMakerConsensus,
    decode_header,
    decode_update,
)
from adapters.codec_util import json_bytes, json_object
from core.errors import BadEncoding, ConfigError, InvalidInput, RootMismatch, VerificationError
from core.types import HeaderUpdate
from proofs.chainmaker.encoding import compute_block_hash, encode
from proofs.chainmaker.identity import ChainTrust, compute_chain_trust
from proofs.chainmaker.light_client import ClientState, TrustedBlock
from proofs.hashing import HashFunction


class ChainMakerClientCodec:
    """``ClientCodec`` of one ChainMaker chain (its trusted configurations from its settings)."""

    min_height = 1

    def __init__(self, client: ChainMakerClient) -> None:
        self.client = client

    def initial_client_state(self, trusting_period: int, max_clock_drift: int) -> ChainMakerClient:
        return self.client  # the chain's settings fix the trusting period and the trust

    def encode_client(self, state: object) -> bytes:
        client = _client(state)
        return json_bytes(
            {
                "chain_id": client.params.chain_id,
                "trusting_period_s": client.params.trusting_period_s,
                "max_clock_drift_s": client.params.max_clock_drift_s,
                "configs": [encode_trust(t) for _, t in sorted(client.trusts.items())],
            }
        )

    def decode_client(self, data: bytes) -> ChainMakerClient:
        doc = json_object(data, "ChainMaker client state")
        try:
            params = ClientState(
                chain_id=str(doc["chain_id"]),
                trusting_period_s=int(doc["trusting_period_s"]),
                max_clock_drift_s=int(doc["max_clock_drift_s"]),
            )
            trusts = [decode_trust(c) for c in doc["configs"]]
        except (KeyError, TypeError, ValueError, InvalidInput) as err:
            raise BadEncoding("stored ChainMaker client state is damaged") from err
        return ChainMakerClient(params, {t.config_height: t for t in trusts})

    def encode_consensus(self, state: object) -> bytes:
        block = _consensus(state)
        return json_bytes(
            {
                "height": block.trusted.height,
                "block_hash": block.trusted.block_hash.hex(),
                "timestamp": block.trusted.timestamp,
                "header": block.header.hex(),
                "trust": encode_trust(block.trusted.trust),
            }
        )

    def decode_consensus(self, data: bytes, client: object) -> ChainMakerConsensus:
        doc = json_object(data, "ChainMaker consensus state")
        try:
            header_bytes = bytes.fromhex(doc["header"])
            trust = decode_trust(doc["trust"])
            trusted = TrustedBlock(
                height=int(doc["height"]),
                block_hash=bytes.fromhex(doc["block_hash"]),
                timestamp=int(doc["timestamp"]),
                trust=trust,
            )
            header = decode_header(header_bytes)
        except (KeyError, TypeError, ValueError, InvalidInput, VerificationError) as err:
            raise BadEncoding("stored ChainMaker consensus state is damaged") from err
        if (
            compute_block_hash(header, trust.hash_fn) != trusted.block_hash
            or header.block_height != trusted.height
            or header.block_timestamp != trusted.timestamp
        ):
            raise BadEncoding("stored ChainMaker consensus state does not match its header")
        return ChainMakerConsensus(trusted, header_bytes)

    def anchor(
        self, client: object, header: HeaderUpdate, trusted_hash: bytes, now: int
    ) -> ChainMakerConsensus:
        """The state of ``header`` under the trusted configuration its ``pre_conf_height``
        names; only the hash is checked (it is trusted), not the certificate."""
        info = decode_update(header)
        parsed = info.block.header
        trust = _client(client).trust_at(parsed.pre_conf_height)
        block_hash = compute_block_hash(parsed, trust.hash_fn)
        if block_hash != trusted_hash:
            raise RootMismatch(
                f"header {parsed.block_height} does not hash to the trusted hash",
                check="checkpoint",
            )
        trusted = TrustedBlock(parsed.block_height, block_hash, parsed.block_timestamp, trust)
        return ChainMakerConsensus(trusted, encode(parsed))

    def max_step(self) -> int | None:
        return None  # TBFT blocks are final: any certified block verifies from a trusted one

    def state_hash(self, state: object) -> bytes:
        return _consensus(state).trusted.block_hash

    def state_height(self, state: object) -> int:
        return _consensus(state).trusted.height

    def state_time_ms(self, state: object) -> int:
        return _consensus(state).trusted.timestamp * 1000

    def trusting_period(self, client: object) -> int:
        return _client(client).params.trusting_period_s

    def header_hash(self, header: HeaderUpdate) -> bytes:
        parsed = decode_header(header.encoded)
        return compute_block_hash(parsed, self._hash_for(parsed.pre_conf_height))

    def parent_hash(self, header: HeaderUpdate) -> bytes:
        return bytes(decode_header(header.encoded).pre_block_hash)

    def _hash_for(self, config_height: int) -> HashFunction:
        trust = self.client.trusts.get(config_height) or next(iter(self.client.trusts.values()))
        return trust.hash_fn


def encode_trust(trust: ChainTrust) -> dict[str, Any]:
    """A configuration as the JSON ``compute_chain_trust`` reads (DER in hex)."""
    return {
        "chain_id": trust.chain_id,
        "config_height": trust.config_height,
        "hash_type": trust.hash_type,
        "auth_type": trust.auth_type,
        "validators": [
            {
                "node_id": v.node_id,
                "org_id": v.org_id,
                **({"pinned_der": v.pinned.hex()} if v.pinned is not None else {}),
            }
            for v in trust.validators
        ],
        "org_cas": {org: [ca.hex() for ca in cas] for org, cas in sorted(trust.org_cas.items())},
    }


def decode_trust(doc: dict[str, Any]) -> ChainTrust:
    """The configuration :func:`encode_trust` wrote, re-checked by ``compute_chain_trust``."""
    validators = [
        {
            "node_id": v["node_id"],
            "org_id": v["org_id"],
            **({"pinned_cert": bytes.fromhex(v["pinned_der"])} if "pinned_der" in v else {}),
        }
        for v in doc["validators"]
    ]
    org_cas = {org: [bytes.fromhex(ca) for ca in cas] for org, cas in doc["org_cas"].items()}
    return compute_chain_trust({**doc, "validators": validators, "org_cas": org_cas})


def _client(state: object) -> ChainMakerClient:
    if not isinstance(state, ChainMakerClient):
        raise ConfigError("not a ChainMaker client state")
    return state


def _consensus(state: object) -> ChainMakerConsensus:
    if not isinstance(state, ChainMakerConsensus):
        raise ConfigError("not a ChainMaker consensus state")
    return state


__all__ = ["ChainMakerClientCodec", "decode_trust", "encode_trust"]
