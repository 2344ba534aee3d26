"""``relayer.risk.limits.LimitsCheck``: the verdict of each limit part, exactly, with ``now`` passed
in; the window's release time computed from its contents; ``*`` limits; strictest wins."""

from __future__ import annotations

import pytest

from core.holds import Candidate, Hold, Reject
from core.records import RiskLimitRecord, RiskView, WindowEntry
from relayer.risk.holds import hub_checks
from relayer.risk.limits import LimitsCheck, rate_usage, window_usage

NOW = 10_000.0
R = "r1"


def _c(amount: int = 100, denom: str = "upj", created_at: float = NOW) -> Candidate:
    return Candidate("tr_1", R, "api", "s", "r", denom, amount, created_at=created_at)


def _check(*limits: RiskLimitRecord, admitted: tuple[WindowEntry, ...] = ()) -> LimitsCheck:
    return LimitsCheck(RiskView(tuple(limits), admitted))


def test_no_limit_lets_everything_pass() -> None:
    assert _check().check(_c(10**30), NOW) is None
    assert [c.name for c in hub_checks(RiskView((), ()))] == ["limits"]


@pytest.mark.parametrize(
    ("over_max", "expected"),
    [
        ("reject", Reject(f"route:{R}/max/upj", "amount 101 upj is above the per-transfer "
                          "maximum 100")),
        ("hold", Hold(f"route:{R}/max/upj", "amount 101 upj is above the per-transfer maximum "
                      "100 (held for review)", None)),
    ],
)  # fmt: skip
def test_the_maximum_rejects_or_holds_for_review_as_configured(
    over_max: str, expected: object
) -> None:
    check = _check(RiskLimitRecord(R, "upj", max_amount=100, over_max=over_max))
    assert check.check(_c(100), NOW) is None  # at the maximum: passes
    assert check.check(_c(101), NOW) == expected


def test_the_window_release_time_is_when_enough_of_its_oldest_value_ages_out() -> None:
    limit = RiskLimitRecord(R, "upj", window_seconds=3600, window_amount=1000)
    admitted = (
        WindowEntry(NOW - 3000, "upj", 400),  # leaves at NOW + 600
        WindowEntry(NOW - 2000, "upj", 300),  # leaves at NOW + 1600
        WindowEntry(NOW - 100, "upj", 200),
        WindowEntry(NOW - 5000, "upj", 999),  # outside the window already
        WindowEntry(NOW - 10, "other", 999),  # another denomination
    )
    check = _check(limit, admitted=admitted)
    assert check.check(_c(100), NOW) is None  # 900 + 100 fits exactly
    one = check.check(_c(450), NOW)  # 900 + 450: the oldest (400) must leave
    assert isinstance(one, Hold)
    assert one.release_at == NOW + 600
    verdict = check.check(_c(550), NOW)  # 900 + 550: the two oldest must leave
    assert isinstance(verdict, Hold)
    assert verdict.release_at == NOW + 1600
    assert verdict.rule == f"route:{R}/window/upj"
    assert "900 of 1000 already moved in the last 3600 s and this transfer adds 550" in (
        verdict.reason
    )
    assert check.check(_c(550), NOW + 1599) is not None
    assert check.check(_c(550), NOW + 1600) is None  # at the release time it fits


def test_an_amount_above_the_whole_window_waits_for_review() -> None:
    check = _check(RiskLimitRecord(R, "upj", window_seconds=60, window_amount=10))
    verdict = check.check(_c(11), NOW)
    assert verdict == Hold(
        f"route:{R}/window/upj",
        "amount 11 is above the whole 60 s window limit 10 (held for review)",
        None,
    )


def test_the_rate_holds_until_the_oldest_of_the_minute_ages_out() -> None:
    limit = RiskLimitRecord(R, "*", rate_per_minute=2)
    admitted = (WindowEntry(NOW - 50, "upj", 1), WindowEntry(NOW - 20, "other", 1))
    verdict = _check(limit, admitted=admitted).check(_c(), NOW)
    assert isinstance(verdict, Hold)
    assert verdict.release_at == NOW + 10
    assert verdict.rule == f"route:{R}/rate/*"
    assert _check(limit, admitted=admitted).check(_c(), NOW + 10) is None
    assert rate_usage(limit, admitted, NOW) == 2
    assert window_usage(limit, admitted, NOW) == 0  # no window part


def test_a_large_transfer_waits_its_delay_from_its_creation() -> None:
    check = _check(RiskLimitRecord(R, "upj", delay_threshold=500, delay_seconds=600))
    assert check.check(_c(499, created_at=NOW), NOW) is None
    verdict = check.check(_c(500, created_at=NOW - 100), NOW)
    assert isinstance(verdict, Hold)
    assert verdict.release_at == NOW + 500
    assert check.check(_c(500, created_at=NOW - 600), NOW) is None


def test_limits_of_another_route_or_denomination_do_not_apply() -> None:
    check = _check(
        RiskLimitRecord("r2", "upj", max_amount=1, over_max="reject"),
        RiskLimitRecord(R, "other", max_amount=1, over_max="reject"),
    )
    assert check.check(_c(100), NOW) is None


def test_the_strictest_verdict_of_every_matching_part_applies() -> None:
    own = RiskLimitRecord(R, "upj", window_seconds=60, window_amount=100, max_amount=1000)
    route_wide = RiskLimitRecord(R, "*", max_amount=50, over_max="reject")
    verdict = _check(own, route_wide).check(_c(80), NOW)
    assert verdict == Reject(
        f"route:{R}/max/*", "amount 80 upj is above the per-transfer maximum 50"
    )
    review = RiskLimitRecord(R, "*", max_amount=50, over_max="hold")
    delayed = RiskLimitRecord(R, "upj", delay_threshold=1, delay_seconds=60)
    held = _check(delayed, review).check(_c(80), NOW)
    assert isinstance(held, Hold)
    assert held.release_at is None  # a review hold beats a timed one
