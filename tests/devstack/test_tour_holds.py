"""``pjgw status`` shows a held transfer's hold: the rule, the reason and the release time (or
who decides), and ``held`` in its path of states."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from devtools.tour import _render, hold_line


def _transfer(**hold: Any) -> dict[str, Any]:
    return {
        "id": "tr_1",
        "amount": "5000",
        "denom": "upj",
        "route_id": "r",
        "sender": "a",
        "receiver": "b",
        "state": "held",
        "reason": "held by route:r/window/upj",
        "created_at": 0.0,
        "source_height": None,
        "history": [
            {"state": "requested", "at": 0.0, "reason": "accepted"},
            {"state": "held", "at": 0.1, "reason": "held by route:r/window/upj"},
        ],
        "hold": {"rule": "route:r/window/upj", "reason": "4000 of 5000 moved", **hold},
    }


def _text(renderable: Any) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


def test_a_timed_hold_shows_its_rule_reason_and_release_time() -> None:
    line = _text(hold_line(_transfer(release_at=86_400.0, decision=None)))
    assert "held by route:r/window/upj: 4000 of 5000 moved" in line
    assert "released by itself at 1970-01-02 00:00:00 UTC" in line


def test_a_review_hold_says_a_supervisor_decides_and_a_rejected_one_its_refund() -> None:
    assert "waits for a supervisor" in hold_line(_transfer(release_at=None, decision=None))
    rejected = hold_line(_transfer(release_at=None, decision="rejected"))
    assert "rejected: refunded once its timeout passes" in rejected


def test_the_path_shows_held_after_requested_and_the_hold_line() -> None:
    text = _text(_render(_transfer(release_at=None, decision=None)))
    lines = [line.split() for line in text.splitlines() if line.strip()]
    names = [words[1] for words in lines[1:8] if len(words) > 1]
    assert names[:2] == ["requested", "held"]
    assert "waits for a supervisor" in text
    assert hold_line({"hold": None}) == ""
