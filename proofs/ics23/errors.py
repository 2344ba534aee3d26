"""The typed refusals of ICS-23 proof verification (``core.errors`` subclasses, stable codes)."""

from __future__ import annotations

from core.errors import BadEncoding, BadProof


class MalformedProof(BadEncoding):
    """The protobuf bytes of a proof do not decode (truncated, bad wire type, bad enum)."""

    code = "ics23-malformed"


class UnsupportedOp(BadProof):
    """A hash or length operation this verifier does not implement (fails closed)."""

    code = "ics23-unsupported-op"


class InvalidStep(BadProof):
    """A leaf or inner step cannot be applied (empty key, value or child; length rule)."""

    code = "ics23-invalid-step"


class SpecMismatch(BadProof):
    """The proof's leaf or inner operations are not in the format the proof spec demands."""

    code = "ics23-spec-mismatch"


class KeyMismatch(BadProof):
    """The proof is about another key than the one asked about."""

    code = "ics23-key-mismatch"


class NotNeighbours(BadProof):
    """A non-existence proof's keys do not bracket the key, or its paths are not adjacent."""

    code = "ics23-not-neighbours"


__all__ = [
    "InvalidStep",
    "KeyMismatch",
    "MalformedProof",
    "NotNeighbours",
    "SpecMismatch",
    "UnsupportedOp",
]
