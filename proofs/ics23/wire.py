"""A strict protobuf wire-format reader, enough for ``cosmos.ics23.v1`` messages.

Why by hand: the ``protobuf`` runtime needs generated ``_pb2`` modules (protoc
and the ``.proto`` at build time) for six small messages; the wire format
itself is tiny. This reader is strict where a parser of untrusted proofs must
be: truncated fields, over-long varints, group wire types and unknown wire
types raise :class:`MalformedProof`; unknown field numbers are skipped (as
every protobuf reader does, for forward compatibility).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Final

from proofs.ics23.errors import MalformedProof

VARINT: Final = 0
FIXED64: Final = 1
BYTES: Final = 2
FIXED32: Final = 5
MAX_DEPTH: Final = 32

Fields = dict[int, list[tuple[int, int | bytes]]]


def read_uvarint(data: bytes, pos: int) -> tuple[int, int]:
    """``(value, next position)`` of the varint at ``pos``; at most 10 bytes, below 2**64."""
    result = shift = 0
    for i in range(10):
        if pos + i >= len(data):
            raise MalformedProof("truncated varint")
        byte = data[pos + i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if result >= 1 << 64:
                raise MalformedProof("varint exceeds 64 bits")
            return result, pos + i + 1
        shift += 7
    raise MalformedProof("varint longer than 10 bytes")


def parse_fields(data: bytes) -> Fields:
    """Field number -> ``[(wire type, value)]`` in order (ints for varints, bytes otherwise)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedProof("a protobuf message must be bytes")
    data = bytes(data)
    fields: Fields = defaultdict(list)
    pos = 0
    while pos < len(data):
        key, pos = read_uvarint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise MalformedProof("field number 0")
        if wire == VARINT:
            value, pos = read_uvarint(data, pos)
            fields[number].append((wire, value))
        elif wire == BYTES:
            length, pos = read_uvarint(data, pos)
            if pos + length > len(data):
                raise MalformedProof("truncated length-delimited field")
            fields[number].append((wire, data[pos : pos + length]))
            pos += length
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if pos + size > len(data):
                raise MalformedProof("truncated fixed-width field")
            fields[number].append((wire, data[pos : pos + size]))
            pos += size
        else:
            raise MalformedProof(f"unsupported wire type {wire}")
    return dict(fields)


def last_bytes(fields: Fields, number: int) -> bytes | None:
    """The last value of a bytes/message field (proto3: the last one wins), or ``None``."""
    values = fields.get(number)
    if not values:
        return None
    wire, value = values[-1]
    if wire != BYTES or not isinstance(value, bytes):
        raise MalformedProof(f"field {number} must be length-delimited")
    return value


def all_bytes(fields: Fields, number: int) -> list[bytes]:
    out = []
    for wire, value in fields.get(number, []):
        if wire != BYTES or not isinstance(value, bytes):
            raise MalformedProof(f"field {number} must be length-delimited")
        out.append(value)
    return out


def last_int(fields: Fields, number: int) -> int:
    """The last varint of a field (0 when absent), as a signed int64 (enums, int32)."""
    values = fields.get(number)
    if not values:
        return 0
    wire, value = values[-1]
    if wire != VARINT or not isinstance(value, int):
        raise MalformedProof(f"field {number} must be a varint")
    return value - (1 << 64) if value >= 1 << 63 else value


def repeated_ints(fields: Fields, number: int) -> list[int]:
    """A repeated int32 field, packed or not."""
    out: list[int] = []
    for wire, value in fields.get(number, []):
        if wire == VARINT and isinstance(value, int):
            out.append(value - (1 << 64) if value >= 1 << 63 else value)
        elif wire == BYTES and isinstance(value, bytes):
            pos = 0
            while pos < len(value):
                item, pos = read_uvarint(value, pos)
                out.append(item - (1 << 64) if item >= 1 << 63 else item)
        else:
            raise MalformedProof(f"field {number} must be varints")
    return out


__all__ = ["all_bytes", "last_bytes", "last_int", "parse_fields", "read_uvarint", "repeated_ints"]
