"""``proofs.rlp_bounds.list_depth``: the nesting of RLP lists, without recursion."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given
from hypothesis import strategies as st

from core.errors import BadEncoding
from proofs.pujiang import codec
from proofs.rlp_bounds import MAX_WIRE_DEPTH, list_depth


def nested_lists(depth: int) -> bytes:
    """``depth`` lists, each holding the next (built inside out, as no encoder could)."""
    data = b""
    for _ in range(depth):
        size = len(data)
        if size < 56:
            data = bytes([0xC0 + size]) + data
        else:
            width = (size.bit_length() + 7) // 8
            data = bytes([0xF7 + width]) + size.to_bytes(width, "big") + data
    return data


def _depth(item: object) -> int:
    if isinstance(item, list):
        return 1 + max((_depth(x) for x in item), default=0)
    return 0


items = st.recursive(
    st.binary(max_size=70), lambda inner: st.lists(inner, max_size=4), max_leaves=20
)


@given(items)
def test_depth_of_any_encoding_is_its_nesting(item: object) -> None:
    assert list_depth(rlp.encode(item)) == _depth(item)


def test_a_deep_input_stops_counting_past_the_limit() -> None:
    deep = nested_lists(20_000)  # 60 KB: what crashed the recursive decoder's callers
    assert list_depth(deep) == MAX_WIRE_DEPTH + 1
    assert list_depth(nested_lists(MAX_WIRE_DEPTH)) == MAX_WIRE_DEPTH


@pytest.mark.parametrize("data", [b"\xf9", b"\xb9\xff\xff", b"\xc5\x01", b"\xf8\x05\xc1"])
def test_truncated_lengths_end_the_walk(data: bytes) -> None:
    assert list_depth(data) <= 2


def test_the_pujiang_codec_refuses_deep_input_as_bad_encoding() -> None:
    with pytest.raises(BadEncoding, match="deeper than"):
        codec.decode_transaction(nested_lists(20_000))
