"""Collecting a notary quorum certificate from the signatures notaries posted to the store.

Notaries post attestations (``Store.add_signature``); anyone can post, so the
hub keeps only a signature that (1) is over the digest the hub computed itself
from the verified packet, (2) recovers (``proofs.notary.ecdsa.recover``: 65
bytes, low ``s``, ``v`` 27/28) to (3) a member of the committee the
destination's bridge trusts, (4) once per member. The certificate is the
first ``threshold`` of those, ordered by signer address: the order the EVM
bridge demands and one the Pujiang module accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.errors import InvalidInput, VerificationError
from core.records import SignatureRecord
from proofs.notary.ecdsa import PUJIANG_BRIDGE, recover, to_address


@dataclass(frozen=True, slots=True)
class Quorum:
    """What the valid signatures add up to for one digest."""

    threshold: int
    members: int
    signers: tuple[bytes, ...]  # distinct members, by address
    signatures: tuple[bytes, ...]  # same order as ``signers``

    @property
    def reached(self) -> bool:
        return self.threshold > 0 and len(self.signers) >= self.threshold

    def certificate(self) -> list[bytes]:
        """Exactly ``threshold`` signatures, by increasing signer address."""
        if not self.reached:
            raise InvalidInput(f"{len(self.signers)} of {self.threshold} signatures")
        return list(self.signatures[: self.threshold])

    def describe(self) -> str:
        return f"{len(self.signers)} of {self.threshold} notaries (committee of {self.members})"


def collect_quorum(
    records: Iterable[SignatureRecord],
    digest: bytes,
    committee: tuple[int, Sequence[str]],
) -> Quorum:
    """The valid, distinct member signatures over ``digest`` (never raises on a bad one)."""
    threshold, members = committee
    member_set = {to_address(m) for m in members}
    found: dict[bytes, bytes] = {}
    for record in records:
        if record.digest != digest:
            continue
        try:
            signer = recover(digest, bytes(record.signature), PUJIANG_BRIDGE)
        except (VerificationError, InvalidInput):
            continue
        if signer in member_set and signer not in found:
            found[signer] = bytes(record.signature)
    ordered = sorted(found)
    return Quorum(
        threshold=threshold,
        members=len(member_set),
        signers=tuple(ordered),
        signatures=tuple(found[s] for s in ordered),
    )
