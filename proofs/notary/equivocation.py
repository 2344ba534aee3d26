"""Equivocation evidence: one notary signing two different digests for one (route, sequence).

A ``(route, sequence)`` names exactly one packet, so an honest notary signs at
most one digest for it: the delivery digest for its destination, or (after
the timeout) the non-delivery digest for its source, never both and never two
different packets. Two signed statements that break this are evidence
anyone can check offline: both signatures recover to the notary's address.

A statement whose signature does not recover to its claimed notary is not
evidence against that notary (anyone could have written it), so
:func:`check_equivocation` returns ``None`` for it. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import VerificationError
from proofs.notary.ecdsa import PUJIANG_BRIDGE, recover, to_address


@dataclass(frozen=True, slots=True)
class SignedStatement:
    """A notary's signature over ``digest`` about packet ``sequence`` of ``route_id``."""

    notary: bytes  # 20-byte address
    route_id: str
    sequence: int
    digest: bytes
    signature: bytes  # 65 bytes r ‖ s ‖ v
    kind: str = "delivery"  # "delivery" or "nondelivery": informative, not part of the rule


@dataclass(frozen=True, slots=True)
class EquivocationEvidence:
    """Two verified statements of ``notary`` about one packet with different digests.

    ``first``/``second`` are ordered by digest, so the same pair makes the same evidence.
    """

    notary: bytes
    route_id: str
    sequence: int
    first: SignedStatement
    second: SignedStatement


def is_signed_by(statement: SignedStatement) -> bool:
    """Whether the statement's signature recovers to its notary (low s, v 27/28)."""
    try:
        return recover(statement.digest, statement.signature, PUJIANG_BRIDGE) == to_address(
            statement.notary
        )
    except (VerificationError, ValueError):
        return False


def check_equivocation(a: SignedStatement, b: SignedStatement) -> EquivocationEvidence | None:
    """Evidence when ``a`` and ``b`` are one notary's signatures over two different digests
    for one (route, sequence); ``None`` otherwise (other notary, other packet, same
    digest, or a signature that does not verify)."""
    if to_address(a.notary) != to_address(b.notary):
        return None
    if (a.route_id, a.sequence) != (b.route_id, b.sequence) or a.digest == b.digest:
        return None
    if not (is_signed_by(a) and is_signed_by(b)):
        return None
    first, second = sorted((a, b), key=lambda s: s.digest)
    return EquivocationEvidence(to_address(a.notary), a.route_id, a.sequence, first, second)


__all__ = ["EquivocationEvidence", "SignedStatement", "check_equivocation", "is_signed_by"]
