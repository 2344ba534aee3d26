"""``proofs.rlp_lists`` (RLP assembled with pyrlp's prefixes, issue #15) is byte-equal to
``rlp.encode``, and so are the encoders built on it: a receipt, a log, a log key.

The pyrlp forms these replaced are kept here as the references."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.evm.client import encode_log, encode_log_key
from proofs.mpt import Log, Receipt, encode_receipt
from proofs.rlp_lists import rlp_list_of_encoded, rlp_of, rlp_of_strings, uint_bytes

STRINGS = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=1),  # single bytes, below and from 0x80
    st.binary(max_size=60),  # short and long (56+) strings
    st.binary(min_size=56, max_size=1100),
)
TREES = st.recursive(STRINGS, lambda inner: st.lists(inner, max_size=20), max_leaves=80)


@settings(max_examples=600, deadline=None)
@given(TREES)
def test_rlp_of_is_rlp_encode(tree: Any) -> None:
    """Nested lists, empty strings and lists, single bytes, long strings and long lists."""
    assert rlp_of(tree) == rlp.encode(tree)


@pytest.mark.parametrize(
    "tree",
    [b"", b"\x00", b"\x7f", b"\x80", b"\xff", b"a" * 55, b"a" * 56, b"a" * 300, [], [[]],
     [b""] * 56, [b"a" * 1100] * 70, [[b"\x01"], [[b"\x80"], b""]]],
)  # fmt: skip
def test_rlp_of_on_the_boundaries(tree: Any) -> None:
    assert rlp_of(tree) == rlp.encode(tree)


def test_tuples_encode_as_lists() -> None:
    assert rlp_of((b"\x01", (b"ab",))) == rlp.encode([b"\x01", [b"ab"]])


@settings(max_examples=300, deadline=None)
@given(st.lists(STRINGS, max_size=40))
def test_rlp_of_strings_is_rlp_encode(items: list[bytes]) -> None:
    assert rlp_of_strings(items) == rlp.encode(items)


@settings(max_examples=300, deadline=None)
@given(st.lists(TREES, max_size=20))
def test_a_list_of_encoded_items_is_rlp_encode_of_the_items(items: list[Any]) -> None:
    """Items spliced in as their encodings make the list ``rlp.encode`` makes of them."""
    assert rlp_list_of_encoded([rlp.encode(item) for item in items]) == rlp.encode(items)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**300))
def test_uint_bytes_is_rlp_s_integer(value: int) -> None:
    assert rlp_of(uint_bytes(value)) == rlp.encode(value)


@pytest.mark.parametrize("item", [1, "text", None, bytearray(b"x"), [b"a", 2]])
def test_anything_but_bytes_and_lists_is_refused(item: object) -> None:
    with pytest.raises(TypeError, match="bytes and lists"):
        rlp_of(item)  # type: ignore[arg-type]


def test_a_negative_integer_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        uint_bytes(-1)


LOGS = st.builds(
    Log,
    address=st.binary(min_size=20, max_size=20),
    topics=st.lists(st.binary(min_size=32, max_size=32), max_size=4).map(tuple),
    data=STRINGS,
)


@settings(max_examples=300, deadline=None)
@given(LOGS)
def test_encode_log_is_the_pyrlp_form(log: Log) -> None:
    assert encode_log(log) == rlp.encode([log.address, list(log.topics), log.data])


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**40), st.integers(min_value=0, max_value=2**40))
def test_encode_log_key_is_the_pyrlp_form(tx_index: int, log_index: int) -> None:
    assert encode_log_key(tx_index, log_index) == rlp.encode([tx_index, log_index])


def _pyrlp_receipt(receipt: Receipt) -> bytes:
    status_or_root = receipt.post_state if receipt.status is None else receipt.status
    logs = [[log.address, list(log.topics), log.data] for log in receipt.logs]
    payload = rlp.encode([status_or_root, receipt.cumulative_gas_used, receipt.logs_bloom, logs])
    return payload if receipt.tx_type == 0 else bytes([receipt.tx_type]) + payload


RECEIPTS = st.one_of(
    st.builds(
        Receipt,
        tx_type=st.integers(min_value=0, max_value=0x7F),
        status=st.sampled_from([0, 1]),
        cumulative_gas_used=st.integers(min_value=0, max_value=2**64),
        logs_bloom=st.binary(min_size=256, max_size=256),
        logs=st.lists(LOGS, max_size=5).map(tuple),
    ),
    st.builds(  # pre-Byzantium: a post-state root instead of a status
        Receipt,
        tx_type=st.just(0),
        status=st.none(),
        cumulative_gas_used=st.integers(min_value=0, max_value=2**64),
        logs_bloom=st.binary(min_size=256, max_size=256),
        logs=st.lists(LOGS, max_size=3).map(tuple),
        post_state=st.binary(min_size=32, max_size=32),
    ),
)


@settings(max_examples=300, deadline=None)
@given(RECEIPTS)
def test_encode_receipt_is_the_pyrlp_form(receipt: Receipt) -> None:
    """Legacy and typed receipts, status 0 (the empty string) and 1, post-state roots."""
    assert encode_receipt(receipt) == _pyrlp_receipt(receipt)
