"""The pure non-delivery rules (``proofs.notary.nondelivery``), by property and by example."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devnet.state import recv_key
from notary.errors import WouldEquivocate
from notary.signed_log import SignedLog
from proofs.notary.nondelivery import (
    DestinationBlock,
    Statement,
    Timeout,
    Verdict,
    compute_pujiang_recv_key,
    is_timeout_passed,
    nondelivery_verdict,
    statement_verdict,
)

heights = st.integers(min_value=0, max_value=2**40)
times = st.integers(min_value=0, max_value=2**50)
timeouts = st.builds(Timeout, heights, times)
blocks = st.builds(DestinationBlock, heights, times, st.booleans())
digests = st.binary(min_size=32, max_size=32)


@given(timeouts, blocks)
def test_sign_only_when_the_timeout_passed_at_the_block_and_the_packet_is_not_in_it(
    timeout: Timeout, block: DestinationBlock
) -> None:
    verdict = nondelivery_verdict(timeout, block)
    passed = is_timeout_passed(timeout, block.height, block.time_ms)
    assert (verdict is Verdict.SIGN) == (passed and not block.received)
    if block.received and (timeout.height or timeout.time_ms):
        assert verdict is Verdict.RECEIVED


@given(timeouts, blocks, heights, times)
def test_a_signed_verdict_holds_at_every_later_block_that_did_not_receive(
    timeout: Timeout, block: DestinationBlock, more_height: int, more_time: int
) -> None:
    """Heights and times only grow: what refuses at B refuses after B (the safety argument)."""
    if nondelivery_verdict(timeout, block) is not Verdict.SIGN:
        return
    later = DestinationBlock(block.height + more_height, block.time_ms + more_time, False)
    assert nondelivery_verdict(timeout, later) is Verdict.SIGN


@given(blocks)
def test_a_packet_without_a_timeout_is_never_declared_undelivered(block: DestinationBlock) -> None:
    assert nondelivery_verdict(Timeout(0, 0), block) is Verdict.NO_TIMEOUT


@pytest.mark.parametrize(
    ("timeout", "height", "time_ms", "passed"),
    [
        (Timeout(10, 0), 9, 10**15, False),  # a zero time means "no time timeout"
        (Timeout(10, 0), 10, 0, True),  # the bridges refuse AT the timeout height
        (Timeout(0, 5000), 10**9, 4999, False),
        (Timeout(0, 5000), 0, 5000, True),  # and at the timeout time
        (Timeout(10, 5000), 9, 5000, True),  # either one suffices
    ],
)
def test_the_timeout_passes_at_the_height_or_time_the_bridges_refuse_from(
    timeout: Timeout, height: int, time_ms: int, passed: bool
) -> None:
    assert is_timeout_passed(timeout, height, time_ms) is passed


@given(digests, digests)
def test_statement_rules(delivery: bytes, other: bytes) -> None:
    assert statement_verdict({}, "delivery", delivery, nonreceipt_proven=False) is Statement.NEW
    assert statement_verdict({}, "nondelivery", other, nonreceipt_proven=False) is (
        Statement.UNPROVEN
    )
    after_delivery = {"delivery": delivery}
    assert statement_verdict(after_delivery, "nondelivery", other, nonreceipt_proven=True) is (
        Statement.NEW
    )
    assert statement_verdict(after_delivery, "nondelivery", other, nonreceipt_proven=False) is (
        Statement.UNPROVEN
    )
    assert statement_verdict(after_delivery, "delivery", delivery, nonreceipt_proven=False) is (
        Statement.REPEAT
    )
    if other != delivery:
        assert statement_verdict(after_delivery, "delivery", other, nonreceipt_proven=True) is (
            Statement.EQUIVOCATION
        )
    after_nondelivery = {"nondelivery": other}
    assert statement_verdict(after_nondelivery, "delivery", delivery, nonreceipt_proven=True) is (
        Statement.AFTER_NONDELIVERY
    )


@given(st.sampled_from(["pujiang-devnet", "a", "anvil-31337"]), st.integers(1, 2**64 - 1))
def test_the_pujiang_receipt_key_is_the_devnets(source: str, sequence: int) -> None:
    assert compute_pujiang_recv_key(source, sequence) == recv_key(source.encode(), sequence)


def test_the_signed_log_allows_a_proven_nondelivery_after_a_delivery_never_the_reverse(
    tmp_path: Path,
) -> None:
    log = SignedLog(tmp_path)
    proof = DestinationBlock(height=50, time_ms=9_000, received=False)
    try:
        log.record("r", 1, "delivery", b"\x01" * 32, b"s1", "t1", 1.0)
        with pytest.raises(WouldEquivocate):  # no proof, no non-delivery
            log.record("r", 1, "nondelivery", b"\x02" * 32, b"s2", "t1", 2.0)
        assert log.record("r", 1, "nondelivery", b"\x02" * 32, b"s2", "t1", 2.0, nonreceipt=proof)
        with pytest.raises(WouldEquivocate):  # a second non-delivery digest
            log.check("r", 1, "nondelivery", b"\x03" * 32, nonreceipt=proof)
        log.record("r", 2, "nondelivery", b"\x04" * 32, b"s4", "t2", 3.0, nonreceipt=proof)
        with pytest.raises(WouldEquivocate) as refused:  # never a delivery after it
            log.record("r", 2, "delivery", b"\x05" * 32, b"s5", "t2", 4.0)
        assert refused.value.details["rule"] == "after-nondelivery"
        assert set(log.signed("r", 1) or {}) == {"delivery", "nondelivery"}
    finally:
        log.close()


def test_a_signed_log_of_the_one_row_per_packet_format_is_carried_over(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "signed.sqlite")
    old.execute(
        "CREATE TABLE signed (route_id TEXT NOT NULL, sequence INTEGER NOT NULL, kind TEXT NOT "
        "NULL, digest BLOB NOT NULL, signature BLOB NOT NULL, transfer_id TEXT NOT NULL, "
        "at REAL NOT NULL, PRIMARY KEY (route_id, sequence))"
    )
    old.execute("INSERT INTO signed VALUES ('r', 7, 'delivery', ?, ?, 't', 1.0)", (b"d", b"s"))
    old.commit()
    old.close()
    log = SignedLog(tmp_path)
    try:
        assert log.signed("r", 7) == {"delivery": (b"d", b"s")}
        with pytest.raises(WouldEquivocate):
            log.check("r", 7, "delivery", b"other")
    finally:
        log.close()


# --- refund statements of batches (issue #15): nondelivery and error_ack -----------------------

D1, D2 = b"\x01" * 32, b"\x02" * 32


@pytest.mark.parametrize(
    ("held", "kind", "proven", "rule"),
    [
        # (what the log holds for packet 7, the batch asked for, its proof, the refusal)
        ((("batch", "nondelivery"),), "error_ack", True, Statement.DOUBLE_REFUND),
        ((("batch", "error_ack"),), "nondelivery", True, Statement.DOUBLE_REFUND),
        ((("single", "nondelivery"),), "error_ack", True, Statement.DOUBLE_REFUND),
        ((("batch", "error_ack"),), "delivery", True, Statement.AFTER_NONDELIVERY),
        ((("batch", "error_ack"),), "error_ack", True, Statement.EQUIVOCATION),
        ((), "error_ack", False, Statement.UNPROVEN),
    ],
    ids=[
        "error-ack-after-nondelivery",
        "nondelivery-after-error-ack",
        "error-ack-after-single-nondelivery",
        "delivery-after-error-ack",
        "second-error-ack-root",
        "error-ack-unproven",
    ],
)
def test_a_packet_is_refunded_by_one_statement_kind_and_never_delivered_after(
    tmp_path: Path,
    held: tuple[tuple[str, str], ...],
    kind: str,
    proven: bool,
    rule: Statement,
) -> None:
    log = SignedLog(tmp_path)
    try:
        for how, held_kind in held:
            if how == "batch":
                proof = [True]
                log.record_batch(
                    "r", held_kind, [7], D1, b"s" * 65, "ba_1", 1.0, nonreceipt_proven=proof
                )
            else:
                block = DestinationBlock(10, 10, False)
                log.record("r", 7, held_kind, D1, b"s" * 65, "tr_1", 1.0, nonreceipt=block)
        with pytest.raises(WouldEquivocate) as refused:
            log.check_batch("r", kind, [5, 7], D2, nonreceipt_proven=[True, proven])
        assert refused.value.details["rule"] == str(rule)
        assert refused.value.details["index"] == 1  # the packet that forbids it, named
    finally:
        log.close()


def test_an_error_ack_batch_with_every_failure_proven_is_signed_once(tmp_path: Path) -> None:
    log = SignedLog(tmp_path)
    try:
        assert log.check_batch("r", "error_ack", [5, 7], D2, nonreceipt_proven=[True, True]) is None
        proofs = [True, True]
        first = log.record_batch(
            "r", "error_ack", [5, 7], D2, b"s" * 65, "ba_2", 1.0, nonreceipt_proven=proofs
        )
        assert log.check_batch("r", "error_ack", [5, 7], D2) == first  # a repeat
    finally:
        log.close()


@pytest.mark.parametrize(
    ("kind", "rule"),
    [("nondelivery", Statement.DOUBLE_REFUND), ("delivery", Statement.AFTER_NONDELIVERY)],
)
def test_no_single_statement_after_an_error_ack_batch(
    tmp_path: Path, kind: str, rule: Statement
) -> None:
    log = SignedLog(tmp_path)
    try:
        proof = [True]
        log.record_batch("r", "error_ack", [7], D1, b"s" * 65, "ba_1", 1.0, nonreceipt_proven=proof)
        with pytest.raises(WouldEquivocate) as refused:
            log.check("r", 7, kind, D2, nonreceipt=DestinationBlock(10, 10, False))
        assert refused.value.details["rule"] == str(rule)
    finally:
        log.close()
