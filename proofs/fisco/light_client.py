"""A FISCO BCOS 2.x light client: trusted header, sealer-list changes.

Pure: no I/O, no clock (PBFT blocks are final once sealed; the 2.x header
has no validator-set hash and its timestamp is not bounded by consensus, so
there is no trusting-period check to make beyond what the caller decides).

:func:`update_client`, in order:

1. ``fisco-non-increasing-number``: the header is above the trusted number;
2. adjacent only, ``fisco-parent-hash``: ``parentHash`` is the trusted hash;
3. the header checks of :func:`proofs.fisco.header.verify_header` against the
   header's own ``sealerList``;
4. a new sealer list (``sealerList`` differs from the trusted one):
   ``fisco-sealer-change`` unless at least ``quorum(trusted)`` of the trusted
   sealers' keys are among the signers; the new list is then trusted.

SECURITY: a sealer-list change is made by a transaction the old sealers
sealed; requiring a quorum of the old keys on the first header under the new
list is the light client's stand-in for replaying that transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from proofs.fisco.errors import NonIncreasingNumber, ParentMismatch, UnendorsedSealerChange
from proofs.fisco.header import Header, compute_quorum, verify_header


@dataclass(frozen=True, slots=True)
class HeaderUpdate:
    """The latest verified block: number, hash and the sealer list in force."""

    number: int
    hash: bytes
    sealers: tuple[bytes, ...]


def update_client(trusted: HeaderUpdate, header: Header) -> HeaderUpdate:
    """Verify ``header`` above ``trusted`` (module table) and return the new trusted header."""
    if header.number <= trusted.number:
        raise NonIncreasingNumber(f"header {header.number} is not above {trusted.number}")
    if header.number == trusted.number + 1 and header.parent_hash != trusted.hash:
        raise ParentMismatch("the header's parent is not the trusted header")
    signed = verify_header(header)
    if header.sealer_list != trusted.sealers:
        keys = {header.sealer_list[i] for i in signed}
        endorsing = sum(1 for key in set(trusted.sealers) if key in keys)
        needed = compute_quorum(len(trusted.sealers))
        if endorsing < needed:
            raise UnendorsedSealerChange(
                f"{endorsing} of the {len(trusted.sealers)} trusted sealers signed the new list, "
                f"{needed} needed"
            )
    return HeaderUpdate(header.number, header.hash, header.sealer_list)
