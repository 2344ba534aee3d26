"""Validator sets and commits of a Pujiang subchain: the checks behind every header.

A commit (``docs/pujiang-chain.md``, "Commit") is valid for a header when, in
this order, cheapest first and the pairing last:

1. ``commit.height == header.height`` (``InvalidHeader``, check ``commit-height``);
2. ``commit.header_hash == H(header)`` (``InvalidHeader``, ``commit-header-hash``);
3. the signer bitmap has ``ceil(n/8)`` bytes and no bit past ``n``
   (``BadEncoding``, ``signers-bitmap``);
4. the signers hold more than 2/3 of the set's power (``InsufficientPower``,
   ``quorum``); when skipping, also more than 1/3 of a *trusted* set's power,
   the trusted signers found by public key (``InsufficientPower``, ``trust-overlap``);
5. the set is accepted: every key a subgroup point (``validator-key``) with a
   valid proof of possession (``BadSignature``, ``proof-of-possession``), once
   per set;
6. ``FastAggregateVerify`` of the signers over the signing payload
   (``BadSignature``, ``aggregate-signature``).

Every error carries ``details["check"]`` with the name above, so a caller (and
a vector) can tell *which* rule failed, not only which class of rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TypeVar

import proofs.bls as bls
from core.errors import (
    BadEncoding,
    BadSignature,
    InsufficientPower,
    InvalidHeader,
    InvalidInput,
    VerificationError,
)
from proofs.hashing import HashFunction
from proofs.pujiang import codec
from proofs.pujiang.codec import Commit, Header, Validator

BackendArg = bls.Backend | str | None
T = TypeVar("T")


@contextmanager
def checking(check: str, **details: object) -> Iterator[None]:
    """Name the rule a lower layer (codec, merkle, bls) rejected with, unless it did."""
    try:
        yield
    except VerificationError as err:
        err.details.setdefault("check", check)
        for key, value in details.items():
            err.details.setdefault(key, value)
        raise


@dataclass(frozen=True, eq=False, slots=True)
class ValidatorSet:
    """A decoded validator set; ``keys`` is set once the set is accepted.

    SECURITY: only an accepted set (``keys is not None``: every key
    subgroup-checked, every proof of possession verified, see
    :func:`accept_validator_set`) may verify an aggregate signature; without
    the PoPs a rogue key could cancel the others out of the aggregate.
    """

    validators: tuple[Validator, ...]
    encoded: bytes
    hash: bytes
    powers: tuple[int, ...]
    total_power: int
    power_by_pubkey: Mapping[bytes, int]
    keys: bls.ValidatorSetKeys | None = None

    def __len__(self) -> int:
        return len(self.validators)

    @property
    def accepted(self) -> bool:
        return self.keys is not None


def decode_validator_set(encoded: bytes, hash_fn: HashFunction) -> ValidatorSet:
    """Decode and hash a set (shape checked by the codec); not yet accepted.

    ``BadEncoding`` with check ``encoding`` when the bytes are not a canonical,
    sorted, bounded set.
    """
    with checking("encoding", object="validators"):
        validators = tuple(codec.decode_validator_set(encoded))
    powers = tuple(v.power for v in validators)
    return ValidatorSet(
        validators=validators,
        encoded=bytes(encoded),
        hash=codec.compute_validators_hash(validators, hash_fn),
        powers=powers,
        total_power=sum(powers),
        power_by_pubkey=MappingProxyType({v.bls_pubkey: v.power for v in validators}),
    )


def accept_validator_set(valset: ValidatorSet, *, backend: BackendArg = None) -> ValidatorSet:
    """The set with its keys checked once: subgroup and identity, then every PoP.

    Raises the facade's typed error with ``details["index"]`` and check
    ``validator-key`` (``BadEncoding``, ``InfinityPoint``, ``NotInSubgroup``) or
    ``proof-of-possession`` (``BadSignature`` or the signature's decoding error).
    Returns the same object when it is already accepted.
    """
    if valset.keys is not None:
        return valset
    with checking("validator-key"):
        keys = bls.ValidatorSetKeys([v.bls_pubkey for v in valset.validators], backend=backend)
    for index, validator in enumerate(valset.validators):
        if bls.pop_verify(validator.bls_pubkey, validator.pop, backend=backend):
            continue
        with checking("proof-of-possession", index=index):
            bls.validate_pop(validator.bls_pubkey, validator.pop, backend=backend)
            raise BadSignature("proof of possession does not verify")  # pragma: no cover
    return replace(valset, keys=keys)


def validate_commit_binding(commit: Commit, header: Header, header_hash: bytes) -> None:
    """Checks 1-2: the commit is for this height and this header."""
    if commit.height != header.height:
        raise InvalidHeader(
            f"commit is for height {commit.height}, the header is {header.height}",
            check="commit-height",
        )
    if commit.header_hash != header_hash:
        raise InvalidHeader(
            "commit signs another header hash than this header's",
            check="commit-header-hash",
            signed=commit.header_hash.hex(),
            header=header_hash.hex(),
        )


def compute_signers(commit: Commit, valset: ValidatorSet) -> list[int]:
    """Check 3: the signer indices of the bitmap (``BadEncoding``, ``signers-bitmap``)."""
    with checking("signers-bitmap"):
        return codec.decode_signers(commit.signers, len(valset))


def validate_quorum(signers: Sequence[int], valset: ValidatorSet) -> None:
    """Check 4a: more than 2/3 of the set's own power signed."""
    signed = sum(valset.powers[i] for i in signers)
    if not codec.has_quorum(signed, valset.total_power):
        raise InsufficientPower(
            f"signers hold {signed} of {valset.total_power} power, more than 2/3 is needed",
            check="quorum",
            signed=signed,
            total=valset.total_power,
        )


def compute_trusted_power(
    signers: Sequence[int], valset: ValidatorSet, trusted: ValidatorSet
) -> int:
    """Power, in the *trusted* set, of the signers of a commit by ``valset``.

    Signers are matched by public key: indices differ between sets. The power
    counted is the trusted set's (the trusted set is what the 1/3 is of).
    """
    keys = valset.validators
    table = trusted.power_by_pubkey
    return sum(table.get(keys[i].bls_pubkey, 0) for i in signers)


def validate_trust_overlap(
    signers: Sequence[int], valset: ValidatorSet, trusted: ValidatorSet
) -> None:
    """Check 4b (skipping): the signers hold more than 1/3 of the trusted set's power.

    SECURITY: the trust level is fixed at 1/3: if fewer than 1/3 of the
    trusted set is faulty within the trusting period, at least one honest
    trusted validator vouched for this header.
    """
    overlap = compute_trusted_power(signers, valset, trusted)
    if not codec.has_trust_overlap(overlap, trusted.total_power):
        raise InsufficientPower(
            f"signers hold {overlap} of the trusted set's {trusted.total_power} power, "
            "more than 1/3 is needed to skip",
            check="trust-overlap",
            signed=overlap,
            total=trusted.total_power,
        )


def validate_commit_signature(chain_id: bytes, commit: Commit, valset: ValidatorSet) -> None:
    """Check 6: the aggregate over ``rlp([tag, chain_id, height, round, header_hash])``.

    The bool path runs first; the reason is worked out only on failure.
    """
    if valset.keys is None:
        raise InvalidInput("a validator set must be accepted before it verifies a commit")
    payload = codec.compute_commit_signing_payload(
        chain_id, commit.height, commit.round, commit.header_hash
    )
    if valset.keys.verify_bitmap(commit.signers, payload, commit.aggregate_signature):
        return
    with checking("aggregate-signature"):
        valset.keys.validate_bitmap(commit.signers, payload, commit.aggregate_signature)
        raise BadSignature("aggregate signature does not verify")  # pragma: no cover


def validate_commit(
    chain_id: bytes,
    header: Header,
    header_hash: bytes,
    commit: Commit,
    valset: ValidatorSet,
    *,
    trusted: ValidatorSet | None = None,
    backend: BackendArg = None,
) -> ValidatorSet:
    """Checks 1-6 in order; returns ``valset`` accepted (same object if it already was).

    ``trusted``: the trusted set to measure the 1/3 overlap against when
    skipping; ``None`` for adjacent verification (the header's set is the one
    the trusted header named).

    CONTRACT: the caller already checked ``valset.hash == header.validators_hash``.
    """
    validate_commit_binding(commit, header, header_hash)
    signers = compute_signers(commit, valset)
    validate_quorum(signers, valset)
    if trusted is not None:
        validate_trust_overlap(signers, valset, trusted)
    accepted = accept_validator_set(valset, backend=backend)
    validate_commit_signature(chain_id, commit, accepted)
    return accepted


def resolve_validator_set(
    encoded: bytes, known: Sequence[ValidatorSet | None], hash_fn: HashFunction
) -> ValidatorSet:
    """A known (already accepted) set when the bytes are identical, else a fresh decode.

    Byte equality with a canonical encoding is enough: the set decoded from
    those bytes before is the same set, so its checked keys are reused and a
    stable set is decoded and PoP-checked once, not per header.
    """
    if not isinstance(encoded, bytes | bytearray):
        raise BadEncoding("validator set must be bytes", check="encoding", object="validators")
    for candidate in known:
        if candidate is not None and candidate.encoded == encoded:
            return candidate
    return decode_validator_set(bytes(encoded), hash_fn)


def decode_with_check(decoder: Callable[[bytes], T], data: bytes, what: str) -> T:
    """``decoder(data)`` with ``check="encoding"`` and ``object=what`` on failure."""
    with checking("encoding", object=what):
        return decoder(data)
