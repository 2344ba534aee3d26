"""Wormhole VAA v1, verified through the same quorum code as the hub's own notaries.

Wormhole's guardians are a real m-of-n secp256k1 notary network; checking
every mainnet VAA with :func:`proofs.notary.ecdsa.validate_quorum` (rules
``WORMHOLE``) tests our quorum arithmetic against signatures nobody on this
project made. The format is parsed by hand because it is a fixed binary
layout with no maintained Python parser (the upstream SDKs are Go/TypeScript)::

    version u8 (=1) | guardian_set_index u32 | n u8 | n × (index u8 | r 32 | s 32 | v u8) | body
    body = timestamp u32 | nonce u32 | emitter_chain u16 | emitter_address 32 |
           sequence u64 | consistency_level u8 | payload

(big-endian). Digest ``keccak256(keccak256(body))``; quorum ``floor(2n/3) + 1``
of the signing set; guardian indices strictly increasing.

Guardian-set upgrades (governance module ``Core``, action 2, emitted by the
governance emitter on Solana) are walked from a trusted set 0: each upgrade
must be signed by the current set and install exactly the next index.
Guardian-set expiry (an old set stays valid 24 h after an upgrade on chain)
is not modelled: this verifier answers "did set N sign this", not "is set N
still current at time t". Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.errors import BadEncoding, VerificationError
from proofs.hashing import keccak256
from proofs.notary.ecdsa import WORMHOLE, Address, to_address, validate_quorum
from proofs.notary.errors import UnknownSet

VAA_VERSION = 1
SIGNATURE_ENTRY = 66
BODY_HEADER = 4 + 4 + 2 + 32 + 8 + 1
GOVERNANCE_CHAIN = 1
GOVERNANCE_EMITTER = bytes(31) + b"\x04"
CORE_MODULE = b"Core".rjust(32, b"\x00")
ACTION_GUARDIAN_SET_UPGRADE = 2


@dataclass(frozen=True, slots=True)
class VaaSignature:
    guardian_index: int
    signature: bytes  # r ‖ s ‖ v, v in {0, 1}


@dataclass(frozen=True, slots=True)
class Vaa:
    """A parsed VAA; the body fields are read from ``body`` on demand."""

    version: int
    guardian_set_index: int
    signatures: tuple[VaaSignature, ...]
    body: bytes

    @property
    def timestamp(self) -> int:
        return int.from_bytes(self.body[0:4], "big")

    @property
    def nonce(self) -> int:
        return int.from_bytes(self.body[4:8], "big")

    @property
    def emitter_chain(self) -> int:
        return int.from_bytes(self.body[8:10], "big")

    @property
    def emitter_address(self) -> bytes:
        return self.body[10:42]

    @property
    def sequence(self) -> int:
        return int.from_bytes(self.body[42:50], "big")

    @property
    def consistency_level(self) -> int:
        return self.body[50]

    @property
    def payload(self) -> bytes:
        return self.body[BODY_HEADER:]

    @property
    def digest(self) -> bytes:
        return compute_vaa_digest(self.body)


def compute_vaa_digest(body: bytes) -> bytes:
    """``keccak256(keccak256(body))``: what every guardian signs."""
    return keccak256(keccak256(body))


def compute_quorum(guardians: int) -> int:
    """``floor(2n/3) + 1`` (13 of 19), as upstream ``sdk/vaa/quorum.go``."""
    return guardians * 2 // 3 + 1


def parse_vaa(data: bytes) -> Vaa:
    """``BadEncoding`` on a wrong version, a truncated signature list or a short body."""
    if len(data) < 6:
        raise BadEncoding("a VAA is at least 6 bytes")
    if data[0] != VAA_VERSION:
        raise BadEncoding(f"VAA version {data[0]} is not {VAA_VERSION}")
    set_index = int.from_bytes(data[1:5], "big")
    count = data[5]
    end = 6 + count * SIGNATURE_ENTRY
    if len(data) < end + BODY_HEADER:
        raise BadEncoding(f"a VAA with {count} signatures is at least {end + BODY_HEADER} bytes")
    signatures = tuple(
        VaaSignature(data[at], bytes(data[at + 1 : at + SIGNATURE_ENTRY]))
        for at in range(6, end, SIGNATURE_ENTRY)
    )
    return Vaa(VAA_VERSION, set_index, signatures, bytes(data[end:]))


def encode_vaa(vaa: Vaa) -> bytes:
    """The bytes of ``vaa`` (tests build tampered variants through it)."""
    head = bytes([vaa.version]) + vaa.guardian_set_index.to_bytes(4, "big")
    head += bytes([len(vaa.signatures)])
    sigs = b"".join(bytes([s.guardian_index]) + s.signature for s in vaa.signatures)
    return head + sigs + vaa.body


def verify_vaa(vaa: Vaa, guardian_sets: Mapping[int, Sequence[bytes | str]]) -> tuple[Address, ...]:
    """The signing guardians' addresses when ``vaa`` carries a quorum of its set.

    ``UnknownSet`` for a set index not in ``guardian_sets``; otherwise the
    errors of ``validate_quorum`` (too few, index out of range, not the
    guardian at that index, duplicate or descending index).
    """
    guardians = guardian_sets.get(vaa.guardian_set_index)
    if guardians is None:
        raise UnknownSet(f"guardian set {vaa.guardian_set_index} is not known")
    return validate_quorum(
        vaa.digest,
        [s.signature for s in vaa.signatures],
        guardians,
        compute_quorum(len(guardians)),
        WORMHOLE,
        indices=[s.guardian_index for s in vaa.signatures],
    )


def parse_guardian_set_upgrade(vaa: Vaa) -> tuple[int, tuple[Address, ...]]:
    """``(new_index, guardians)`` of a ``Core`` action 2 governance VAA (``BadEncoding`` else)."""
    if vaa.emitter_chain != GOVERNANCE_CHAIN or vaa.emitter_address != GOVERNANCE_EMITTER:
        raise BadEncoding("not emitted by the governance emitter")
    payload = vaa.payload
    if len(payload) < 32 + 1 + 2 + 4 + 1 or payload[:32] != CORE_MODULE:
        raise BadEncoding("not a Core governance payload")
    if payload[32] != ACTION_GUARDIAN_SET_UPGRADE:
        raise BadEncoding(f"governance action {payload[32]} is not a guardian-set upgrade")
    new_index = int.from_bytes(payload[35:39], "big")
    count = payload[39]
    keys = payload[40:]
    if count == 0 or len(keys) != 20 * count:
        raise BadEncoding(f"a set of {count} guardians is {20 * count} bytes, not {len(keys)}")
    return new_index, tuple(keys[i : i + 20] for i in range(0, len(keys), 20))


def walk_guardian_sets(
    initial: Sequence[bytes | str], upgrades: Sequence[bytes]
) -> dict[int, tuple[Address, ...]]:
    """Every set from a trusted set 0 through ``upgrades`` (raw VAAs, in order).

    Each upgrade must be signed by a quorum of the current set and install the
    next index; the first failure raises (``InvalidHeader``-like order errors as
    ``VerificationError``).
    """
    sets: dict[int, tuple[Address, ...]] = {0: tuple(to_address(a) for a in initial)}
    current = 0
    for position, raw in enumerate(upgrades):
        vaa = parse_vaa(raw)
        if vaa.guardian_set_index != current:
            raise VerificationError(
                f"upgrade {position} is signed by set {vaa.guardian_set_index}, "
                f"the current set is {current}",
                position=position,
            )
        verify_vaa(vaa, sets)
        new_index, guardians = parse_guardian_set_upgrade(vaa)
        if new_index != current + 1:
            raise VerificationError(
                f"upgrade {position} installs set {new_index}, expected {current + 1}",
                position=position,
            )
        sets[new_index] = guardians
        current = new_index
    return sets


__all__ = [
    "Vaa",
    "VaaSignature",
    "compute_quorum",
    "compute_vaa_digest",
    "encode_vaa",
    "parse_guardian_set_upgrade",
    "parse_vaa",
    "verify_vaa",
    "walk_guardian_sets",
]
