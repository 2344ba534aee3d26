"""The journal's step names: stored strings, so fixed; swap steps named by kind, leg, attempt."""

from __future__ import annotations

import pytest

from core.steps import Step, swap_step


def test_transfer_steps_are_the_stored_names() -> None:
    assert [s.value for s in Step] == ["source_submit", "deliver", "refund", "ack", "failed"]


@pytest.mark.parametrize(
    ("kind", "leg", "attempt", "name"),
    [
        ("claim", 1, 1, "claim_leg1"),
        ("refund", 2, 1, "refund_leg2"),
        ("claim", 2, 3, "claim_leg2#3"),
    ],
)
def test_swap_steps_name_kind_leg_and_retry(kind: str, leg: int, attempt: int, name: str) -> None:
    assert swap_step(kind, leg, attempt) == name


@pytest.mark.parametrize(
    ("kind", "leg", "attempt"),
    [("lock", 1, 1), ("claim", 3, 1), ("claim", 1, 0)],
    ids=["kind", "leg", "attempt"],
)
def test_a_swap_step_outside_the_rules_is_refused(kind: str, leg: int, attempt: int) -> None:
    with pytest.raises(ValueError, match="no swap step"):
        swap_step(kind, leg, attempt)
