"""An m-of-n BLS12-381 aggregate quorum: the certificate shape the issue names for Pujiang.

Not what the devnet bridge module checks today (it takes ECDSA certificates,
so one secp256k1 notary key serves both families; ``docs/notary.md``). Kept
beside the ECDSA rules so that switching a destination to BLS certificates is
a change of verifier, not of quorum arithmetic. The committee's keys are a
``proofs.bls.ValidatorSetKeys``, built (and proof-of-possession checked, the
rogue-key defence) once when the committee is loaded.

:func:`validate_bls_quorum` checks, cheapest first, pairing last: the
threshold is sane; every index is inside the set (``IndexOutOfRange``) and
appears once (``DuplicateSigner``); at least ``threshold`` signers
(``TooFewSignatures``); FastAggregateVerify of the signers' aggregate key
(``BadSignature`` / ``InfinityPoint`` / ``BadEncoding`` from ``proofs.bls``).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import InvalidInput
from proofs.bls import ValidatorSetKeys
from proofs.notary.errors import DuplicateSigner, IndexOutOfRange, TooFewSignatures


def validate_bls_quorum(
    message: bytes,
    signers: Sequence[int],
    aggregate_signature: bytes,
    committee: ValidatorSetKeys,
    threshold: int,
) -> tuple[int, ...]:
    """The signer indices when ``aggregate_signature`` is a quorum's over ``message``."""
    size = len(committee)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= size:
        raise InvalidInput(f"a threshold is 1 .. {size} (the committee size), not {threshold!r}")
    seen: set[int] = set()
    for position, index in enumerate(signers):
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
            raise IndexOutOfRange(f"signer {index!r} outside a set of {size}", position=position)
        if index in seen:
            raise DuplicateSigner(f"member {index} is named twice", position=position)
        seen.add(index)
    if len(seen) < threshold:
        raise TooFewSignatures(f"{len(seen)} signers, the committee needs {threshold}")
    committee.validate(sorted(seen), message, aggregate_signature)
    return tuple(sorted(seen))


__all__ = ["validate_bls_quorum"]
