"""core.errors: codes are stable, unique, and retryability is explicit."""

from __future__ import annotations

import re

from core.errors import (
    BadProof,
    ChainUnavailable,
    InvalidInput,
    NotFound,
    PjgwError,
    RootMismatch,
    VerificationError,
    all_error_classes,
)


def test_codes_are_unique_and_url_safe() -> None:
    codes = [cls.code for cls in all_error_classes()]
    assert len(codes) == len(set(codes)), "two error classes share a code"
    for code in codes:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", code), code


def test_only_transient_failures_are_retryable() -> None:
    # Only the core tree: other layers (the devnet's MempoolFull) may refine these.
    core_classes = [c for c in all_error_classes() if c.__module__ == "core.errors"]
    retryable = {cls.__name__ for cls in core_classes if cls.retryable}
    assert retryable == {
        "ChainUnavailable",
        "ReorgDetected",
        "StoreUnavailable",
        "LeaseLost",
        "RequestTimeout",
        "RateLimited",
    }
    assert not any(
        issubclass(cls, VerificationError) and cls.retryable for cls in all_error_classes()
    )


def test_message_and_details_are_kept() -> None:
    err = RootMismatch("proof ends at 0xab", expected="0xcd")
    assert isinstance(err, VerificationError)
    assert not isinstance(err, BadProof)
    assert str(err) == "[root-mismatch] proof ends at 0xab"
    assert err.details == {"expected": "0xcd"}


def test_default_message_is_the_class_doc() -> None:
    assert ChainUnavailable().message.startswith("The chain node did not answer")
    assert isinstance(ChainUnavailable(), PjgwError)


def test_a_class_with_two_parents_in_the_tree_is_listed_once() -> None:
    class Both(NotFound, InvalidInput):
        code = "test-both-parents"

    try:
        assert [c for c in all_error_classes() if c is Both] == [Both]
    finally:
        del Both
