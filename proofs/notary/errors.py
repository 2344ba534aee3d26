"""The typed refusals of the quorum rules (``core.errors`` subclasses, stable codes).

Each names the first check a certificate failed, as the contracts and the
devnet module name theirs, so a test asserts the exact reason and an
operator greps one code.
"""

from __future__ import annotations

from core.errors import BadEncoding, BadSignature, InsufficientPower


class TooFewSignatures(InsufficientPower):
    """Fewer valid signatures than the committee's threshold."""

    code = "quorum-too-few-signatures"


class MalformedSignature(BadEncoding):
    """A signature is not 65 bytes ``r ‖ s ‖ v`` (or ``r`` is outside ``1 .. n-1``)."""

    code = "quorum-malformed-signature"


class HighS(BadSignature):
    """``s`` is in the upper half of the curve order: the malleated twin of a valid signature."""

    code = "quorum-high-s"


class BadV(BadSignature):
    """The recovery byte ``v`` is not one the rules allow (27/28, or 0/1 on Wormhole)."""

    code = "quorum-bad-v"


class Unrecoverable(BadSignature):
    """No public key recovers from the signature and digest."""

    code = "quorum-unrecoverable"


class NotMember(BadSignature):
    """A signature recovers to an address outside the committee (or not at its index)."""

    code = "quorum-not-member"


class DuplicateSigner(BadSignature):
    """One committee member signs twice (it would be counted twice)."""

    code = "quorum-duplicate-signer"


class OutOfOrder(BadSignature):
    """Signers (or guardian indices) are not strictly increasing where the rules demand it."""

    code = "quorum-out-of-order"


class IndexOutOfRange(BadSignature):
    """A signature names a member index past the end of the set."""

    code = "quorum-index-out-of-range"


class UnknownSet(BadSignature):
    """The certificate names a committee (guardian set) the verifier does not hold."""

    code = "quorum-unknown-set"


__all__ = [
    "BadV",
    "DuplicateSigner",
    "HighS",
    "IndexOutOfRange",
    "MalformedSignature",
    "NotMember",
    "OutOfOrder",
    "TooFewSignatures",
    "UnknownSet",
    "Unrecoverable",
]
