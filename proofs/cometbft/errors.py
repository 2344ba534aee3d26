"""The typed refusals of the CometBFT light client (``core.errors`` subclasses, stable codes).

Each class names one check, so a test asserts the exact reason and an operator
greps one code. The verdicts of the upstream model-based tests map onto them:
:class:`NotEnoughTrust` is ``NOT_ENOUGH_TRUST`` (the caller may bisect), every
other ``VerificationError`` is ``INVALID``.
"""

from __future__ import annotations

from core.errors import (
    BadEncoding,
    BadSignature,
    HeaderExpired,
    InsufficientPower,
    InvalidHeader,
    Misbehaviour,
)


class MalformedBlock(BadEncoding):
    """A header, commit or validator set breaks CometBFT's ``ValidateBasic`` rules."""

    code = "cometbft-malformed"


class ValidatorsHashMismatch(InvalidHeader):
    """The validator set does not hash to the header's ``validators_hash``."""

    code = "cometbft-validators-hash"


class NextValidatorsHashMismatch(InvalidHeader):
    """The next validator set does not hash to the header's ``next_validators_hash``."""

    code = "cometbft-next-validators-hash"


class HeaderCommitMismatch(InvalidHeader):
    """The commit is for another block (block id hash, height) than the header."""

    code = "cometbft-header-commit-mismatch"


class CommitSizeMismatch(InvalidHeader):
    """The commit has another number of signatures than the set has validators."""

    code = "cometbft-commit-size"


class ChainIdMismatch(InvalidHeader):
    """The header is for another chain than the trusted state."""

    code = "cometbft-chain-id"


class NonIncreasingHeight(InvalidHeader):
    """The header is not above the trusted height."""

    code = "cometbft-non-increasing-height"


class NonIncreasingTime(InvalidHeader):
    """The header's time is not after the trusted header's time (BFT time is monotonic)."""

    code = "cometbft-non-increasing-time"


class HeaderFromFuture(InvalidHeader):
    """The header's time is not before ``now + max_clock_drift``."""

    code = "cometbft-header-from-future"


class AdjacentValidatorsMismatch(InvalidHeader):
    """An adjacent header's ``validators_hash`` is not the trusted ``next_validators_hash``."""

    code = "cometbft-adjacent-validators"


class TrustExpired(HeaderExpired):
    """The trusted header is older than the trusting period at ``now``."""

    code = "cometbft-trust-expired"


class InvalidCommitSignature(BadSignature):
    """A commit signature does not verify under its validator's ed25519 key."""

    code = "cometbft-bad-signature"


class UnknownSigner(BadSignature):
    """A commit signature names a validator that is not in the header's set."""

    code = "cometbft-unknown-signer"


class DuplicateSigner(BadSignature):
    """A validator appears twice among a commit's signatures."""

    code = "cometbft-duplicate-signer"


class NotEnoughTrust(InsufficientPower):
    """Signers from the trusted set hold less than the trust level of its power.

    Not proof of an attack: the header may be honest but too far from the
    trusted one; the caller bisects (verifies a header in between first).
    """

    code = "cometbft-not-enough-trust"


class InsufficientSigners(InsufficientPower):
    """Signers hold no more than 2/3 of the header's own validator set's power."""

    code = "cometbft-insufficient-signers"


class ConflictingHeaders(Misbehaviour):
    """Two valid headers conflict (same height, other hash; or BFT time goes backwards)."""

    code = "cometbft-conflicting-headers"


__all__ = [
    "AdjacentValidatorsMismatch",
    "ChainIdMismatch",
    "CommitSizeMismatch",
    "ConflictingHeaders",
    "DuplicateSigner",
    "HeaderCommitMismatch",
    "HeaderFromFuture",
    "InsufficientSigners",
    "InvalidCommitSignature",
    "MalformedBlock",
    "NextValidatorsHashMismatch",
    "NonIncreasingHeight",
    "NonIncreasingTime",
    "NotEnoughTrust",
    "TrustExpired",
    "UnknownSigner",
    "ValidatorsHashMismatch",
]
