"""``proofs.audit.canonical_bytes``: its fast path writes exactly the RFC 8785 bytes of the
``rfc8785`` package (the reference), and everything else goes to the reference (issue #15).

The property tests generate plain values (``dict`` with ASCII keys, ``list``, ``str``,
``int`` within ±(2**53 − 1), ``bool``, ``None``) and assert byte equality with
``rfc8785.dumps`` with the reference switched off (so the fast path alone answered); then
one test per case the fast path hands over.
"""

from __future__ import annotations

import enum
import json
import string
from typing import Any
from unittest import mock

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from proofs import audit
from proofs.audit import ENTRY_FIELDS, MAX_SAFE_INT, canonical_bytes

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INT, MAX_SAFE_INT)
    | st.text()  # every code point but lone surrogates: controls, quotes, U+2028, emoji
)
ASCII_KEYS = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=8)
PLAIN = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ASCII_KEYS, inner, max_size=4),
    max_leaves=20,
)
ENTRIES = st.fixed_dictionaries({}, optional={name: PLAIN for name in ENTRY_FIELDS})


def _reference(entry: dict[str, Any]) -> bytes:
    return rfc8785.dumps({k: entry[k] for k in ENTRY_FIELDS if k in entry})


def _no_reference(*_: object) -> bytes:
    raise AssertionError("the fast path handed a plain value to rfc8785")


@settings(max_examples=400, deadline=None)
@given(ENTRIES)
def test_fast_path_bytes_equal_rfc8785_for_plain_entries(entry: dict[str, Any]) -> None:
    expected = _reference(entry)
    with mock.patch.object(audit.rfc8785, "dumps", _no_reference):
        assert canonical_bytes(entry) == expected


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), PLAIN, max_size=6))
def test_any_keys_equal_rfc8785_fast_or_not(value: dict[str, Any]) -> None:
    entry = {"after": value, "reason": "r"}
    assert canonical_bytes(entry) == _reference(entry)


def test_non_ascii_keys_go_to_the_reference_and_sort_by_utf16() -> None:
    # U+FFFD sorts before U+1F600 by code point, after it by UTF-16 unit (0xD83D).
    entry = {"after": {"\ufffd": 1, "\U0001f600": 2}}
    got = canonical_bytes(entry)
    assert got == _reference(entry)
    assert got != json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert got.index("\U0001f600".encode()) < got.index("\ufffd".encode())


class _State(enum.StrEnum):
    PROVEN = "proven"


class _Level(enum.IntEnum):
    HIGH = 7


@pytest.mark.parametrize(
    "after",
    [{"state": _State.PROVEN}, {"level": _Level.HIGH}, {"nested": {"ü": [1, "x"]}}],
    ids=["str-subclass", "int-subclass", "non-ascii-nested-key"],
)
def test_values_that_are_not_plain_go_to_the_reference(after: dict[str, Any]) -> None:
    entry = {"after": after}
    calls = []
    reference = rfc8785.dumps

    def spy(body: Any) -> bytes:
        calls.append(body)
        return reference(body)

    with mock.patch.object(audit.rfc8785, "dumps", spy):
        got = canonical_bytes(entry)
    assert calls == [entry]
    assert got == rfc8785.dumps(entry)


def test_a_lone_surrogate_is_refused_as_the_reference_refuses_it() -> None:
    with pytest.raises(InvalidInput, match="non-UTF-8"):
        canonical_bytes({"reason": "bad \ud800 string"})


@pytest.mark.parametrize(
    ("after", "message"),
    [
        ({"x": 1.5}, "float is not allowed"),
        ({"x": 2**53}, "outside"),
        ({"x": -(2**53)}, "outside"),
        ({"x": [1, 2**60]}, "outside"),
        ({"x": (1, 2)}, "tuple is not allowed"),
        ({1: "x"}, "non-string key"),
        ({"x": b"raw"}, "bytes is not allowed"),
    ],
    ids=["float", "int-past-2**53", "int-below", "int-in-list", "tuple", "int-key", "bytes"],
)
def test_values_rfc8785_cannot_render_are_refused(after: dict[Any, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        canonical_bytes({"after": after})


def test_the_edges_of_the_safe_range_take_the_fast_path() -> None:
    entry = {"after": {"hi": MAX_SAFE_INT, "lo": -MAX_SAFE_INT}, "reason": string.printable}
    expected = _reference(entry)
    with mock.patch.object(audit.rfc8785, "dumps", _no_reference):
        assert canonical_bytes(entry) == expected


# --- entry_bytes: an entry written field by field (the audit log's commit) -------------

TEXT = st.text() | st.text(alphabet=st.characters(categories=("Cs", "Lu", "Cc")), max_size=4)
NUMBER = st.integers(-MAX_SAFE_INT, MAX_SAFE_INT) | st.integers(-(2**60), 2**60)
SIDES = (
    st.none()
    | st.dictionaries(ASCII_KEYS, PLAIN, max_size=4)
    | st.dictionaries(st.text(max_size=3), PLAIN, max_size=3)
)


def _outcome(render: Any) -> bytes | str:
    try:
        return render()  # type: ignore[no-any-return]
    except InvalidInput:
        return "refused"


@settings(max_examples=500, deadline=None)
@given(
    seq=NUMBER,
    at_ms=NUMBER,
    texts=st.lists(TEXT | st.just(_State.PROVEN), min_size=6, max_size=6),
    request_id=st.none() | TEXT,
    before=SIDES,
    after=SIDES,
)
def test_entry_bytes_are_canonical_bytes_or_hand_over(
    seq: int,
    at_ms: int,
    texts: list[str],
    request_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Whenever ``entry_bytes`` answers, it is ``canonical_bytes`` of the same entry; when it
    does not (``None``), the reference decides (bytes or a refusal)."""
    actor, role, action, subject, subject_id, reason = texts
    fields = dict(
        seq=seq, at_ms=at_ms, actor=actor, role=role, request_id=request_id, action=action,
        subject=subject, subject_id=subject_id, reason=reason,
    )  # fmt: skip
    fast = audit.entry_bytes(**fields, before=audit.side_text(before), after=audit.side_text(after))
    entry = {"v": audit.ENTRY_VERSION, **fields, "before": before, "after": after}
    if fast is not None:
        assert fast == canonical_bytes(entry)
    else:
        _outcome(lambda: canonical_bytes(entry))  # decides without any other exception


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(1, MAX_SAFE_INT),
    texts=st.lists(st.text(alphabet=string.printable + "签名✓ü\u2028"), min_size=6, max_size=6),
    before=st.none() | st.dictionaries(ASCII_KEYS, PLAIN, max_size=4),
    after=st.none() | st.dictionaries(ASCII_KEYS, PLAIN, max_size=4),
)
def test_entry_bytes_answer_every_plain_entry(
    seq: int, texts: list[str], before: dict[str, Any] | None, after: dict[str, Any] | None
) -> None:
    """Plain entries (exact ``str``, ASCII keys) are the audit log's own: the fast path
    writes them all, RFC 8785's bytes (``rfc8785.dumps`` itself, the reference)."""
    actor, role, action, subject, subject_id, reason = texts
    fields = dict(
        seq=seq, at_ms=1_765_000_000_000, actor=actor, role=role, request_id=None,
        action=action, subject=subject, subject_id=subject_id, reason=reason,
    )  # fmt: skip
    fast = audit.entry_bytes(**fields, before=audit.side_text(before), after=audit.side_text(after))
    entry = {"v": audit.ENTRY_VERSION, **fields, "before": before, "after": after}
    assert fast == _reference(entry)
