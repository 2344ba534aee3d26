"""Committee rotation rules without chains: the statement's checks, what a notary agrees to
sign (its operator's ``next_committee``), and its signed log's one-rotation-per-epoch rule.

Negative cases are malleate tables: one field broken per row, the exact refusal asserted.
The rotations themselves run on real anvil and the real devnet in
``tests/flows/test_committee_rotation.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.committee import CommitteeState, RotationStatement, canonical_members
from core.errors import ConfigError, InvalidInput
from notary.errors import RotationNotExpected, WouldEquivocate
from notary.rotations import RotationWork, check_expected, expected_rotation
from notary.signed_log import SignedLog

A, B, C, D = ("0x" + c * 40 for c in "abcd")
CHAIN = "anvil-31337"


def test_members_are_canonical_lower_case_and_increasing() -> None:
    assert canonical_members([C.upper().replace("0X", "0x"), A, B]) == (A, B, C)
    statement = RotationStatement.make(CHAIN, 2, 2, [C, A, B])
    assert statement.members == (A, B, C)
    assert statement.follows(CommitteeState(1, 2, (A, B)))
    assert not statement.follows(CommitteeState(2, 2, (A, B)))


@pytest.mark.parametrize(
    ("epoch", "threshold", "members", "refusal"),
    [
        (1, 2, [A, B, C], "epoch is 2 .. 2^64-1"),
        (2, 1, [A, B, C], "threshold 1 is not a majority of 3 members"),
        (2, 4, [A, B, C], "threshold 4 is not a majority of 3 members"),
        (2, 2, [A, B, A], "listed twice"),
        (2, 2, [A, B, "0x1234"], "0x followed by 40 hex digits"),
        (2, 1, [], "1 .. 32 members"),
        (2, 2, [A, B, "0x" + "e" * 40 + "00"], "0x followed by 40 hex digits"),
    ],
)
def test_a_bad_statement_is_refused_naming_the_field(
    epoch: int, threshold: int, members: list[str], refusal: str
) -> None:
    with pytest.raises(InvalidInput, match=refusal.replace(".", r"\.").replace("^", r"\^")):
        RotationStatement.make(CHAIN, epoch, threshold, members)


CONFIGURED = {"next_committee": [B, C, D], "next_committee_threshold": 2, "next_committee_epoch": 2}
LIVE = CommitteeState(1, 2, (A, B, C))


def test_the_configured_next_committee_at_the_next_epoch_is_signed() -> None:
    expected = expected_rotation(CHAIN, CONFIGURED)
    statement = RotationStatement.make(CHAIN, 2, 2, [D, C, B])  # any order: canonical
    check_expected(statement, expected, LIVE)  # no refusal


@pytest.mark.parametrize(
    ("asked", "options", "live", "refusal"),
    [
        ((2, 2, [B, C, D]), {}, LIVE, "no next_committee is configured"),
        ((2, 2, [A, C, D]), CONFIGURED, LIVE, "3 members and threshold 2; this notary"),
        ((2, 3, [B, C, D]), CONFIGURED, LIVE, "threshold 3"),
        ((3, 2, [B, C, D]), CONFIGURED, LIVE, "epoch 3 of"),
        ((2, 2, [B, C, D]), CONFIGURED, CommitteeState(2, 2, (A, B, C)), "epoch 2 is not the next"),
    ],
)
def test_a_rotation_the_operator_did_not_configure_is_refused(
    asked: tuple[int, int, list[str]],
    options: dict[str, object],
    live: CommitteeState,
    refusal: str,
) -> None:
    statement = RotationStatement.make(CHAIN, *asked)
    with pytest.raises(RotationNotExpected, match=refusal):
        check_expected(statement, expected_rotation(CHAIN, options), live)


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        ({"next_committee": [B, C, D]}, "needs next_committee_threshold, next_committee_epoch"),
        ({**CONFIGURED, "next_committee": "0xabc"}, "a list of 0x addresses"),
        ({**CONFIGURED, "next_committee_threshold": 1}, "not a majority"),
        ({**CONFIGURED, "next_committee_epoch": 1}, "epoch is 2"),
    ],
)
def test_a_malformed_next_committee_fails_at_start(
    options: dict[str, object], refusal: str
) -> None:
    with pytest.raises(ConfigError, match=refusal):
        expected_rotation(CHAIN, options)


def test_a_work_item_is_bounded_and_typed() -> None:
    doc = {"rotation_id": "r1", "chain": CHAIN, "epoch": 2, "threshold": 2, "members": [B, C, D]}
    assert RotationWork.from_json(doc).statement() == RotationStatement.make(CHAIN, 2, 2, [B, C, D])
    with pytest.raises(InvalidInput, match="at most 64"):
        RotationWork.from_json({**doc, "members": [A] * 65})
    with pytest.raises(InvalidInput, match="malformed"):
        RotationWork.from_json({k: v for k, v in doc.items() if k != "epoch"})


def test_the_signed_log_holds_one_rotation_per_chain_and_epoch(tmp_path: Path) -> None:
    log = SignedLog(tmp_path)
    first = log.record_rotation(CHAIN, 2, b"\x01" * 32, b"sig-1", "r1", 1.0)
    assert first == b"sig-1"
    # The same rotation again: the stored signature, nothing new.
    assert log.record_rotation(CHAIN, 2, b"\x01" * 32, b"sig-other", "r2", 2.0) == b"sig-1"
    with pytest.raises(WouldEquivocate, match="to that epoch is already signed"):
        log.check_rotation(CHAIN, 2, b"\x02" * 32)
    with pytest.raises(WouldEquivocate):
        log.record_rotation(CHAIN, 2, b"\x02" * 32, b"sig-2", "r3", 3.0)
    # Another epoch, another chain: new statements.
    assert log.check_rotation(CHAIN, 3, b"\x02" * 32) is None
    assert log.check_rotation("pujiang-devnet", 2, b"\x02" * 32) is None
    log.close()
    reopened = SignedLog(tmp_path)  # the rule survives a restart
    with pytest.raises(WouldEquivocate):
        reopened.check_rotation(CHAIN, 2, b"\x03" * 32)
    assert reopened.rotations_signed() == [(CHAIN, 2, b"\x01" * 32)]
    reopened.close()
