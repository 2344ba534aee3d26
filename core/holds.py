"""What a risk control or a payload policy says about a transfer: let it pass, hold it, reject it.

The hub checks a transfer twice: when an application creates it through the API
(before anything is sent on the source chain) and when the relayer has proven a
packet on its source (a user may call the bridge directly). Every check — value
limits, rate limits, large-transfer delays, payload policies — answers with one
:data:`Verdict`, and :func:`strictest` folds several answers into the one that
applies, so the relayer and the API cannot disagree about what a set of rules
means (docs/supervision.md).

A held transfer rests in ``TransferState.HELD``: visible, with the rule that
fired, the reason in words, and when it will be released by itself (``None``:
only a supervisor releases it). A rejected one is refused by policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

Origin = Literal["api", "source"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """The facts about one transfer that rules may look at (chain-neutral).

    Addresses are in their own chain's text form (what an operator writes in a
    rule); ``payload`` is the message's bytes (empty for a plain asset transfer).
    """

    transfer_id: str
    route_id: str
    origin: Origin
    sender: str
    receiver: str
    denom: str
    amount: int
    payload: bytes = b""
    content_type: str = ""
    created_at: float = 0.0  # when the hub first recorded it (a large-transfer delay runs from it)


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep the transfer until ``release_at`` (unix seconds) or a supervisor's decision."""

    rule: str  # the stable name of the rule that fired, e.g. "route:r1/window/upj"
    reason: str  # for people: what was exceeded, by how much
    release_at: float | None = None  # None: only a supervisor releases it


@dataclass(frozen=True, slots=True)
class Reject:
    """Refuse the transfer (refunded on its source when it already left it)."""

    rule: str
    reason: str


Verdict = Hold | Reject | None  # None: the rule lets it pass


class TransferCheck(Protocol):
    """One family of rules (limits, policies): its verdict on a candidate at ``now``."""

    name: str

    def check(self, candidate: Candidate, now: float) -> Verdict: ...


def strictest(verdicts: Iterable[Verdict]) -> Verdict:
    """The verdict that applies: a rejection beats a hold; a review hold (no release
    time) beats a timed one; of timed holds, the one released last; ties keep the
    first given (rules are evaluated in a stable order)."""
    best: Verdict = None
    for v in verdicts:
        if v is None:
            continue
        if best is None or _rank(v) > _rank(best):
            best = v
    return best


def _rank(v: Hold | Reject) -> tuple[int, float]:
    if isinstance(v, Reject):
        return (3, 0.0)
    if v.release_at is None:
        return (2, 0.0)
    return (1, v.release_at)
