"""What the relayer does with an error, and how long it waits before trying again.

One decision table (:func:`classify`) for every step, so that a new error
class is handled the same way everywhere:

=====================================  ===========================================
error                                  outcome
=====================================  ===========================================
``ClientFrozen``, ``Misbehaviour``     ``FREEZE``: the route stops and says why
``HeaderExpired``                      ``WAIT_OPERATOR``: the trust anchor is stale;
                                       only an operator's new checkpoint helps
``InvalidHeader``                      ``WAIT_OPERATOR``: the source's header breaks
                                       its chain's rules; see below
other ``VerificationError``            ``REJECT``: the claim is false, never retried
``LeaseLost``, ``InvalidTransition``   ``YIELD``: another worker moved the transfer
``retryable`` errors, httpx transport  ``RETRY``: exponential backoff, full jitter
errors, ``TimeoutError``, ``OSError``
anything else (config, rejected tx,    ``WAIT_OPERATOR``: a note with the reason
unexpected bugs)                       and the long ``config_backoff``
=====================================  ===========================================

Why a header that breaks its chain's rules parks the transfer instead of rejecting
it: the header is the chain's (or the node's that served it), not the transfer's.
Either that node lies, and another one would serve the true header, or the chain
itself broke a rule the light client holds; both are an operator's to decide, and
nothing is relayed meanwhile. ``rejected`` is terminal, with the sender's funds
locked on the source: anvil once stamped two blocks with the same second under a
benchmark's load, and 6,327 genuine transfers were rejected for it.

Backoff is "full jitter" (AWS architecture blog, *Exponential Backoff And
Jitter*): ``uniform(0, min(cap, base * 2**attempt))``, which spreads the
retries of many transfers hit by one outage instead of synchronising them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import StrEnum

import httpx

from core.errors import (
    ClientFrozen,
    HeaderExpired,
    InvalidHeader,
    InvalidTransition,
    LeaseLost,
    Misbehaviour,
    PjgwError,
    VerificationError,
)

MAX_EXPONENT = 32  # 2**32 * base is far above any cap; keeps the float finite


class Disposition(StrEnum):
    RETRY = "retry"
    REJECT = "reject"
    FREEZE = "freeze"
    YIELD = "yield"
    WAIT_OPERATOR = "wait_operator"


def classify(err: BaseException) -> Disposition:
    """The outcome of ``err`` by the module's table (never raises)."""
    if isinstance(err, ClientFrozen | Misbehaviour):
        return Disposition.FREEZE
    if isinstance(err, HeaderExpired | InvalidHeader):
        return Disposition.WAIT_OPERATOR
    if isinstance(err, VerificationError):
        return Disposition.REJECT
    if isinstance(err, LeaseLost | InvalidTransition):
        return Disposition.YIELD
    if isinstance(err, PjgwError):
        return Disposition.RETRY if err.retryable else Disposition.WAIT_OPERATOR
    if isinstance(err, httpx.TransportError | TimeoutError | ConnectionError | OSError):
        return Disposition.RETRY
    return Disposition.WAIT_OPERATOR


def is_retryable(err: BaseException) -> bool:
    """True when repeating the operation later may succeed."""
    return classify(err) is Disposition.RETRY


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0).

    Full jitter: uniform in ``[0, min(cap, base * 2**attempt)]``.
    """
    if attempt < 0:
        raise ValueError("attempt counts from 0")
    ceiling = min(cap, base * 2.0 ** min(attempt, MAX_EXPONENT))
    return rand(0.0, ceiling)


def describe(err: BaseException) -> str:
    """A one-line reason for a transfer's history (typed errors carry their code).

    SECURITY: only the message is used; ``details`` may hold raw chain data and
    are left out of the history.
    """
    if isinstance(err, PjgwError):
        return str(err)
    text = str(err) or type(err).__name__
    return f"[{type(err).__name__}] {text}"[:500]
