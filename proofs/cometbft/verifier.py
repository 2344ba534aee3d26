"""CometBFT light-client verification: adjacent and skipping, as pure functions.

The rules are CometBFT's ``light/verifier.go`` and tendermint-rs's
``light-client-verifier`` (whose model-based vectors this module passes).
``verify_light_block`` runs, in tendermint-rs's order (the first failure
raises; every error is a :mod:`proofs.cometbft.errors` class):

1. :func:`validate_light_block` — the block on its own: ``validators_hash``
   and ``next_validators_hash`` match the given sets, the commit is for this
   header (block id hash, height), it has one slot per validator, every
   signer is in the set and signs once;
2. :func:`validate_against_trusted` — the trusted state has not expired
   (``now < trusted.time + trusting_period``), the header's time is after the
   trusted time, same chain id, and either adjacent (``height == trusted + 1``
   and ``validators_hash == trusted.next_validators_hash``) or higher;
3. :func:`validate_not_from_future` — ``header.time < now + max_clock_drift``;
4. commit power — non-adjacent only: validators of the TRUSTED next set that
   signed hold more than ``trust_level`` (default 1/3) of its power, else
   :class:`NotEnoughTrust` (bisect); then, always, signers hold more than
   2/3 of the block's own set, else :class:`InsufficientSigners`.

Every non-absent signature of a validator the check looks up is verified
(a bad one is :class:`InvalidCommitSignature`, even past the threshold: this
matches tendermint-rs and is stricter than Go's early exit); only
``COMMIT``-flagged votes count. Thresholds are exact fractions:
``tallied * den > total * num``.

SECURITY: the trust model is CometBFT's: while a trusted state is within its
trusting period, fewer than 1/3 of its next validators' power is faulty. A
trust level below 1/3 voids that bound, so it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final

from core.errors import InvalidInput, VerificationError
from proofs.cometbft.encoding import vote_sign_bytes
from proofs.cometbft.errors import (
    AdjacentValidatorsMismatch,
    ChainIdMismatch,
    CommitSizeMismatch,
    DuplicateSigner,
    HeaderCommitMismatch,
    HeaderFromFuture,
    InsufficientSigners,
    InvalidCommitSignature,
    MalformedBlock,
    NextValidatorsHashMismatch,
    NonIncreasingHeight,
    NonIncreasingTime,
    NotEnoughTrust,
    TrustExpired,
    UnknownSigner,
    ValidatorsHashMismatch,
)
from proofs.cometbft.hashing import header_hash, validator_set_hash
from proofs.cometbft.signatures import is_valid_ed25519
from proofs.cometbft.types import (
    NS_PER_SECOND,
    BlockIdFlag,
    LightBlock,
    SignedHeader,
    ValidatorSet,
)

DEFAULT_TRUST_LEVEL: Final = Fraction(1, 3)
TWO_THIRDS: Final = Fraction(2, 3)
DEFAULT_MAX_CLOCK_DRIFT_NS: Final = 10 * NS_PER_SECOND
"""CometBFT's light client default (``defaultMaxClockDrift``)."""


@dataclass(frozen=True, slots=True)
class TrustOptions:
    """The verification parameters: trusting period, clock drift (ns) and trust level.

    ``trust_level`` is a fraction in ``[1/3, 1]`` (CometBFT's
    ``ValidateTrustLevel``); ``InvalidInput`` otherwise.
    """

    trusting_period_ns: int
    max_clock_drift_ns: int = DEFAULT_MAX_CLOCK_DRIFT_NS
    trust_level: Fraction = DEFAULT_TRUST_LEVEL

    def __post_init__(self) -> None:
        for name in ("trusting_period_ns", "max_clock_drift_ns"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{name} must be a non-negative integer", field=name)
        if self.trusting_period_ns == 0:
            raise InvalidInput("trusting_period_ns must be positive", field="trusting_period_ns")
        level = self.trust_level
        if not isinstance(level, Fraction) or not DEFAULT_TRUST_LEVEL <= level <= 1:
            raise InvalidInput("trust_level must be a Fraction in [1/3, 1]", field="trust_level")


@dataclass(frozen=True, slots=True)
class TrustedBlock:
    """What the client trusts at one height: enough to verify the next headers.

    ``next_validators`` hashes to ``next_validators_hash`` (checked when built).
    """

    chain_id: str
    height: int
    time_ns: int
    hash: bytes
    app_hash: bytes
    next_validators_hash: bytes
    next_validators: ValidatorSet = field(repr=False)

    @classmethod
    def from_signed_header(
        cls, signed_header: SignedHeader, next_validators: ValidatorSet
    ) -> TrustedBlock:
        """A trust anchor (checkpoint) from a signed header and its next validator set.

        SECURITY: the commit's signatures are NOT checked: the anchor is trusted
        out of band (an operator's checkpoint, a governance-approved height).
        Checked: the header hashes to the commit's block id and the next set
        hashes to ``next_validators_hash`` (the anchor is self-consistent).
        """
        header = signed_header.header
        computed = header_hash(header)
        if computed != signed_header.commit.block_id.hash:
            raise HeaderCommitMismatch(
                f"header {header.height} hashes to {computed.hex()}, the commit is for "
                f"{signed_header.commit.block_id.hash.hex()}",
                height=header.height,
            )
        _check_set_hash(next_validators, header.next_validators_hash, NextValidatorsHashMismatch)
        return cls(
            chain_id=header.chain_id,
            height=header.height,
            time_ns=header.time_ns,
            hash=computed,
            app_hash=header.app_hash,
            next_validators_hash=header.next_validators_hash,
            next_validators=next_validators,
        )


# --- the block on its own -------------------------------------------------------------------


def _check_set_hash(
    validators: ValidatorSet, expected: bytes, error: type[VerificationError]
) -> None:
    computed = validator_set_hash(validators)
    if computed != expected:
        raise error(
            f"validator set hashes to {computed.hex()}, the header says {expected.hex()}",
            computed=computed.hex(),
            expected=expected.hex(),
        )


def validate_light_block(block: LightBlock) -> bytes:
    """Check a block on its own; return its header hash.

    Checks, in order: ``validators_hash`` (:class:`ValidatorsHashMismatch`),
    ``next_validators_hash`` when the next set is given
    (:class:`NextValidatorsHashMismatch`), header hash == commit block id hash
    and same height (:class:`HeaderCommitMismatch`), one commit slot per
    validator (:class:`CommitSizeMismatch`), at least one non-absent
    signature, every signer in the set (:class:`UnknownSigner`) and once
    (:class:`DuplicateSigner`).
    """
    header, commit = block.header, block.commit
    _check_set_hash(block.validators, header.validators_hash, ValidatorsHashMismatch)
    if block.next_validators is not None:
        _check_set_hash(
            block.next_validators, header.next_validators_hash, NextValidatorsHashMismatch
        )
    computed = header_hash(header)
    if computed != commit.block_id.hash:
        raise HeaderCommitMismatch(
            f"header {header.height} hashes to {computed.hex()}, the commit is for "
            f"{commit.block_id.hash.hex()}",
            height=header.height,
        )
    if commit.height != header.height:
        raise HeaderCommitMismatch(
            f"commit is for height {commit.height}, the header is {header.height}",
            height=header.height,
        )
    if len(commit.signatures) != len(block.validators):
        raise CommitSizeMismatch(
            f"commit has {len(commit.signatures)} signatures for {len(block.validators)} "
            "validators",
            height=header.height,
        )
    seen: set[bytes] = set()
    for index, sig in enumerate(commit.signatures):
        if sig.flag is BlockIdFlag.ABSENT:
            continue
        if block.validators.get(sig.validator_address) is None:
            raise UnknownSigner(
                f"signature {index} is from {sig.validator_address.hex()}, not in the set",
                height=header.height,
                index=index,
            )
        if sig.validator_address in seen:
            raise DuplicateSigner(
                f"validator {sig.validator_address.hex()} signs twice", height=header.height
            )
        seen.add(sig.validator_address)
    if not seen:
        raise MalformedBlock("commit has no signature", height=header.height)
    return computed


# --- the block against the trusted state ----------------------------------------------------


def is_within_trusting_period(trusted_time_ns: int, options: TrustOptions, now_ns: int) -> bool:
    """``now < trusted_time + trusting_period`` (never raises for ints)."""
    return now_ns < trusted_time_ns + options.trusting_period_ns


def validate_against_trusted(
    trusted: TrustedBlock, block: LightBlock, options: TrustOptions, now_ns: int
) -> None:
    """Checks, in order: :class:`TrustExpired`, :class:`NonIncreasingTime`,
    :class:`ChainIdMismatch`, then :class:`AdjacentValidatorsMismatch` (adjacent)
    or :class:`NonIncreasingHeight` (otherwise)."""
    header = block.header
    if not is_within_trusting_period(trusted.time_ns, options, now_ns):
        raise TrustExpired(
            f"trusted header {trusted.height} expired at "
            f"{trusted.time_ns + options.trusting_period_ns} ns (now {now_ns})",
            height=trusted.height,
        )
    if header.time_ns <= trusted.time_ns:
        raise NonIncreasingTime(
            f"header {header.height} time {header.time_ns} is not after the trusted "
            f"time {trusted.time_ns}",
            height=header.height,
        )
    if header.chain_id != trusted.chain_id:
        raise ChainIdMismatch(
            f"header is for chain {header.chain_id!r}, the client for {trusted.chain_id!r}",
            height=header.height,
        )
    if header.height == trusted.height + 1:
        if header.validators_hash != trusted.next_validators_hash:
            raise AdjacentValidatorsMismatch(
                f"adjacent header {header.height} names validators {header.validators_hash.hex()}"
                f", the trusted header named {trusted.next_validators_hash.hex()}",
                height=header.height,
            )
    elif header.height <= trusted.height:
        raise NonIncreasingHeight(
            f"header {header.height} is not above the trusted height {trusted.height}",
            height=header.height,
        )


def validate_not_from_future(block: LightBlock, options: TrustOptions, now_ns: int) -> None:
    """``header.time < now + max_clock_drift``, else :class:`HeaderFromFuture`."""
    if block.header.time_ns >= now_ns + options.max_clock_drift_ns:
        raise HeaderFromFuture(
            f"header {block.height} time {block.header.time_ns} is not before now {now_ns} + "
            f"drift {options.max_clock_drift_ns}",
            height=block.height,
        )


# --- commit power -----------------------------------------------------------------------------


class _SignatureCache:
    """Verifies each commit slot's signature at most once across the two power checks."""

    def __init__(self, block: LightBlock) -> None:
        self._block = block
        self._verified: set[int] = set()

    def require(self, index: int, pub_key: bytes) -> None:
        if index in self._verified:
            return
        header, commit = self._block.header, self._block.commit
        sig = commit.signatures[index]
        block_id = commit.block_id if sig.flag is BlockIdFlag.COMMIT else None
        message = vote_sign_bytes(
            header.chain_id, commit.height, commit.round, block_id, sig.timestamp_ns
        )
        if not is_valid_ed25519(pub_key, message, sig.signature):
            raise InvalidCommitSignature(
                f"signature {index} of {sig.validator_address.hex()} does not verify",
                height=header.height,
                index=index,
            )
        self._verified.add(index)


def tally_power(
    block: LightBlock, validators: ValidatorSet, cache: _SignatureCache | None = None
) -> int:
    """Power of ``validators`` whose COMMIT signatures on ``block`` verify.

    Signers outside ``validators`` are skipped; every non-absent signature of a
    member is verified (:class:`InvalidCommitSignature`); a member twice is
    :class:`DuplicateSigner`.
    """
    cache = cache or _SignatureCache(block)
    tallied = 0
    seen: set[bytes] = set()
    for index, sig in enumerate(block.commit.signatures):
        if sig.flag is BlockIdFlag.ABSENT:
            continue
        if sig.validator_address in seen:
            raise DuplicateSigner(
                f"validator {sig.validator_address.hex()} signs twice", height=block.height
            )
        seen.add(sig.validator_address)
        validator = validators.get(sig.validator_address)
        if validator is None:
            continue
        cache.require(index, validator.pub_key)
        if sig.flag is BlockIdFlag.COMMIT:
            tallied += validator.voting_power
    return tallied


def has_enough_power(tallied: int, total: int, level: Fraction) -> bool:
    """``tallied > total * level``, exactly."""
    return tallied * level.denominator > total * level.numerator


def _require_power(
    block: LightBlock,
    validators: ValidatorSet,
    level: Fraction,
    error: type[VerificationError],
    cache: _SignatureCache,
    what: str,
) -> None:
    tallied = tally_power(block, validators, cache)
    if not has_enough_power(tallied, validators.total_power, level):
        raise error(
            f"signers of {block.height} hold {tallied} of {validators.total_power} {what}; "
            f"more than {level} is needed",
            height=block.height,
            tallied=tallied,
            total=validators.total_power,
        )


# --- the whole check ------------------------------------------------------------------------


def verify_light_block(
    trusted: TrustedBlock,
    block: LightBlock,
    options: TrustOptions,
    now_ns: int,
    *,
    check_future: bool = True,
) -> TrustedBlock:
    """Verify ``block`` from ``trusted`` (adjacent or skipping); return the new trusted block.

    The checks and their order are the module's. ``check_future=False`` is for
    misbehaviour evidence only (tendermint-rs ``verify_misbehaviour_header``).
    The block must carry its next validator set to become trusted
    (:class:`MalformedBlock` otherwise, after all other checks passed).
    """
    _require_now(now_ns)
    computed = validate_light_block(block)
    validate_against_trusted(trusted, block, options, now_ns)
    if check_future:
        validate_not_from_future(block, options, now_ns)
    cache = _SignatureCache(block)
    if block.height != trusted.height + 1:
        _require_power(
            block,
            trusted.next_validators,
            options.trust_level,
            NotEnoughTrust,
            cache,
            "of the trusted validators' power",
        )
    _require_power(
        block, block.validators, TWO_THIRDS, InsufficientSigners, cache, "of its own set's power"
    )
    if block.next_validators is None:
        raise MalformedBlock(
            f"block {block.height} verified but lacks its next validator set", height=block.height
        )
    header = block.header
    return TrustedBlock(
        chain_id=header.chain_id,
        height=header.height,
        time_ns=header.time_ns,
        hash=computed,
        app_hash=header.app_hash,
        next_validators_hash=header.next_validators_hash,
        next_validators=block.next_validators,
    )


def verify_adjacent(
    trusted: TrustedBlock, block: LightBlock, options: TrustOptions, now_ns: int
) -> TrustedBlock:
    """:func:`verify_light_block` for ``block.height == trusted.height + 1`` only."""
    if block.height != trusted.height + 1:
        raise InvalidInput(f"block {block.height} is not adjacent to {trusted.height}")
    return verify_light_block(trusted, block, options, now_ns)


def verify_skipping(
    trusted: TrustedBlock, block: LightBlock, options: TrustOptions, now_ns: int
) -> TrustedBlock:
    """:func:`verify_light_block` for ``block.height > trusted.height + 1`` only."""
    if block.height <= trusted.height + 1:
        raise InvalidInput(f"block {block.height} is not beyond {trusted.height + 1}")
    return verify_light_block(trusted, block, options, now_ns)


Fetch = Callable[[int], LightBlock]
"""Bisection's source of light blocks by height (the caller does the I/O first)."""

DEFAULT_MAX_BISECTION_BLOCKS: Final = 64


def verify_bisection(
    trusted: TrustedBlock,
    target: LightBlock,
    fetch: Fetch,
    options: TrustOptions,
    now_ns: int,
    *,
    max_blocks: int = DEFAULT_MAX_BISECTION_BLOCKS,
) -> list[TrustedBlock]:
    """Skipping verification with bisection (CometBFT ``VerifyNonAdjacent`` loop).

    Tries ``target``; on :class:`NotEnoughTrust` verifies the block half way
    first, and so on. Returns the trusted blocks verified, ``target``'s last.
    ``fetch`` is called with heights strictly between ``trusted`` and the
    current goal; at most ``max_blocks`` are fetched (:class:`NotEnoughTrust`).
    """
    verified: list[TrustedBlock] = []
    pending = [target]
    fetched = 0
    while pending:
        goal = pending[-1]
        try:
            trusted = verify_light_block(trusted, goal, options, now_ns)
        except NotEnoughTrust:
            pivot = (trusted.height + goal.height) // 2
            if pivot <= trusted.height or fetched >= max_blocks:
                raise
            fetched += 1
            pending.append(fetch(pivot))
            continue
        verified.append(trusted)
        pending.pop()
    return verified


def _require_now(now_ns: object) -> None:
    if isinstance(now_ns, bool) or not isinstance(now_ns, int):
        raise InvalidInput("now_ns must be an integer (nanoseconds since the epoch)")


__all__ = [
    "DEFAULT_MAX_CLOCK_DRIFT_NS",
    "DEFAULT_TRUST_LEVEL",
    "TWO_THIRDS",
    "Fetch",
    "TrustOptions",
    "TrustedBlock",
    "has_enough_power",
    "is_within_trusting_period",
    "tally_power",
    "validate_against_trusted",
    "validate_light_block",
    "validate_not_from_future",
    "verify_adjacent",
    "verify_bisection",
    "verify_light_block",
    "verify_skipping",
]
