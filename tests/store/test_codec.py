"""The store's tagged JSON: what goes in comes out, and the decoder's hook undoes the tags
exactly as the reference walk does (``_untag``), value or refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.store.codec import _untag, dumps, loads

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
scalars |= st.floats(allow_nan=False, allow_infinity=False) | st.binary(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
# Plain JSON that may hold tag-shaped objects, well formed or not ({"$bytes": "zz"}, ...).
tags = st.sampled_from(["$bytes", "$tuple", "x"])
documents = st.recursive(
    st.none() | st.integers() | st.text(alphabet="0123456789abcdefz", max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(tags | st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=12,
)


def _reference(text: str) -> tuple[str, Any]:
    try:
        return "ok", _untag(json.loads(text))
    except (ValueError, TypeError) as err:
        return "refused", type(err)


def _fast(text: str) -> tuple[str, Any]:
    try:
        return "ok", loads(text)
    except (ValueError, TypeError) as err:
        return "refused", type(err)


@given(values)
def test_what_is_stored_is_read_back(value: object) -> None:
    assert loads(dumps(value)) == value


@given(documents)
def test_the_decoder_hook_undoes_tags_as_the_reference_walk(document: object) -> None:
    """What the hook accepts the walk accepts, with the same value; what the walk refuses
    the hook refuses. The hook refuses more: a malformed tag (``{"$bytes": 12}``,
    ``{"$tuple": {...}}``), which ``dumps`` never writes and the walk read as something."""
    text = json.dumps(document)
    fast, reference = _fast(text), _reference(text)
    if fast[0] == "ok":
        assert reference == fast
    if reference[0] == "refused":
        assert fast[0] == "refused"


@pytest.mark.parametrize(
    "text",
    [
        '{"$bytes":12}',
        '{"$bytes":{"$tuple":null}}',
        '{"$tuple":{"$bytes":"aa"}}',
        '{"$tuple":"ab"}',
        '{"$tuple":null}',
    ],
)
def test_a_malformed_tag_is_refused(text: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        loads(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"$bytes":"00ff"}', b"\x00\xff"),
        ('{"$tuple":[1,{"$bytes":"aa"}]}', (1, b"\xaa")),
        ('{"$tuple":[{"$tuple":[]}]}', ((),)),
        ('{"$bytes":"aa","other":1}', {"$bytes": "aa", "other": 1}),  # two keys: not a tag
        ('[{"a":{"$bytes":""}}]', [{"a": b""}]),
    ],
)
def test_tags(text: str, expected: object) -> None:
    assert loads(text) == expected


def test_a_malformed_bytes_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="non-hexadecimal"):
        loads('{"$bytes":"zz"}')
