"""ICS-23 hash, length, leaf and inner operations (``cosmos.ics23.v1``).

A proof is a list of steps from a (key, value) leaf to a root:
``leaf = H(prefix || len(prehash(key)) || len(prehash(value)))`` then, per
inner step, ``node = H(prefix || child || suffix)``.

Hash backends: hashlib (OpenSSL) for sha256, sha512, sha512/256, ripemd160,
blake2b-512 and blake2s-256; ``proofs.hashing.keccak256`` for keccak. BLAKE3
and the ``VAR_RLP`` length are refused (:class:`UnsupportedOp`): the Go
reference refuses ``VAR_RLP`` too, BLAKE3 would need a new dependency, no
Cosmos store uses either, and refusing fails closed.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from enum import IntEnum

from proofs.hashing import keccak256
from proofs.ics23 import wire
from proofs.ics23.errors import InvalidStep, MalformedProof, UnsupportedOp


class HashOp(IntEnum):
    NO_HASH = 0
    SHA256 = 1
    SHA512 = 2
    KECCAK256 = 3
    RIPEMD160 = 4
    BITCOIN = 5
    SHA512_256 = 6
    BLAKE2B_512 = 7
    BLAKE2S_256 = 8
    BLAKE3 = 9


class LengthOp(IntEnum):
    NO_PREFIX = 0
    VAR_PROTO = 1
    VAR_RLP = 2
    FIXED32_BIG = 3
    FIXED32_LITTLE = 4
    FIXED64_BIG = 5
    FIXED64_LITTLE = 6
    REQUIRE_32_BYTES = 7
    REQUIRE_64_BYTES = 8


def _hashlib(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


_HASHES = {
    HashOp.SHA256: lambda d: hashlib.sha256(d).digest(),
    HashOp.SHA512: lambda d: hashlib.sha512(d).digest(),
    HashOp.KECCAK256: keccak256,
    HashOp.RIPEMD160: lambda d: _hashlib("ripemd160", d),
    HashOp.BITCOIN: lambda d: _hashlib("ripemd160", hashlib.sha256(d).digest()),
    HashOp.SHA512_256: lambda d: _hashlib("sha512_256", d),
    HashOp.BLAKE2B_512: lambda d: hashlib.blake2b(d, digest_size=64).digest(),
    HashOp.BLAKE2S_256: lambda d: hashlib.blake2s(d, digest_size=32).digest(),
}


def do_hash(op: HashOp | int, data: bytes) -> bytes:
    """Apply a hash op (``NO_HASH`` is refused here: a step must hash)."""
    try:
        function = _HASHES[HashOp(op)]
    except (KeyError, ValueError) as err:
        raise UnsupportedOp(f"unsupported hash op {int(op)}") from err
    return function(bytes(data))


def do_hash_or_noop(op: HashOp | int, data: bytes) -> bytes:
    return bytes(data) if op == HashOp.NO_HASH else do_hash(op, data)


def _var_proto(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def do_length(op: LengthOp | int, data: bytes) -> bytes:
    """Prefix ``data`` with its length as ``op`` says (or require a size)."""
    n = len(data)
    if op == LengthOp.NO_PREFIX:
        return data
    if op == LengthOp.VAR_PROTO:
        return _var_proto(n) + data
    if op == LengthOp.FIXED32_BIG:
        return struct.pack(">I", n) + data
    if op == LengthOp.FIXED32_LITTLE:
        return struct.pack("<I", n) + data
    if op == LengthOp.FIXED64_BIG:
        return struct.pack(">Q", n) + data
    if op == LengthOp.FIXED64_LITTLE:
        return struct.pack("<Q", n) + data
    if op in (LengthOp.REQUIRE_32_BYTES, LengthOp.REQUIRE_64_BYTES):
        size = 32 if op == LengthOp.REQUIRE_32_BYTES else 64
        if n != size:
            raise InvalidStep(f"data is {n} bytes, not {size}")
        return data
    raise UnsupportedOp(f"unsupported length op {int(op)}")


@dataclass(frozen=True, slots=True)
class LeafOp:
    """How a (key, value) pair becomes a leaf hash."""

    hash: int = HashOp.NO_HASH
    prehash_key: int = HashOp.NO_HASH
    prehash_value: int = HashOp.NO_HASH
    length: int = LengthOp.NO_PREFIX
    prefix: bytes = b""

    def apply(self, key: bytes, value: bytes) -> bytes:
        """The leaf hash; :class:`InvalidStep` for an empty key or value."""
        if not key:
            raise InvalidStep("leaf op needs a key")
        if not value:
            raise InvalidStep("leaf op needs a value")
        pkey = do_length(self.length, do_hash_or_noop(self.prehash_key, key))
        pvalue = do_length(self.length, do_hash_or_noop(self.prehash_value, value))
        return do_hash(self.hash, self.prefix + pkey + pvalue)

    @classmethod
    def decode(cls, data: bytes) -> LeafOp:
        f = wire.parse_fields(data)
        return cls(
            hash=wire.last_int(f, 1),
            prehash_key=wire.last_int(f, 2),
            prehash_value=wire.last_int(f, 3),
            length=wire.last_int(f, 4),
            prefix=wire.last_bytes(f, 5) or b"",
        )


@dataclass(frozen=True, slots=True)
class InnerOp:
    """One step up the tree: ``H(prefix || child || suffix)``."""

    hash: int = HashOp.NO_HASH
    prefix: bytes = b""
    suffix: bytes = b""

    def apply(self, child: bytes) -> bytes:
        if not child:
            raise InvalidStep("inner op needs a child value")
        return do_hash(self.hash, self.prefix + child + self.suffix)

    @classmethod
    def decode(cls, data: bytes) -> InnerOp:
        f = wire.parse_fields(data)
        return cls(
            hash=wire.last_int(f, 1),
            prefix=wire.last_bytes(f, 2) or b"",
            suffix=wire.last_bytes(f, 3) or b"",
        )


def require_enum(value: int, enum: type[IntEnum], name: str) -> None:
    try:
        enum(value)
    except ValueError as err:
        raise MalformedProof(f"unknown {name} {value}") from err


__all__ = ["HashOp", "InnerOp", "LeafOp", "LengthOp", "do_hash", "do_hash_or_noop", "do_length"]
