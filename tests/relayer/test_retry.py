"""Backoff and the retry classification: which errors the relayer retries, rejects or parks."""

from __future__ import annotations

import httpx
import pytest

from core.errors import (
    BadProof,
    ChainRejected,
    ChainUnavailable,
    ClientFrozen,
    ConfigError,
    HeaderExpired,
    InvalidHeader,
    InvalidTransition,
    LeaseLost,
    Misbehaviour,
    ReorgDetected,
    RootMismatch,
    StoreUnavailable,
)
from relayer.retry import Disposition, backoff_delay, classify, describe, is_retryable


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ChainUnavailable("node down"), Disposition.RETRY),
        (ReorgDetected("block moved"), Disposition.RETRY),
        (StoreUnavailable("db down"), Disposition.RETRY),
        (httpx.ConnectError("refused"), Disposition.RETRY),
        (TimeoutError(), Disposition.RETRY),
        (BadProof("path does not link"), Disposition.REJECT),
        (RootMismatch("other root"), Disposition.REJECT),
        (ClientFrozen("frozen"), Disposition.FREEZE),
        (Misbehaviour("fork"), Disposition.FREEZE),
        (HeaderExpired("anchor too old"), Disposition.WAIT_OPERATOR),
        # the header is the chain's or its node's, not the transfer's: parked, not rejected
        (InvalidHeader("timestamp is not after its parent's"), Disposition.WAIT_OPERATOR),
        (ConfigError("no committee"), Disposition.WAIT_OPERATOR),
        (ChainRejected("nonce too low"), Disposition.WAIT_OPERATOR),
        (ValueError("a bug"), Disposition.WAIT_OPERATOR),
        (LeaseLost("taken"), Disposition.YIELD),
        (InvalidTransition("moved"), Disposition.YIELD),
    ],
)
def test_classify_maps_each_error_class_to_its_outcome(
    error: BaseException, expected: Disposition
) -> None:
    assert classify(error) is expected


def test_only_retryable_errors_and_transport_errors_are_retried() -> None:
    assert is_retryable(ChainUnavailable())
    assert is_retryable(httpx.ReadTimeout("slow"))
    assert not is_retryable(ChainRejected())
    assert not is_retryable(BadProof())


def test_backoff_ceiling_doubles_per_attempt_until_the_cap() -> None:
    top = lambda low, high: high  # noqa: E731 - the jitter's upper end
    ceilings = [backoff_delay(a, base=1.0, cap=10.0, rand=top) for a in range(6)]
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_backoff_is_full_jitter_from_zero() -> None:
    seen: list[tuple[float, float]] = []

    def record(low: float, high: float) -> float:
        seen.append((low, high))
        return low

    assert backoff_delay(3, base=0.5, cap=100.0, rand=record) == 0.0
    assert seen == [(0.0, 4.0)]


def test_backoff_stays_finite_for_huge_attempt_counts() -> None:
    delay = backoff_delay(10_000, base=1.0, cap=300.0)
    assert 0.0 <= delay <= 300.0


def test_backoff_refuses_a_negative_attempt() -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay(-1, base=1.0, cap=1.0)


def test_describe_keeps_the_stable_code_of_typed_errors() -> None:
    assert describe(BadProof("path does not link")) == "[bad-proof] path does not link"
    assert describe(ValueError("x")).startswith("[ValueError]")
