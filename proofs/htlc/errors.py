"""The typed refusals of the HTLC rules (``core.errors`` subclasses, stable codes).

The API maps each to a problem+json ``type`` (``https://pujiang.dev/problems/<code>``)
and its ``http_status``; ``details`` carry the numbers that broke the rule
(never a preimage).
"""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, VerificationError


class UnsafeTimelocks(InvalidInput):
    """T1 - T2 is shorter than delta: the responder could be left without time to claim leg 1."""

    code = "htlc-unsafe-timelocks"


class TimelockOutOfRange(InvalidInput):
    """A timelock is in the past, too soon to lock and claim, or further than the hub allows."""

    code = "htlc-timelock-out-of-range"


class InvalidSwapTerms(InvalidInput):
    """The swap's terms are malformed (hashlock size, amount, same chain for both legs…)."""

    code = "htlc-invalid-terms"


class WrongPreimage(VerificationError):
    """sha256(preimage) is not the swap's hashlock (or the preimage is not 32 bytes)."""

    code = "htlc-wrong-preimage"


class HashlockReused(Conflict):
    """Another swap already uses this hashlock; a hashlock serves exactly one swap."""

    code = "htlc-hashlock-reused"


class Leg1NotFinal(Conflict):
    """Leg 1 is not locked, or its lock is not final on chain A yet: leg 2 must wait."""

    code = "htlc-leg1-not-final"
    retryable = True


class Leg1TooLittleTime(Conflict):
    """Leg 1's timelock is too close: leg 2 locked now could not be claimed safely."""

    code = "htlc-leg1-too-little-time"


class ClaimWindowClosed(Conflict):
    """The leg's timelock has passed: it can only be refunded now."""

    code = "htlc-claim-window-closed"


__all__ = [
    "ClaimWindowClosed",
    "HashlockReused",
    "InvalidSwapTerms",
    "Leg1NotFinal",
    "Leg1TooLittleTime",
    "TimelockOutOfRange",
    "UnsafeTimelocks",
    "WrongPreimage",
]
