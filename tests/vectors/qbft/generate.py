"""Generate the QBFT / IBFT 2.0 seal vectors in this folder (``*.json``).

No public QBFT chain data was available when the EVM light client was built,
so these vectors are synthetic: a short chain sealed by deterministic test
keys, plus invalid variants that each break one thing. The generator encodes
headers and ``extraData`` itself with ``rlp`` and ``coincurve`` (not with
``proofs.evm``), following Hyperledger Besu's ``QbftExtraDataCodec``,
``IbftExtraDataCodec`` and ``BftBlockHashing``, so the vectors check the
library against an independent encoding rather than against itself.

Run from the repository root::

    .venv/bin/python tests/vectors/qbft/generate.py

Output is deterministic (RFC 6979 signatures); ``tests/proofs/evm/test_bft.py``
regenerates the vectors in memory and fails if the committed files differ.
The private keys are test keys published here: never use them elsewhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import rlp
from coincurve import PrivateKey
from eth_hash.backends.pycryptodome import backend as _keccak_backend

HERE = Path(__file__).resolve().parent
MIX_HASH = bytes.fromhex("63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365")
EMPTY_OMMERS = _keccak_backend.keccak256(rlp.encode([]))
EMPTY_TRIE = _keccak_backend.keccak256(rlp.encode(b""))
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GENESIS_TIME = 1_700_000_000
BLOCK_PERIOD = 2


def keccak(data: bytes) -> bytes:
    return _keccak_backend.keccak256(data)


def key(label: str) -> PrivateKey:
    return PrivateKey(keccak(f"pujiang-gateway qbft test key {label}".encode()))


def address(private_key: PrivateKey) -> bytes:
    return keccak(private_key.public_key.format(compressed=False)[1:])[12:]


def scalar(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


# --- extraData (Besu codecs) ------------------------------------------------------------


def extra_items(
    variant: str,
    validators: list[bytes],
    vote: tuple[bytes, bool] | None,
    round_: int,
    seals: list[bytes] | None,
    *,
    vanity: bytes = bytes(32),
    with_round: bool = True,
) -> list[Any]:
    """The extraData list. ``seals=None``: the committed-seal form; ``with_round=False``:
    the on-chain-hash form."""
    if variant == "qbft":
        vote_item: Any = [] if vote is None else [vote[0], b"\xff" if vote[1] else b""]
        round_item = scalar(round_) if with_round else b""
        return [vanity, validators, vote_item, round_item, [] if seals is None else seals]
    vote_item = b"" if vote is None else [vote[0], b"\xff" if vote[1] else b"\x00"]
    items: list[Any] = [vanity, validators, vote_item]
    if with_round:
        items.append(round_.to_bytes(4, "big"))
        if seals is not None:
            items.append(seals)
    return items


# --- headers ------------------------------------------------------------------------------


def header_fields(
    layout: str, number: int, parent_hash: bytes, extra: bytes, **overrides: Any
) -> list[Any]:
    fields = {
        "parentHash": parent_hash,
        "sha3Uncles": EMPTY_OMMERS,
        "miner": overrides.pop("miner", bytes(20)),
        "stateRoot": keccak(b"state %d" % number),
        "transactionsRoot": EMPTY_TRIE,
        "receiptsRoot": EMPTY_TRIE,
        "logsBloom": bytes(256),
        "difficulty": 1,
        "number": number,
        "gasLimit": 30_000_000,
        "gasUsed": 0,
        "timestamp": GENESIS_TIME + BLOCK_PERIOD * number,
        "extraData": extra,
        "mixHash": MIX_HASH,
        "nonce": bytes(8),
    }
    if layout == "london":
        fields["baseFeePerGas"] = 0
    fields.update(overrides)
    return list(fields.items())


def rpc(fields: list[tuple[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in fields:
        out[name] = hex(value) if isinstance(value, int) else "0x" + value.hex()
    return out


def encode(fields: list[tuple[str, Any]]) -> bytes:
    return rlp.encode([value for _, value in fields])


def with_extra(fields: list[tuple[str, Any]], extra: bytes) -> list[tuple[str, Any]]:
    return [(name, extra if name == "extraData" else value) for name, value in fields]


class Block:
    """One sealed header and the values the tests check."""

    def __init__(
        self,
        variant: str,
        layout: str,
        number: int,
        parent_hash: bytes,
        validators: list[bytes],
        signers: list[PrivateKey],
        *,
        vote: tuple[bytes, bool] | None = None,
        round_: int = 0,
        seal_round: int | None = None,
        vanity: bytes = bytes(32),
        **overrides: Any,
    ) -> None:
        def extra(
            seals: list[bytes] | None, *, with_round: bool = True, rnd: int = round_
        ) -> bytes:
            items = extra_items(
                variant, validators, vote, rnd, seals, vanity=vanity, with_round=with_round
            )
            return rlp.encode(items)

        miner = validators[number % len(validators)] if validators else bytes(20)
        base = header_fields(layout, number, parent_hash, b"", miner=miner, **overrides)
        digest_round = round_ if seal_round is None else seal_round
        self.seal_hash = keccak(encode(with_extra(base, extra(None, rnd=digest_round))))
        self.seals = [sign(k, self.seal_hash) for k in signers]
        self.fields = with_extra(base, extra(self.seals))
        self.hash = keccak(encode(with_extra(base, extra(None, with_round=False))))
        self.real_seal_hash = keccak(encode(with_extra(base, extra(None))))

    def json(self) -> dict[str, str]:
        out = rpc(self.fields)
        out["hash"] = "0x" + self.hash.hex()
        out["sealHash"] = "0x" + self.real_seal_hash.hex()
        return out

    def reseal(self, variant: str, seals: list[bytes]) -> dict[str, str]:
        """The same header with other seal bytes (hash unchanged: seals are not hashed)."""
        items = rlp.decode(dict(self.fields)["extraData"])
        items[-1] = seals
        out = rpc(with_extra(self.fields, rlp.encode(items)))
        out["hash"] = "0x" + self.hash.hex()
        return out


def sign(private_key: PrivateKey, digest: bytes) -> bytes:
    return private_key.sign_recoverable(digest, hasher=None)


def genesis(variant: str, layout: str, validators: list[bytes]) -> dict[str, str]:
    extra = rlp.encode(extra_items(variant, validators, None, 0, []))
    fields = header_fields(layout, 0, bytes(32), extra)
    out = rpc(fields)
    out["hash"] = "0x" + keccak(encode(fields)).hex()  # block 0 is hashed as is
    return out


def high_s(seal: bytes) -> bytes:
    s = int.from_bytes(seal[32:64], "big")
    return seal[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([seal[64] ^ 1])


# --- the vector sets ----------------------------------------------------------------------


def build_chain(variant: str, layout: str) -> dict[str, Any]:
    keys = [key(f"{variant}-validator-{i}") for i in range(5)]
    outsiders = [key(f"{variant}-outsider-{i}") for i in range(4)]
    v = [address(k) for k in keys]
    o = [address(k) for k in outsiders]
    four, five = v[:4], v[:5]
    gen = genesis(variant, layout, four)
    g_hash = bytes.fromhex(gen["hash"][2:])
    b1 = Block(variant, layout, 1, g_hash, four, keys[0:3])
    b2 = Block(variant, layout, 2, b1.hash, four, keys[1:4], vote=(v[4], True), round_=1)
    b3 = Block(variant, layout, 3, b2.hash, five, [keys[0], keys[2], keys[3], keys[4]])
    b4 = Block(variant, layout, 4, b3.hash, five, keys[1:5], vote=(v[3], False))
    chain = [b1, b2, b3, b4]

    invalid: list[dict[str, Any]] = []

    def case(name: str, index: int, header: dict[str, str], error: str, why: str, **extra: Any):
        invalid.append(
            {"name": name, "replaces": index, "header": header, "error": error, "why": why} | extra
        )

    case(
        "too_few_seals",
        1,
        Block(variant, layout, 1, g_hash, four, keys[0:2]).json(),
        "InsufficientPower",
        "2 seals where ceil(2*4/3) = 3 are needed",
    )
    case(
        "duplicate_seal",
        1,
        b1.reseal(variant, [b1.seals[0], b1.seals[1], b1.seals[0]]),
        "BadSignature",
        "validator 0 seals twice (3 seals, 2 signers)",
    )
    case(
        "non_validator_seal",
        1,
        Block(variant, layout, 1, g_hash, four, [outsiders[0], keys[1], keys[2]]).json(),
        "BadSignature",
        "one seal is by a key outside the validator set",
    )
    case(
        "high_s_seal",
        1,
        b1.reseal(variant, [high_s(b1.seals[0]), b1.seals[1], b1.seals[2]]),
        "BadSignature",
        "seal 0 replaced by its malleated twin (n - s, recovery id flipped)",
    )
    case(
        "bad_recovery_id",
        1,
        b1.reseal(variant, [b1.seals[0][:64] + b"\x1b", b1.seals[1], b1.seals[2]]),
        "BadSignature",
        "seal 0 has v = 27 (Besu and GoQuorum use 0/1)",
    )
    case(
        "seal_over_other_round",
        2,
        Block(
            variant, layout, 2, b1.hash, four, keys[1:4], vote=(v[4], True), round_=1, seal_round=0
        ).json(),
        "BadSignature",
        "seals sign the round-0 digest but the header says round 1",
    )
    tampered = [(n, val) for n, val in b1.fields]
    tampered = [(n, keccak(b"forged") if n == "stateRoot" else val) for n, val in tampered]
    case(
        "tampered_state_root",
        1,
        rpc(tampered),
        "BadSignature",
        "stateRoot changed after sealing: the seals recover to other addresses",
    )
    case(
        "seals_of_previous_block",
        2,
        Block(variant, layout, 2, b1.hash, four, keys[1:4], vote=(v[4], True), round_=1).reseal(
            variant, b1.seals
        ),
        "BadSignature",
        "block 2 carries block 1's seals",
    )
    plain_parent = keccak(encode(b1.fields))
    case(
        "parent_hash_is_plain_keccak",
        2,
        Block(
            variant, layout, 2, plain_parent, four, keys[1:4], vote=(v[4], True), round_=1
        ).json(),
        "RootMismatch",
        "parentHash is keccak(rlp(block 1)) with its seals, not the BFT block hash",
        check="parent-hash",
    )
    case(
        "bad_mix_hash",
        1,
        Block(variant, layout, 1, g_hash, four, keys[0:3], mixHash=bytes(32)).json(),
        "InvalidHeader",
        "mixHash is not the BFT constant",
        check="bft-mix-hash",
    )
    case(
        "bad_difficulty",
        1,
        Block(variant, layout, 1, g_hash, four, keys[0:3], difficulty=2).json(),
        "InvalidHeader",
        "difficulty is not 1",
        check="bft-difficulty",
    )
    case(
        "short_vanity",
        1,
        Block(variant, layout, 1, g_hash, four, keys[0:3], vanity=bytes(31)).json(),
        "BadEncoding",
        "vanity is 31 bytes",
    )
    case(
        "validator_set_takeover",
        3,
        Block(variant, layout, 3, b2.hash, o, outsiders).json(),
        "InsufficientPower",
        "block 3 lists 4 new validators who all seal it; none of the trusted ones does",
    )
    case(
        "wrong_number",
        2,
        Block(variant, layout, 3, b1.hash, four, keys[1:4]).json(),
        "InvalidHeader",
        "block after 1 is numbered 3",
        check="number",
    )
    validators = [
        {"address": "0x" + address(k).hex(), "private_key": "0x" + k.secret.hex()} for k in keys
    ]
    outsider_keys = [
        {"address": "0x" + address(k).hex(), "private_key": "0x" + k.secret.hex()}
        for k in outsiders
    ]
    return {
        "_generated_by": "tests/vectors/qbft/generate.py (synthetic; test keys only)",
        "variant": variant,
        "layout": layout,
        "validators": validators,
        "outsiders": outsider_keys,
        "genesis": gen,
        "headers": [b.json() for b in chain],
        "expected_validators": [
            ["0x" + a.hex() for a in four],
            ["0x" + a.hex() for a in four],
            ["0x" + a.hex() for a in five],
            ["0x" + a.hex() for a in five],
        ],
        "invalid": invalid,
    }


def build_vectors() -> dict[str, dict[str, Any]]:
    """File name -> content of every vector file."""
    return {
        "qbft_chain.json": build_chain("qbft", "london"),
        "ibft2_chain.json": build_chain("ibft2", "legacy"),
    }


def render(content: dict[str, Any]) -> str:
    return json.dumps(content, indent=1, sort_keys=False) + "\n"


def main() -> int:
    for name, content in build_vectors().items():
        (HERE / name).write_text(render(content))
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
