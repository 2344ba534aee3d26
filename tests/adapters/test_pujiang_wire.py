"""``adapters.pujiang.wire.packet_fields_canonical`` decides exactly as the packet sedes.

A packet event's fields are checked without the RLP encode-and-decode round trip every
listed packet event paid (issue #15's profile); the sedes decode stays the reference.
The packet's RLP is assembled by hand (``proofs.rlp_lists.rlp_of_strings``, tested in
``tests/proofs/test_rlp_lists.py``), held equal to ``rlp.encode`` here.
"""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pujiang.wire import (
    PACKET_FIELDS,
    PACKET_INT_FIELDS,
    packet_fields_canonical,
    packet_of,
)
from core.errors import BadEncoding
from proofs.pujiang import codec

FIELD = st.one_of(
    st.binary(max_size=40),
    st.binary(max_size=4).map(lambda b: b"\x00" + b),  # a leading zero byte
)


def sedes_accepts(fields: list[bytes]) -> bool:
    try:
        codec.decode_packet(rlp.encode(fields))
    except BadEncoding:
        return False
    return True


@settings(max_examples=500, deadline=None)
@given(st.lists(FIELD, min_size=len(PACKET_FIELDS), max_size=len(PACKET_FIELDS)))
def test_the_fast_check_agrees_with_the_packet_sedes(fields: list[bytes]) -> None:
    assert packet_fields_canonical(fields) == sedes_accepts(fields)


GOOD = [b"a", b"b", b"\x07", b"\x00" * 20, b"r", b"upj", b"\x01", b"\x00\x01", b"", b"\x05"]


def broken(index: int, value: object) -> list[object]:
    fields: list[object] = list(GOOD)
    fields[index] = value
    return fields


@pytest.mark.parametrize(
    ("what", "fields"),
    [
        ("sequence not minimal", broken(2, b"\x00\x07")),
        ("amount not minimal", broken(6, b"\x00")),
        ("timeout height not minimal", broken(8, b"\x00")),
        ("timeout time not minimal", broken(9, b"\x00\x05")),
        ("a field not bytes", broken(2, 7)),
        ("a field too few", GOOD[:-1]),
    ],
)
def test_each_malformed_packet_is_refused(what: str, fields: list[object]) -> None:
    assert not packet_fields_canonical(fields), what


def test_a_well_formed_packet_is_accepted() -> None:
    assert packet_fields_canonical(GOOD)
    assert sedes_accepts(GOOD)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80), min_size=len(PACKET_FIELDS), max_size=len(PACKET_FIELDS)))
def test_packet_of_is_the_rlp_of_the_packet_fields(fields: list[bytes]) -> None:
    """``packet_of`` assembles the fields' RLP by hand (``rlp_of_strings``): the same bytes
    as ``rlp.encode``, for short, single-byte, empty and long (56+ byte) fields."""
    fields = [f.lstrip(b"\x00") if i in PACKET_INT_FIELDS else f for i, f in enumerate(fields)]
    attributes = [[name.encode(), value] for name, value in zip(PACKET_FIELDS, fields, strict=True)]
    event = codec.Event(b"send_packet", 0, 0, attributes)
    assert packet_of(event) == rlp.encode(fields)
