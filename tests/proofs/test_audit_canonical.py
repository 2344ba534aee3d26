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
