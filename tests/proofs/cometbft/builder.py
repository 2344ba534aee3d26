"""Signed CometBFT light blocks made in the test, in RPC JSON (for cases no vector has).

Misbehaviour needs two valid conflicting headers, which no vector holds; this
builder signs them with deterministic ed25519 keys through the package's own
encodings, which the real vectors pin down (every vector signature verifies
over those sign-bytes, the known header hash is reproduced).
"""

from __future__ import annotations

import base64
from typing import Any

from nacl.signing import SigningKey

from proofs.cometbft.encoding import vote_sign_bytes
from proofs.cometbft.hashing import header_hash, validator_set_hash
from proofs.cometbft.types import BlockId, Header, ValidatorSet, address_of, format_time

CHAIN = "builder-chain"


def keys(n: int, offset: int = 0) -> list[SigningKey]:
    return [SigningKey(bytes([i + 1 + offset]) * 32) for i in range(n)]


def validator_set_json(signers: list[SigningKey], power: int = 10) -> dict[str, Any]:
    return {
        "validators": [
            {
                "address": address_of(bytes(k.verify_key)).hex().upper(),
                "pub_key": {
                    "type": "tendermint/PubKeyEd25519",
                    "value": base64.b64encode(bytes(k.verify_key)).decode(),
                },
                "voting_power": str(power),
            }
            for k in signers
        ]
    }


def light_block(
    height: int,
    time_s: int,
    signers: list[SigningKey],
    next_signers: list[SigningKey] | None = None,
    *,
    app_hash: bytes = b"",
    chain_id: str = CHAIN,
    sign_with: list[SigningKey] | None = None,
) -> dict[str, Any]:
    """A light block at ``height`` signed by ``sign_with`` (default: all of ``signers``)."""
    vals = validator_set_json(signers)
    nxt = validator_set_json(next_signers if next_signers is not None else signers)
    vals_hash = validator_set_hash(ValidatorSet.from_json(vals))
    next_hash = validator_set_hash(ValidatorSet.from_json(nxt))
    header_json: dict[str, Any] = {
        "version": {"block": "11", "app": "0"},
        "chain_id": chain_id,
        "height": str(height),
        "time": format_time(time_s * 1_000_000_000),
        "last_block_id": None,
        "last_commit_hash": "",
        "data_hash": "",
        "validators_hash": vals_hash.hex().upper(),
        "next_validators_hash": next_hash.hex().upper(),
        "consensus_hash": vals_hash.hex().upper(),
        "app_hash": app_hash.hex().upper(),
        "last_results_hash": "",
        "evidence_hash": "",
        "proposer_address": address_of(bytes(signers[0].verify_key)).hex().upper(),
    }
    block_hash = header_hash(Header.from_json(header_json))
    block_id = BlockId(block_hash, 1, block_hash)
    voting = sign_with if sign_with is not None else signers
    ordered = ValidatorSet.from_json(vals).validators
    by_address = {address_of(bytes(k.verify_key)): k for k in voting}
    sigs = []
    for v in ordered:
        key = by_address.get(v.address)
        if key is None:
            sigs.append(
                {"block_id_flag": 1, "validator_address": "", "timestamp": None, "signature": None}
            )
            continue
        msg = vote_sign_bytes(chain_id, height, 0, block_id, time_s * 1_000_000_000)
        sigs.append(
            {
                "block_id_flag": 2,
                "validator_address": v.address.hex().upper(),
                "timestamp": format_time(time_s * 1_000_000_000),
                "signature": base64.b64encode(key.sign(msg).signature).decode(),
            }
        )
    commit = {
        "height": str(height),
        "round": 0,
        "block_id": {
            "hash": block_hash.hex().upper(),
            "part_set_header": {"total": 1, "hash": block_hash.hex().upper()},
        },
        "signatures": sigs,
    }
    return {
        "signed_header": {"header": header_json, "commit": commit},
        "validator_set": vals,
        "next_validator_set": nxt,
    }
