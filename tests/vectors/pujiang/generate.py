"""Generate the Pujiang light-client vectors in this folder (``*.json``).

The chain is synthetic (no public Pujiang chain data exists): eight blocks of a
``sha256`` subchain whose validator set rotates at height 5, a three-block
``sm3`` chain, and invalid variants that each break one thing. Everything is
encoded here with ``rlp`` raw lists, ``hashlib`` / pyca's SM3 and a small
RFC 6962 tree of this file's own — not with ``proofs.pujiang`` — so the
vectors check the light client and its codec against an independent reading
of ``docs/pujiang-chain.md``. Only BLS comes from the project's facade
(``keygen``, ``sk_to_pk``, ``sign``, ``aggregate``, ``pop_prove``), whose
outputs are deterministic and held to the eth-bls12-381 vectors.

Run from the repository root::

    .venv/bin/python tests/vectors/pujiang/generate.py

Output is deterministic; ``tests/proofs/pujiang/test_vectors.py`` regenerates
the files in memory and fails if the committed ones differ. The secret keys
come from published seeds: test keys, never use them elsewhere.

File format (every byte string is ``0x`` hex; ``expect`` is either
``{"ok": ...}`` or ``{"error": <core.errors code>, "check": <details["check"]>}``):

* ``chain.json``: ``chain_id``, ``hash_profile``, ``client`` parameters,
  ``checkpoint`` (height, hash, now_ms), ``blocks`` (height, hash, header,
  commit, validators: the set signing that height), ``updates`` (valid
  ``verify_header`` calls from a trusted height) and ``bisection``.
* ``chain_sm3.json``: the same shape for the national-crypto profile.
* ``headers.json``: ``cases`` of ``checkpoint`` and ``verify_header`` calls
  with one broken field each (``trusted_height`` refers to ``chain.json``).
* ``proofs.json``: event, state membership and non-membership proofs
  (``event_proof``, ``state_proof``, ``state_absence_proof`` RLP) at a height
  of ``chain.json``, valid and invalid.
* ``misbehaviour.json``: ``process_update`` (with ``known`` verified heights)
  and ``check_misbehaviour`` calls; ``expect.frozen`` names the evidence kind.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import rlp
from cryptography.hazmat.primitives import hashes

import proofs.bls as bls

HERE = Path(__file__).resolve().parent
CHAIN_ID = b"pujiang-vectors"
OTHER_CHAIN_ID = b"pujiang-other"
GENESIS_MS = 1_700_000_000_000
BLOCK_MS = 1_000
TRUSTING_PERIOD_MS = 7 * 24 * 3600 * 1000
MAX_CLOCK_DRIFT_MS = 10_000
LATER_MS = 5_000  # "now" in a valid update: this long after the header
COMMIT_TAG = b"pujiang/commit/v1"
ZERO = bytes(32)
BACKEND = "auto"  # signatures are deterministic: every backend gives the same bytes

Hash = Callable[[bytes], bytes]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def hx(data: bytes) -> str:
    return "0x" + data.hex()


# --- RFC 6962, written out (RFC 6962 §2.1) -------------------------------------------


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes], h: Hash) -> bytes:
    if not leaves:
        return h(b"")
    if len(leaves) == 1:
        return h(b"\x00" + leaves[0])
    k = _split(len(leaves))
    return h(b"\x01" + mth(leaves[:k], h) + mth(leaves[k:], h))


def audit_path(leaves: Sequence[bytes], index: int, h: Hash) -> list[bytes]:
    """RFC 6962 ``PATH(m, D[n])``, leaf side first."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*audit_path(leaves[:k], index, h), mth(leaves[k:], h)]
    return [*audit_path(leaves[k:], index - k, h), mth(leaves[:k], h)]


# --- keys and sets -----------------------------------------------------------------------


@cache
def key(i: int) -> tuple[int, bytes, bytes]:
    """Test validator ``i``: (secret key, public key, proof of possession)."""
    seed = sha256(f"pujiang-gateway light-client vector key {i}".encode())
    sk = bls.keygen(seed)
    return sk, bls.sk_to_pk(sk, backend=BACKEND), bls.pop_prove(sk, backend=BACKEND)


@dataclass(frozen=True)
class ValSet:
    """Members as (key index, power), sorted by public key as the format requires."""

    members: tuple[tuple[int, int], ...]

    @staticmethod
    def of(pairs: Sequence[tuple[int, int]]) -> ValSet:
        return ValSet(tuple(sorted(pairs, key=lambda p: key(p[0])[1])))

    def items(self) -> list[list[Any]]:
        return [[key(i)[1], power, key(i)[2]] for i, power in self.members]

    def encode(self) -> bytes:
        return rlp.encode(self.items())

    def hash(self, h: Hash) -> bytes:
        return mth([rlp.encode([key(i)[1], power]) for i, power in self.members], h)

    def position(self, key_index: int) -> int:
        return [i for i, _ in self.members].index(key_index)


def bitmap(positions: Sequence[int], size: int) -> bytes:
    out = bytearray((size + 7) // 8)
    for p in positions:
        out[p // 8] |= 1 << (p % 8)
    return bytes(out)


def payload(chain_id: bytes, height: int, round_: int, header_hash: bytes) -> bytes:
    return rlp.encode([COMMIT_TAG, chain_id, height, round_, header_hash])


def sign_commit(
    valset: ValSet,
    height: int,
    header_hash: bytes,
    *,
    signers: Sequence[int] | None = None,
    round_: int = 0,
    signed_round: int | None = None,
    signed_chain: bytes = CHAIN_ID,
    signed_hash: bytes | None = None,
    signed_height: int | None = None,
    commit_hash: bytes | None = None,
    signers_bitmap: bytes | None = None,
    signature: bytes | None = None,
) -> list[Any]:
    """A commit list ``[height, round, header_hash, signers, signature]``; the keyword
    arguments break one thing (what is signed, or what the commit says)."""
    positions = list(range(len(valset.members))) if signers is None else list(signers)
    message = payload(
        signed_chain,
        height if signed_height is None else signed_height,
        round_ if signed_round is None else signed_round,
        header_hash if signed_hash is None else signed_hash,
    )
    if signature is None:
        sigs = [bls.sign(key(valset.members[p][0])[0], message, backend=BACKEND) for p in positions]
        signature = bls.aggregate(sigs, backend=BACKEND)
    return [
        height,
        round_,
        header_hash if commit_hash is None else commit_hash,
        bitmap(positions, len(valset.members)) if signers_bitmap is None else signers_bitmap,
        signature,
    ]


# --- blocks ----------------------------------------------------------------------------------


@dataclass
class Block:
    fields: list[Any]
    header: bytes
    hash: bytes
    commit: bytes
    valset: ValSet
    events: list[bytes] = field(default_factory=list)
    state: list[tuple[bytes, bytes]] = field(default_factory=list)

    @property
    def height(self) -> int:
        return int(self.fields[2])

    @property
    def time_ms(self) -> int:
        return int(self.fields[3])

    def as_json(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "hash": hx(self.hash),
            "header": hx(self.header),
            "commit": hx(self.commit),
            "validators": hx(self.valset.encode()),
        }


def event(kind: bytes, tx_index: int, event_index: int, attrs: list[tuple[bytes, bytes]]) -> bytes:
    return rlp.encode([kind, tx_index, event_index, [[k, v] for k, v in attrs]])


def header_fields(
    chain_id: bytes,
    height: int,
    time_ms: int,
    parent: bytes,
    last_commit: bytes,
    txs: list[bytes],
    events: list[bytes],
    state: list[tuple[bytes, bytes]],
    valset: ValSet,
    next_set: ValSet,
    h: Hash,
) -> list[Any]:
    state_leaves = [rlp.encode([k, v]) for k, v in state]
    return [
        1,
        chain_id,
        height,
        time_ms,
        parent,
        last_commit,
        mth(txs, h),
        len(txs),
        mth(events, h),
        len(events),
        mth(state_leaves, h),
        len(state_leaves),
        valset.hash(h),
        next_set.hash(h),
    ]


def build_chain(
    chain_id: bytes, sets: list[tuple[ValSet, ValSet]], content: Callable[[int], Any], h: Hash
) -> list[Block]:
    """Blocks 1..len(sets); ``sets[i]`` = (signing set, next set) of height i+1."""
    blocks: list[Block] = []
    for i, (valset, next_set) in enumerate(sets):
        height = i + 1
        txs, events, state = content(height)
        parent = blocks[-1].hash if blocks else ZERO
        last_commit = h(blocks[-1].commit) if blocks else ZERO
        fields = header_fields(
            chain_id,
            height,
            GENESIS_MS + i * BLOCK_MS,
            parent,
            last_commit,
            txs,
            events,
            state,
            valset,
            next_set,
            h,
        )
        header = rlp.encode(fields)
        header_hash = h(header)
        commit = rlp.encode(sign_commit_for(chain_id, valset, height, header_hash))
        blocks.append(Block(fields, header, header_hash, commit, valset, events, state))
    return blocks


def sign_commit_for(chain_id: bytes, valset: ValSet, height: int, header_hash: bytes) -> list[Any]:
    return sign_commit(valset, height, header_hash, signed_chain=chain_id)


SET_A = ValSet.of([(0, 10), (1, 10), (2, 10), (3, 10)])
SET_B = ValSet.of([(3, 10), (4, 20), (5, 10), (6, 10)])
"""B keeps only validator 3 of A: 10 of A's 40 (not more than 1/3), so a skip from A
to a header signed by B fails ``trust-overlap`` and bisection goes through height 5."""

ADDRESS = sha256(b"alice")[:20]
STATE_3 = [
    (b"bal/" + ADDRESS + b"/upj", rlp.encode(1_000_000)),
    (b"nonce/" + ADDRESS, rlp.encode(3)),
    (b"seq/pujiang-other", rlp.encode(7)),
]
STATE_5 = sorted(
    [
        (b"bal/" + ADDRESS + b"/upj", rlp.encode(999_000)),
        (b"htlc/" + sha256(b"swap-1"), b"\x01"),
        (b"nonce/" + ADDRESS, rlp.encode(4)),
        (b"recv/pujiang-other/" + (5).to_bytes(8, "big"), b"\x01"),
        (b"seq/pujiang-other", rlp.encode(8)),
        (b"valset", sha256(SET_B.encode())),
    ]
)
EVENTS_3 = [
    event(
        b"send_packet",
        0,
        0,
        [(b"source_chain", CHAIN_ID), (b"dest_chain", OTHER_CHAIN_ID), (b"sequence", b"\x07")],
    ),
    event(b"htlc_locked", 1, 0, [(b"htlc_id", sha256(b"swap-1")), (b"amount", b"\x03\xe8")]),
    event(b"send_packet", 2, 0, [(b"source_chain", CHAIN_ID), (b"sequence", b"\x08")]),
]


def main_content(height: int) -> tuple[list[bytes], list[bytes], list[tuple[bytes, bytes]]]:
    if height == 3:
        return [b"tx-3-0", b"tx-3-1", b"tx-3-2"], EVENTS_3, STATE_3
    if height == 4:
        validator_event = event(b"validator_set_changed", 0, 0, [(b"epoch", b"\x01")])
        return [b"tx-4-0"], [validator_event], STATE_3
    if height >= 5:
        return [], [], STATE_5
    return [], [], []


def main_chain() -> list[Block]:
    sets = [(SET_A, SET_A)] * 3 + [(SET_A, SET_B)] + [(SET_B, SET_B)] * 4
    return build_chain(CHAIN_ID, sets, main_content, sha256)


def sm3_chain() -> list[Block]:
    valset = ValSet.of([(7, 1), (8, 1), (9, 1)])
    return build_chain(
        b"pujiang-sm3",
        [(valset, valset)] * 3,
        lambda h: ([], [event(b"send_packet", 0, 0, [(b"sequence", b"\x01")])], []),
        sm3,
    )


# --- expectations ----------------------------------------------------------------------------


def fail(code: str, check: str) -> dict[str, str]:
    return {"error": code, "check": check}


def consensus(block: Block) -> dict[str, Any]:
    f = block.fields
    return {
        "height": block.height,
        "hash": hx(block.hash),
        "time_ms": block.time_ms,
        "events_root": hx(f[8]),
        "event_count": f[9],
        "state_root": hx(f[10]),
        "state_size": f[11],
        "validators_hash": hx(f[12]),
        "next_validators_hash": hx(f[13]),
    }


def chain_file(
    chain_id: bytes, profile: str, blocks: list[Block], updates: list[tuple[int, int]], bisect: Any
) -> dict[str, Any]:
    by_height = {b.height: b for b in blocks}
    return {
        "chain_id": chain_id.decode(),
        "hash_profile": profile,
        "client": {
            "trusting_period_ms": TRUSTING_PERIOD_MS,
            "max_clock_drift_ms": MAX_CLOCK_DRIFT_MS,
        },
        "checkpoint": {
            "height": 1,
            "hash": hx(blocks[0].hash),
            "now_ms": blocks[0].time_ms + LATER_MS,
        },
        "blocks": [b.as_json() for b in blocks],
        "updates": [
            {
                "trusted_height": trusted,
                "height": target,
                "mode": "adjacent" if target == trusted + 1 else "skipping",
                "now_ms": by_height[target].time_ms + LATER_MS,
                "expect": {"ok": consensus(by_height[target])},
            }
            for trusted, target in updates
        ],
        "bisection": bisect,
    }


# --- invalid headers -------------------------------------------------------------------------


def resign(
    base: Block,
    *,
    sign_chain: bytes = CHAIN_ID,
    valset: ValSet | None = None,
    h: Hash = sha256,
    **changes: Any,
) -> tuple[bytes, bytes, bytes]:
    """``base`` with header fields changed, validly re-signed by ``valset`` (default: its own)."""
    names = [
        "version",
        "chain_id",
        "height",
        "time_ms",
        "parent_hash",
        "last_commit_hash",
        "tx_root",
        "tx_count",
        "events_root",
        "event_count",
        "state_root",
        "state_size",
        "validators_hash",
        "next_validators_hash",
    ]
    fields = list(base.fields)
    for name, value in changes.items():
        fields[names.index(name)] = value
    signer = valset or base.valset
    header = rlp.encode(fields)
    header_hash = h(header)
    commit = sign_commit(signer, int(fields[2]), header_hash, signed_chain=sign_chain)
    return header, rlp.encode(commit), signer.encode()


def header_case(
    name: str,
    description: str,
    trusted: int,
    signed: tuple[bytes, bytes, bytes],
    now_ms: int,
    expect: dict[str, Any],
) -> dict[str, Any]:
    header, commit, validators = signed
    return {
        "name": name,
        "description": description,
        "call": "verify_header",
        "trusted_height": trusted,
        "now_ms": now_ms,
        "header": hx(header),
        "commit": hx(commit),
        "validators": hx(validators),
        "expect": expect,
    }


def with_commit(
    block: Block, commit: list[Any], validators: bytes | None = None
) -> tuple[bytes, bytes, bytes]:
    return (
        block.header,
        rlp.encode(commit),
        block.valset.encode() if validators is None else validators,
    )


def invalid_header_cases(blocks: list[Block]) -> list[dict[str, Any]]:
    b = {blk.height: blk for blk in blocks}
    b2, b4, b5 = b[2], b[4], b[5]
    now2 = b2.time_ms + LATER_MS
    now4 = b4.time_ms + LATER_MS
    now5 = b5.time_ms + LATER_MS
    items = [it for it in SET_A.items()]
    swapped = [items[1], items[0], *items[2:]]
    duplicate = [items[0], items[0], *items[2:]]
    zero_power = [[items[0][0], 0, items[0][2]], *items[1:]]
    b_items = SET_B.items()
    bad_pop = [b_items[0], [b_items[1][0], b_items[1][1], b_items[2][2]], *b_items[2:]]
    other_set = ValSet.of([(10, 10), (11, 10), (12, 10), (13, 10)])
    header_zero_padded = rlp.encode(
        [*b2.fields[:3], b"\x00" + rlp.encode(b2.time_ms)[1:], *b2.fields[4:]]
    )

    def c(**kw: Any) -> list[Any]:
        return sign_commit(SET_A, 2, b2.hash, **kw)

    cases = [
        header_case(
            "bad-signature",
            "the aggregate signs height 3's header instead",
            1,
            with_commit(b2, c(signed_hash=b[3].hash, signed_height=3)),
            now2,
            fail("bad-signature", "aggregate-signature"),
        ),
        header_case(
            "signature-of-fewer-signers",
            "the bitmap names all four, the aggregate is of three",
            1,
            with_commit(
                b2,
                c(signers=[0, 1, 2], signers_bitmap=bitmap([0, 1, 2, 3], 4)),
            ),
            now2,
            fail("bad-signature", "aggregate-signature"),
        ),
        header_case(
            "insufficient-power",
            "two of four equal validators sign: 20 of 40 is not more than 2/3",
            1,
            with_commit(b2, c(signers=[0, 1])),
            now2,
            fail("insufficient-power", "quorum"),
        ),
        header_case(
            "no-signers",
            "an all-zero bitmap",
            1,
            with_commit(b2, c(signers=[0, 1], signers_bitmap=b"\x00")),
            now2,
            fail("insufficient-power", "quorum"),
        ),
        header_case(
            "stray-bitmap-bit",
            "bit 4 set in the bitmap of a 4-validator set",
            1,
            with_commit(b2, c(signers_bitmap=bytes([0b0001_1111]))),
            now2,
            fail("bad-encoding", "signers-bitmap"),
        ),
        header_case(
            "wrong-bitmap-length",
            "a 2-byte bitmap for a 4-validator set",
            1,
            with_commit(b2, c(signers_bitmap=b"\x0f\x00")),
            now2,
            fail("bad-encoding", "signers-bitmap"),
        ),
        header_case(
            "wrong-chain-id-in-payload",
            "validators signed the payload with another chain id",
            1,
            with_commit(b2, c(signed_chain=OTHER_CHAIN_ID)),
            now2,
            fail("bad-signature", "aggregate-signature"),
        ),
        header_case(
            "wrong-round",
            "signed at round 0, the commit says round 1",
            1,
            with_commit(b2, c(round_=1, signed_round=0)),
            now2,
            fail("bad-signature", "aggregate-signature"),
        ),
        header_case(
            "wrong-header-hash",
            "a valid commit of height 2 for another header hash",
            1,
            with_commit(b2, c(commit_hash=b[3].hash, signed_hash=b[3].hash)),
            now2,
            fail("invalid-header", "commit-header-hash"),
        ),
        header_case(
            "wrong-commit-height",
            "the commit says height 3",
            1,
            (b2.header, rlp.encode([3, *c()[1:]]), SET_A.encode()),
            now2,
            fail("invalid-header", "commit-height"),
        ),
        header_case(
            "infinity-signature",
            "the aggregate is the identity point",
            1,
            with_commit(b2, c(signature=b"\xc0" + bytes(95))),
            now2,
            fail("infinity-point", "aggregate-signature"),
        ),
        header_case(
            "signature-not-a-point",
            "the aggregate's x coordinate is not below the field modulus",
            1,
            with_commit(b2, c(signature=b"\xbf" + b"\xff" * 47 + bytes(48))),
            now2,
            fail("bad-encoding", "aggregate-signature"),
        ),
        header_case(
            "wrong-validators-hash-adjacent",
            "height 2 names set B, the trusted height 1 named set A next",
            1,
            resign(b2, valset=SET_B, validators_hash=SET_B.hash(sha256)),
            now2,
            fail("invalid-header", "next-validators-hash"),
        ),
        header_case(
            "wrong-validators-hash-skipping",
            "set B given as the signers of height 4, whose header names set A",
            1,
            (b4.header, b4.commit, SET_B.encode()),
            now4,
            fail("invalid-header", "validators-hash"),
        ),
        header_case(
            "signed-by-old-set-after-rotation",
            "height 5 re-made with set A, but height 4 named set B next",
            4,
            resign(b5, valset=SET_A, validators_hash=SET_A.hash(sha256)),
            now5,
            fail("invalid-header", "next-validators-hash"),
        ),
        header_case(
            "unsorted-validator-set",
            "the first two validators swapped",
            1,
            (b2.header, b2.commit, rlp.encode(swapped)),
            now2,
            fail("bad-encoding", "encoding"),
        ),
        header_case(
            "duplicate-validator",
            "the first validator twice",
            1,
            (b2.header, b2.commit, rlp.encode(duplicate)),
            now2,
            fail("bad-encoding", "encoding"),
        ),
        header_case(
            "zero-power-validator",
            "a validator of power 0",
            1,
            (b2.header, b2.commit, rlp.encode(zero_power)),
            now2,
            fail("bad-encoding", "encoding"),
        ),
        header_case(
            "bad-pop",
            "rotation to set B where validator 1 carries validator 2's proof of possession",
            4,
            (b5.header, b5.commit, rlp.encode(bad_pop)),
            now5,
            fail("bad-signature", "proof-of-possession"),
        ),
        header_case(
            "expired-trust",
            "now is exactly the end of the trusted height's trusting period",
            1,
            (b2.header, b2.commit, SET_A.encode()),
            b[1].time_ms + TRUSTING_PERIOD_MS,
            fail("header-expired", "trusting-period"),
        ),
        header_case(
            "future-time",
            "the header is 1 ms beyond now + max clock drift",
            1,
            (b2.header, b2.commit, SET_A.encode()),
            b2.time_ms - MAX_CLOCK_DRIFT_MS - 1,
            fail("invalid-header", "clock-drift"),
        ),
        header_case(
            "time-not-monotonic",
            "a validly signed height 3 with height 2's time",
            2,
            resign(b[3], time_ms=b2.time_ms),
            b[3].time_ms + LATER_MS,
            fail("invalid-header", "time-monotonic"),
        ),
        header_case(
            "height-not-above-trusted",
            "height 2 again from trusted height 2",
            2,
            (b2.header, b2.commit, SET_A.encode()),
            now2,
            fail("invalid-header", "height"),
        ),
        header_case(
            "wrong-chain-id",
            "a header of another chain, validly signed for that chain",
            1,
            resign(b2, sign_chain=OTHER_CHAIN_ID, chain_id=OTHER_CHAIN_ID),
            now2,
            fail("invalid-header", "chain-id"),
        ),
        header_case(
            "wrong-parent-hash",
            "an adjacent header that does not link to the trusted one",
            1,
            resign(b2, parent_hash=sha256(b"elsewhere")),
            now2,
            fail("invalid-header", "parent-hash"),
        ),
        header_case(
            "trust-overlap",
            "skip from height 1 (set A) to 6 (set B): they share 10 of A's 40",
            1,
            (b[6].header, b[6].commit, SET_B.encode()),
            b[6].time_ms + LATER_MS,
            fail("insufficient-power", "trust-overlap"),
        ),
        header_case(
            "skip-signed-by-strangers",
            "height 4 re-made for a set of four unknown keys",
            1,
            resign(b4, valset=other_set, validators_hash=other_set.hash(sha256)),
            now4,
            fail("insufficient-power", "trust-overlap"),
        ),
        header_case(
            "skip-insufficient-power",
            "a skip to height 4 signed by two of four",
            1,
            with_commit(b4, sign_commit(SET_A, 4, b4.hash, signers=[0, 1])),
            now4,
            fail("insufficient-power", "quorum"),
        ),
        header_case(
            "header-not-canonical",
            "the header's time has a leading zero byte",
            1,
            (header_zero_padded, b2.commit, SET_A.encode()),
            now2,
            fail("bad-encoding", "encoding"),
        ),
        header_case(
            "header-version-2",
            "version 2 is not this format",
            1,
            resign(b2, version=2),
            now2,
            fail("bad-encoding", "encoding"),
        ),
        header_case(
            "commit-trailing-byte",
            "one byte after the commit's RLP",
            1,
            (b2.header, b2.commit + b"\x00", SET_A.encode()),
            now2,
            fail("bad-encoding", "encoding"),
        ),
    ]
    checkpoint_cases = [
        {
            "name": "checkpoint-wrong-hash",
            "description": "the header is not the one the operator trusts",
            "call": "checkpoint",
            "trusted_height": 1,
            "trusted_hash": hx(b2.hash),
            "now_ms": b[1].time_ms + LATER_MS,
            "header": hx(b[1].header),
            "validators": hx(SET_A.encode()),
            "expect": fail("invalid-header", "checkpoint-hash"),
        },
        {
            "name": "checkpoint-wrong-height",
            "description": "the operator trusts height 1, the header is height 2",
            "call": "checkpoint",
            "trusted_height": 1,
            "trusted_hash": hx(b2.hash),
            "now_ms": now2,
            "header": hx(b2.header),
            "validators": hx(SET_A.encode()),
            "expect": fail("invalid-header", "checkpoint-height"),
        },
        {
            "name": "checkpoint-wrong-validators",
            "description": "set B given for a header signed by set A",
            "call": "checkpoint",
            "trusted_height": 1,
            "trusted_hash": hx(b[1].hash),
            "now_ms": b[1].time_ms + LATER_MS,
            "header": hx(b[1].header),
            "validators": hx(SET_B.encode()),
            "expect": fail("invalid-header", "validators-hash"),
        },
        {
            "name": "checkpoint-expired",
            "description": "the checkpoint is older than the trusting period",
            "call": "checkpoint",
            "trusted_height": 1,
            "trusted_hash": hx(b[1].hash),
            "now_ms": b[1].time_ms + TRUSTING_PERIOD_MS,
            "header": hx(b[1].header),
            "validators": hx(SET_A.encode()),
            "expect": fail("header-expired", "trusting-period"),
        },
        {
            "name": "checkpoint-bad-pop",
            "description": "a checkpoint set whose validator 1 carries validator 2's PoP",
            "call": "checkpoint",
            "trusted_height": 5,
            "trusted_hash": hx(b5.hash),
            "now_ms": now5,
            "header": hx(b5.header),
            "validators": hx(rlp.encode(bad_pop)),
            "expect": fail("bad-signature", "proof-of-possession"),
        },
    ]
    return checkpoint_cases + cases


# --- proofs ----------------------------------------------------------------------------------


def event_proof(height: int, index: int, leaf: bytes, path: list[bytes]) -> bytes:
    return rlp.encode([height, index, rlp.decode(leaf), path])


def state_leaf(state: list[tuple[bytes, bytes]], index: int) -> list[Any]:
    leaves = [rlp.encode([k, v]) for k, v in state]
    k, v = state[index]
    return [k, v, index, audit_path(leaves, index, sha256)]


def proof_case(
    name: str, description: str, call: str, height: int, proof: bytes, expect: Any, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "call": call,
        "height": height,
        "proof": hx(proof),
        **{k: hx(v) for k, v in extra.items()},
        "expect": expect,
    }


def root_from_path(leaf: bytes, index: int, size: int, path: list[bytes], h: Hash) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root a path reaches, or None if its length does not fit."""
    fn, sn, r = index, size - 1, h(b"\x00" + leaf)
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = h(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = h(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def proof_cases(blocks: list[Block]) -> list[dict[str, Any]]:
    b3, b5 = blocks[2], blocks[4]
    ev = b3.events
    events_root = b3.fields[8]
    paths = [audit_path(ev, i, sha256) for i in range(len(ev))]
    cases = [
        proof_case(
            f"event-{i}",
            f"event {i} of 3 at height 3",
            "event",
            3,
            event_proof(3, i, ev[i], paths[i]),
            {"ok": {"event": hx(ev[i])}},
        )
        for i in range(len(ev))
    ]
    forged = rlp.decode(ev[1])
    forged[3][1][1] = b"\x27\x10"  # amount 1000 -> 10000
    # Event 2 is also leaf 1 of a 2-leaf tree under the same root: [H(e0, e1)] reaches it.
    two_leaf_path = [mth(ev[:2], sha256)]
    assert root_from_path(ev[2], 1, 2, two_leaf_path, sha256) == events_root
    cases += [
        proof_case(
            "forged-event",
            "event 1 with its amount raised, with its genuine path",
            "event",
            3,
            rlp.encode([3, 1, forged, paths[1]]),
            fail("root-mismatch", "inclusion"),
        ),
        proof_case(
            "event-wrong-index",
            "event 0's path presented as leaf 1",
            "event",
            3,
            event_proof(3, 1, ev[0], paths[0]),
            fail("root-mismatch", "inclusion"),
        ),
        proof_case(
            "lying-tree-size",
            "event 2 as leaf 1 of a 2-leaf tree, which reaches the same root; the header "
            "says 3 events, so the size is never the prover's",
            "event",
            3,
            event_proof(3, 1, ev[2], two_leaf_path),
            fail("bad-proof", "inclusion"),
        ),
        proof_case(
            "event-index-beyond-count",
            "leaf 3 of a block with 3 events",
            "event",
            3,
            event_proof(3, 3, ev[2], paths[2]),
            fail("bad-proof", "inclusion"),
        ),
        proof_case(
            "event-truncated-path",
            "the last hash of the path dropped",
            "event",
            3,
            event_proof(3, 0, ev[0], paths[0][:-1]),
            fail("bad-proof", "inclusion"),
        ),
        proof_case(
            "event-wrong-height",
            "a proof for height 3 checked against height 4",
            "event",
            4,
            event_proof(3, 0, ev[0], paths[0]),
            fail("bad-proof", "proof-height"),
        ),
        proof_case(
            "event-proof-not-rlp",
            "the proof's RLP cut one byte short",
            "event",
            3,
            event_proof(3, 0, ev[0], paths[0])[:-1],
            fail("bad-encoding", "encoding"),
        ),
    ]
    state = b5.state
    state_root = b5.fields[10]
    leaves = [state_leaf(state, i) for i in range(len(state))]
    absent = state[2][0] + b"\x00"  # above leaf 2's key, below leaf 3's
    assert state[2][0] < absent < state[3][0]
    # Leaf 4 is also leaf 2 of a 4-leaf tree under the same root: [l5, MTH(l0..l3)].
    raw = [rlp.encode([k, v]) for k, v in state]
    lying = [mth(raw[5:6], sha256), mth(raw[:4], sha256)]
    assert root_from_path(raw[4], 2, 4, lying, sha256) == state_root
    cases += [
        proof_case(
            "state-member",
            "leaf 2 of the state at height 5",
            "state",
            5,
            rlp.encode([5, *leaves[2]]),
            {"ok": {"value": hx(state[2][1])}},
        ),
        proof_case(
            "state-member-last",
            "the last leaf",
            "state",
            5,
            rlp.encode([5, *leaves[-1]]),
            {"ok": {"value": hx(state[-1][1])}},
        ),
        proof_case(
            "state-wrong-value",
            "leaf 2's key with another value",
            "state",
            5,
            rlp.encode([5, state[2][0], b"\x09", 2, leaves[2][3]]),
            fail("root-mismatch", "inclusion"),
        ),
        proof_case(
            "state-claimed-value-differs",
            "a valid proof, but the caller expects another value",
            "state",
            5,
            rlp.encode([5, *leaves[2]]),
            fail("value-mismatch", "state-value"),
            value=b"\x09",
        ),
        proof_case(
            "state-absent-middle",
            "a key between leaves 2 and 3",
            "state_absent",
            5,
            rlp.encode([5, absent, [leaves[2]], [leaves[3]]]),
            {"ok": {}},
        ),
        proof_case(
            "state-absent-before-first",
            "a key below every key: leaf 0 alone",
            "state_absent",
            5,
            rlp.encode([5, b"a", [], [leaves[0]]]),
            {"ok": {}},
        ),
        proof_case(
            "state-absent-after-last",
            "a key above every key: the last leaf alone",
            "state_absent",
            5,
            rlp.encode([5, b"zz", [leaves[-1]], []]),
            {"ok": {}},
        ),
        proof_case(
            "state-absent-empty-state",
            "any key of the empty state at height 1",
            "state_absent",
            1,
            rlp.encode([1, b"bal/x", [], []]),
            {"ok": {}},
        ),
        proof_case(
            "state-absent-non-adjacent",
            "brackets are leaves 1 and 3, hiding leaf 2",
            "state_absent",
            5,
            rlp.encode([5, absent, [leaves[1]], [leaves[3]]]),
            fail("bad-proof", "adjacency"),
        ),
        proof_case(
            "state-absent-key-present",
            "leaf 2's own key 'proven' absent with leaves 2 and 3",
            "state_absent",
            5,
            rlp.encode([5, state[2][0], [leaves[2]], [leaves[3]]]),
            fail("bad-proof", "bracket"),
        ),
        proof_case(
            "state-absent-left-not-last",
            "leaf 4 alone is not the last of 6",
            "state_absent",
            5,
            rlp.encode([5, b"zz", [leaves[4]], []]),
            fail("bad-proof", "adjacency"),
        ),
        proof_case(
            "state-absent-no-brackets",
            "no bracketing leaf for a non-empty state",
            "state_absent",
            5,
            rlp.encode([5, b"zz", [], []]),
            fail("bad-proof", "bracket"),
        ),
        proof_case(
            "state-absent-lying-tree-size",
            "leaf 3's key (present) 'proven' absent between leaf 1 and leaf 4 posing as "
            "leaf 2 of a 4-leaf tree with the same root",
            "state_absent",
            5,
            rlp.encode([5, state[3][0], [leaves[1]], [[state[4][0], state[4][1], 2, lying]]]),
            fail("bad-proof", "inclusion"),
        ),
        proof_case(
            "state-absent-in-empty-with-bracket",
            "the empty state has no leaf to show",
            "state_absent",
            1,
            rlp.encode([1, b"bal/x", [], [leaves[0]]]),
            fail("bad-proof", "bracket"),
        ),
    ]
    return cases


# --- misbehaviour ------------------------------------------------------------------------------


def misbehaviour_cases(blocks: list[Block]) -> list[dict[str, Any]]:
    b = {blk.height: blk for blk in blocks}
    fork3 = resign(b[3], state_root=sha256(b"fork"), state_size=1)
    fork1 = resign(b[1], events_root=sha256(b"fork"))
    late3 = resign(b[3], time_ms=b[4].time_ms + 1)
    fork6 = resign(b[6], tx_count=9)
    strangers = ValSet.of([(10, 10), (11, 10), (12, 10), (13, 10)])
    fake3 = resign(b[3], valset=strangers, validators_hash=strangers.hash(sha256))
    honest3 = (b[3].header, b[3].commit, SET_A.encode())

    def signed(s: tuple[bytes, bytes, bytes]) -> dict[str, str]:
        return {"header": hx(s[0]), "commit": hx(s[1]), "validators": hx(s[2])}

    def update(
        name: str, description: str, trusted: int, known: list[int], s: Any, now: int, expect: Any
    ) -> dict[str, Any]:
        return {
            "name": name,
            "description": description,
            "call": "process_update",
            "trusted_height": trusted,
            "known_heights": known,
            "now_ms": now,
            **signed(s),
            "expect": expect,
        }

    now = b[8].time_ms + LATER_MS
    return [
        update(
            "fork-at-verified-height",
            "a second valid commit at verified height 3",
            1,
            [3],
            fork3,
            now,
            {"frozen": "fork", "height": 3},
        ),
        update(
            "fork-at-checkpoint",
            "a second valid header at the checkpoint height 1",
            1,
            [],
            fork1,
            now,
            {"frozen": "fork", "height": 1},
        ),
        update(
            "time-against-neighbour",
            "a valid height 3 later than verified height 4",
            1,
            [4],
            late3,
            now,
            {"frozen": "time", "height": 3},
        ),
        update(
            "duplicate",
            "height 3 again: nothing to do",
            1,
            [3],
            honest3,
            now,
            {"duplicate": True, "height": 3},
        ),
        update(
            "fork-signed-by-strangers",
            "a 'fork' of height 3 signed by unknown keys",
            1,
            [3],
            fake3,
            now,
            fail("insufficient-power", "trust-overlap"),
        ),
        update(
            "fork-evidence-expired",
            "a fork of height 3 after height 3's trusting period",
            1,
            [3],
            fork3,
            b[3].time_ms + TRUSTING_PERIOD_MS,
            fail("header-expired", "trusting-period"),
        ),
        update(
            "no-conflict",
            "height 3 verified with heights 2 and 4 known: in order",
            1,
            [2, 4],
            honest3,
            now,
            {"ok": {"height": 3}},
        ),
        {
            "name": "two-headers-fork",
            "description": "two valid commits for different headers at height 6, from trusted 5",
            "call": "check_misbehaviour",
            "trusted_height": 5,
            "now_ms": now,
            "first": signed((b[6].header, b[6].commit, SET_B.encode())),
            "second": signed(fork6),
            "expect": {"frozen": "fork", "height": 6},
        },
        {
            "name": "two-headers-time",
            "description": "height 3 later than height 4, both valid from trusted 1",
            "call": "check_misbehaviour",
            "trusted_height": 1,
            "now_ms": now,
            "first": signed(late3),
            "second": signed((b[4].header, b[4].commit, SET_A.encode())),
            "expect": {"frozen": "time", "height": 4},
        },
        {
            "name": "two-headers-same",
            "description": "the same header twice is not misbehaviour",
            "call": "check_misbehaviour",
            "trusted_height": 1,
            "now_ms": now,
            "first": signed(honest3),
            "second": signed(honest3),
            "expect": fail("invalid-input", "not-misbehaviour"),
        },
    ]


# --- files -------------------------------------------------------------------------------------


def render(obj: Any) -> str:
    return json.dumps(obj, indent=1) + "\n"


def build() -> dict[str, str]:
    """File name -> content, exactly as committed."""
    blocks = main_chain()
    sm3_blocks = sm3_chain()
    bisection = {
        "trusted_height": 1,
        "target_height": 8,
        "now_ms": blocks[7].time_ms + LATER_MS,
        "expect": {"ok": {"heights": [4, 5, 6, 8], "fetched": [8, 4, 6, 5]}},
    }
    sm3_bisection = {
        "trusted_height": 1,
        "target_height": 3,
        "now_ms": sm3_blocks[2].time_ms + LATER_MS,
        "expect": {"ok": {"heights": [3], "fetched": [3]}},
    }
    updates = [(1, 2), (2, 3), (1, 4), (4, 5), (5, 8), (1, 3), (6, 7)]
    return {
        "chain.json": render(chain_file(CHAIN_ID, "sha256", blocks, updates, bisection)),
        "chain_sm3.json": render(
            chain_file(b"pujiang-sm3", "sm3", sm3_blocks, [(1, 2), (1, 3)], sm3_bisection)
        ),
        "headers.json": render({"cases": invalid_header_cases(blocks)}),
        "proofs.json": render({"cases": proof_cases(blocks)}),
        "misbehaviour.json": render({"cases": misbehaviour_cases(blocks)}),
    }


def main() -> int:
    for name, content in build().items():
        (HERE / name).write_text(content)
        print(f"wrote {name} ({len(content):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
