"""Notary equivocation evidence as a file anyone can check offline (``pjgw evidence``).

The file is the JSON array ``GET /v1/evidence/equivocations`` answers: per item the
notary's address, the packet ``(route_id, sequence)``, and both signed statements
(digest and 65-byte signature). :func:`verify_evidence` rebuilds each pair as
``proofs.notary.equivocation.SignedStatement`` and accepts it only when
``check_equivocation`` does: one notary, one packet, two different digests, both
signatures recovering to the notary. Nothing is trusted from the hub but the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import InvalidInput
from proofs.notary.ecdsa import to_address
from proofs.notary.equivocation import SignedStatement, check_equivocation

MAX_ITEMS = 100_000


class EvidenceInvalid(InvalidInput):
    """An evidence item does not prove an equivocation; ``details["index"]`` names it."""

    code = "evidence-invalid"


def _statement(item: Mapping[str, Any], which: Mapping[str, Any]) -> SignedStatement:
    return SignedStatement(
        notary=to_address(str(item["notary"])),
        route_id=str(item["route_id"]),
        sequence=int(item["sequence"]),
        digest=bytes.fromhex(str(which["digest"]).removeprefix("0x")),
        signature=bytes.fromhex(str(which["signature"]).removeprefix("0x")),
        kind=str(item.get("kind", "delivery")),
    )


def verify_evidence(items: Any) -> list[str]:
    """The notary address of each item, in order; ``EvidenceInvalid`` on the first item that
    proves nothing (malformed, one statement, same digest, a signature of someone else)."""
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise EvidenceInvalid(f"evidence is a JSON array of at most {MAX_ITEMS} items")
    notaries = []
    for index, item in enumerate(items):
        try:
            statements = item["statements"]
            if not isinstance(statements, list) or len(statements) != 2:
                raise ValueError("two statements are needed")
            a, b = (_statement(item, s) for s in statements)
        except (KeyError, TypeError, ValueError, InvalidInput) as err:
            raise EvidenceInvalid(f"item {index} is malformed: {err}", index=index) from None
        evidence = check_equivocation(a, b)
        if evidence is None:
            raise EvidenceInvalid(
                f"item {index} proves no equivocation of {item['notary']} "
                "(same digest, other packet, or a signature that does not recover to it)",
                index=index,
            )
        notaries.append("0x" + evidence.notary.hex())
    return notaries


__all__ = ["EvidenceInvalid", "verify_evidence"]
