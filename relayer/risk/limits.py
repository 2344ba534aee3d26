"""Risk limits as a ``core.holds.TransferCheck``: per-transfer maximum, rolling window, rate, delay.

Built per screening over the :class:`core.records.RiskView` the store read inside the
screening transaction (``RiskStore.screen``), so the figures it judges by are the
ones no other writer can change before the verdict is written. Pure: no I/O, ``now``
passed in. Each limit of the route that matches the candidate's denomination (its
own row, and the route-wide ``*`` row) gives a verdict; ``core.holds.strictest``
picks the one that applies. Rule names are stable (``route:<id>/<part>/<denom>``)
so an operator can search the audit log and the held queue by them.

Window release time: the admitted entries of the window, oldest first, age out one by
one; the transfer is released at the moment enough of them have left that it fits
(``admitted_at + window_seconds`` of the last one that must leave). Nothing here is
hand-rolled that a library offers: this is a sum over a sorted list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from core.holds import Candidate, Hold, Reject, Verdict, strictest
from core.records import ALL_DENOMS, RiskLimitRecord, RiskView, WindowEntry

RATE_WINDOW = 60.0


def applies(limit: RiskLimitRecord, denom: str) -> bool:
    """Whether ``limit`` covers a transfer of ``denom`` (its own row or the route's ``*``)."""
    return limit.denom == ALL_DENOMS or limit.denom == denom


def entries_of(limit: RiskLimitRecord, admitted: Sequence[WindowEntry]) -> list[WindowEntry]:
    """The admitted entries a limit counts (all of the route's for ``*``)."""
    return [e for e in admitted if applies(limit, e.denom)]


def window_usage(limit: RiskLimitRecord, admitted: Sequence[WindowEntry], now: float) -> int:
    """The value ``limit``'s window holds at ``now``: entries admitted in ``(now - W, now]``."""
    if limit.window_seconds is None:
        return 0
    since = now - limit.window_seconds
    return sum(e.amount for e in entries_of(limit, admitted) if e.admitted_at > since)


def rate_usage(limit: RiskLimitRecord, admitted: Sequence[WindowEntry], now: float) -> int:
    """Transfers ``limit`` counts in the last minute."""
    since = now - RATE_WINDOW
    return sum(1 for e in entries_of(limit, admitted) if e.admitted_at > since)


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class LimitsCheck:
    """The route's limits over what it admitted (``view``), as one ``TransferCheck``."""

    view: RiskView
    name: str = "limits"

    def check(self, candidate: Candidate, now: float) -> Verdict:
        verdicts: list[Verdict] = []
        for limit in self.view.limits:
            if limit.route_id != candidate.route_id or not applies(limit, candidate.denom):
                continue
            verdicts += [
                self._max(limit, candidate),
                self._delay(limit, candidate, now),
                self._window(limit, candidate, now),
                self._rate(limit, candidate, now),
            ]
        return strictest(verdicts)

    @staticmethod
    def _rule(limit: RiskLimitRecord, part: str) -> str:
        return f"route:{limit.route_id}/{part}/{limit.denom}"

    def _max(self, limit: RiskLimitRecord, c: Candidate) -> Verdict:
        if limit.max_amount is None or c.amount <= limit.max_amount:
            return None
        reason = f"amount {c.amount} {c.denom} is above the per-transfer maximum {limit.max_amount}"
        if limit.over_max == "reject":
            return Reject(self._rule(limit, "max"), reason)
        return Hold(self._rule(limit, "max"), reason + " (held for review)", None)

    def _delay(self, limit: RiskLimitRecord, c: Candidate, now: float) -> Verdict:
        if limit.delay_threshold is None or limit.delay_seconds is None:
            return None
        if c.amount < limit.delay_threshold:
            return None
        release = c.created_at + limit.delay_seconds
        if now >= release:
            return None
        reason = (
            f"amount {c.amount} {c.denom} is at least {limit.delay_threshold}: large transfers "
            f"wait {limit.delay_seconds} s, until {_when(release)}"
        )
        return Hold(self._rule(limit, "delay"), reason, release)

    def _window(self, limit: RiskLimitRecord, c: Candidate, now: float) -> Verdict:
        if limit.window_seconds is None or limit.window_amount is None:
            return None
        cap, span = limit.window_amount, limit.window_seconds
        rule = self._rule(limit, "window")
        if c.amount > cap:
            return Hold(
                rule,
                f"amount {c.amount} is above the whole {span} s window limit {cap} "
                "(held for review)",
                None,
            )
        since = now - span
        inside = [e for e in entries_of(limit, self.view.admitted) if e.admitted_at > since]
        used = sum(e.amount for e in inside)
        if used + c.amount <= cap:
            return None
        release = now
        for entry in sorted(inside, key=lambda e: e.admitted_at):
            used -= entry.amount
            release = entry.admitted_at + span
            if used + c.amount <= cap:
                break
        reason = (
            f"{sum(e.amount for e in inside)} of {cap} already moved in the last {span} s "
            f"and this transfer adds {c.amount}; the window allows it at {_when(release)}"
        )
        return Hold(rule, reason, release)

    def _rate(self, limit: RiskLimitRecord, c: Candidate, now: float) -> Verdict:
        if limit.rate_per_minute is None:
            return None
        since = now - RATE_WINDOW
        times = sorted(
            e.admitted_at for e in entries_of(limit, self.view.admitted) if e.admitted_at > since
        )
        if len(times) < limit.rate_per_minute:
            return None
        # The minute must shed enough entries to leave room for one more.
        release = times[len(times) - limit.rate_per_minute] + RATE_WINDOW
        reason = (
            f"{len(times)} transfers in the last minute (at most {limit.rate_per_minute}); "
            f"the rate allows it at {_when(release)}"
        )
        return Hold(self._rule(limit, "rate"), reason, release)


__all__ = ["LimitsCheck", "applies", "rate_usage", "window_usage"]
