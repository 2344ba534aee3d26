"""``codec.decode_event`` / ``decode_packet`` (hand-checked on ``rlp.decode``'s lists) decide
exactly as the sedes decoders they replaced (``reference_decode_event`` / ``_packet``).

Each property decodes the same bytes both ways and asserts the same outcome: the same
object (fields, attribute tuples, the cached RLP) or a ``BadEncoding`` from both. Inputs:
valid objects built by the encoder, then mutated (bit flips, truncations, appended bytes,
extra or missing items, integers with a leading zero, a list where bytes belong and bytes
where a list belongs), and arbitrary nested RLP near the objects' shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from rlp.sedes import CountableList

from core.errors import BadEncoding
from proofs.pujiang import codec
from proofs.rlp_bounds import MAX_WIRE_DEPTH

SETTINGS = settings(max_examples=400, deadline=None)

Decoder = Callable[[bytes], Any]


def outcome(decode: Decoder, data: object) -> tuple[object, ...]:
    """What ``decode`` makes of ``data``: its fields and cached RLP, or that it refused.

    Only ``BadEncoding`` counts as a refusal: any other exception fails the test."""
    try:
        obj = decode(data)  # type: ignore[arg-type]
    except BadEncoding:
        return ("refused",)
    return ("decoded", type(obj), tuple(obj), obj._cached_rlp)


def assert_agree(fast: Decoder, reference: Decoder, data: object) -> tuple[object, ...]:
    got = outcome(fast, data)
    assert got == outcome(reference, data)
    return got


def agree_event(data: object) -> tuple[object, ...]:
    return assert_agree(codec.decode_event, codec.reference_decode_event, data)


def agree_packet(data: object) -> tuple[object, ...]:
    return assert_agree(codec.decode_packet, codec.reference_decode_packet, data)


UINT = st.one_of(st.integers(0, 300), st.integers(0, 2**64 - 1), st.integers(0, 2**256 - 1))
KEYS = st.sampled_from([b"sequence", b"amount", b"denom", b"payload", b"x", b""])
ATTRIBUTES = st.lists(st.tuples(KEYS | st.binary(max_size=12), st.binary(max_size=80)), max_size=12)

EVENTS = st.builds(
    codec.Event,
    kind=st.sampled_from([b"send_packet", b"recv_packet", b"htlc_locked", b""]) | st.binary(),
    tx_index=UINT,
    event_index=UINT,
    attributes=ATTRIBUTES,
)
PACKETS = st.builds(
    codec.Packet,
    source_chain=st.binary(max_size=20),
    dest_chain=st.binary(max_size=20),
    sequence=UINT,
    sender=st.binary(max_size=40),
    receiver=st.binary(max_size=40),
    denom=st.binary(max_size=20),
    amount=UINT,
    payload=st.binary(max_size=120),
    timeout_height=UINT,
    timeout_time_ms=UINT,
)

# Raw RLP items: bytes (some with a leading zero byte) and lists nested a few levels.
LEAF_BYTES = st.one_of(
    st.binary(max_size=40), st.binary(min_size=1, max_size=4).map(lambda b: b"\x00" + b)
)
RAW = st.recursive(LEAF_BYTES, lambda inner: st.lists(inner, max_size=12), max_leaves=40)


def mutations(encoded: bytes) -> st.SearchStrategy[bytes]:
    """Byte-level damage to ``encoded``: one flipped bit, a cut, or bytes appended."""
    n = len(encoded)
    flip = st.tuples(st.integers(0, n - 1), st.integers(0, 7)).map(
        lambda at: encoded[: at[0]] + bytes([encoded[at[0]] ^ 1 << at[1]]) + encoded[at[0] + 1 :]
    )
    cut = st.integers(0, n - 1).map(lambda at: encoded[:at])
    extra = st.binary(min_size=1, max_size=4).map(lambda tail: encoded + tail)
    return st.one_of(flip, cut, extra)


def raw_of(obj: Any) -> list[Any]:
    """An object's raw items (mutable), as ``rlp.decode`` would give them."""
    return rlp.decode(codec.encode(obj))  # type: ignore[no-any-return]


def rewritten(raw: list[Any], path: tuple[int, ...], change: str, junk: Any) -> bytes:
    """``raw`` with the item at ``path`` changed: replaced by ``junk``, given a leading zero
    byte, wrapped in a list, or removed; or ``junk`` inserted before it."""
    *parents, last = path
    holder = raw
    for i in parents:
        holder = holder[i]
    if change == "replace":
        holder[last] = junk
    elif change == "zero-pad":
        holder[last] = b"\x00" + holder[last] if isinstance(holder[last], bytes) else [b"\x00"]
    elif change == "wrap":
        holder[last] = [holder[last]]
    elif change == "remove":
        del holder[last]
    else:
        holder.insert(last, junk)
    return rlp.encode(raw)


def paths(raw: list[Any]) -> list[tuple[int, ...]]:
    """Every position inside ``raw`` (the top-level items and, within lists, theirs)."""
    out: list[tuple[int, ...]] = []
    for i, item in enumerate(raw):
        out.append((i,))
        if isinstance(item, list):
            out += [(i, *sub) for sub in paths(item)]
    return out


CHANGES = st.sampled_from(["replace", "zero-pad", "wrap", "remove", "insert"])


# --- (a) valid objects from the encoder -------------------------------------------------


@SETTINGS
@given(EVENTS)
def test_every_encoded_event_decodes_to_itself_both_ways(event: codec.Event) -> None:
    encoded = codec.encode(event)
    fast = codec.decode_event(encoded)
    assert fast == event
    assert fast.attributes == event.attributes
    assert agree_event(encoded)[0] == "decoded"
    assert agree_event(bytearray(encoded))[0] == "decoded"


@SETTINGS
@given(PACKETS)
def test_every_encoded_packet_decodes_to_itself_both_ways(packet: codec.Packet) -> None:
    encoded = codec.encode(packet)
    assert codec.decode_packet(encoded) == packet
    assert agree_packet(encoded)[0] == "decoded"


# --- (b) mutated bytes and items --------------------------------------------------------


@SETTINGS
@given(st.data(), EVENTS)
def test_a_damaged_event_leaf_is_refused_or_read_alike(
    data: st.DataObject, event: codec.Event
) -> None:
    agree_event(data.draw(mutations(codec.encode(event))))


@SETTINGS
@given(st.data(), PACKETS)
def test_damaged_packet_bytes_are_refused_or_read_alike(
    data: st.DataObject, packet: codec.Packet
) -> None:
    agree_packet(data.draw(mutations(codec.encode(packet))))


@SETTINGS
@given(st.data(), EVENTS, CHANGES, RAW)
def test_an_event_with_one_item_changed_is_refused_or_read_alike(
    data: st.DataObject, event: codec.Event, change: str, junk: Any
) -> None:
    raw = raw_of(event)
    path = data.draw(st.sampled_from(paths(raw)))
    agree_event(rewritten(raw, path, change, junk))


@SETTINGS
@given(st.data(), PACKETS, CHANGES, RAW)
def test_a_packet_with_one_item_changed_is_refused_or_read_alike(
    data: st.DataObject, packet: codec.Packet, change: str, junk: Any
) -> None:
    raw = raw_of(packet)
    path = data.draw(st.sampled_from(paths(raw)))
    agree_packet(rewritten(raw, path, change, junk))


MOSTLY_BYTES = st.one_of(LEAF_BYTES, LEAF_BYTES, LEAF_BYTES, RAW)
EVENT_SHAPED = st.tuples(
    MOSTLY_BYTES,
    MOSTLY_BYTES,
    MOSTLY_BYTES,
    st.one_of(st.lists(st.lists(MOSTLY_BYTES, min_size=1, max_size=3), max_size=4), RAW),
).map(list)
PACKET_SHAPED = st.lists(MOSTLY_BYTES, min_size=9, max_size=11)


@SETTINGS
@given(st.one_of(EVENT_SHAPED, PACKET_SHAPED, st.lists(RAW, max_size=12)))
def test_arbitrary_nested_lists_are_refused_or_read_alike(items: list[Any]) -> None:
    encoded = rlp.encode(items)
    agree_event(encoded)
    agree_packet(encoded)


@SETTINGS
@given(st.binary(max_size=64))
def test_arbitrary_bytes_are_refused_or_read_alike(data: bytes) -> None:
    agree_event(data)
    agree_packet(data)


# --- the refusals, one broken field per row -----------------------------------------------

GOOD_EVENT = [b"send_packet", b"\x03", b"", [[b"sequence", b"\x07"], [b"denom", b"upj"]]]


def event_with(index: int, value: object) -> bytes:
    raw: list[object] = list(GOOD_EVENT)
    raw[index] = value
    return rlp.encode(raw)


def nested(depth: int) -> bytes:
    """An empty list inside lists, ``depth`` levels in all."""
    item: list[object] = []
    for _ in range(depth - 1):
        item = [item]
    return rlp.encode(item)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (rlp.encode(b"send_packet"), "a string, not a list"),
        (rlp.encode(GOOD_EVENT[:3]), "3 fields, not 4"),
        (rlp.encode([*GOOD_EVENT, b""]), "5 fields, not 4"),
        (event_with(0, [b"send_packet"]), "kind is a list"),
        (event_with(1, b"\x00\x03"), "tx_index is not minimal"),
        (event_with(1, b"\x00"), "tx_index is not minimal"),
        (event_with(1, [b"\x03"]), "tx_index is a list"),
        (event_with(2, []), "event_index is a list"),
        (event_with(3, b"sequence"), "attributes are a string"),
        (event_with(3, [[b"sequence"]]), "not a [key, value] pair"),
        (event_with(3, [[b"sequence", b"\x07", b""]]), "not a [key, value] pair"),
        (event_with(3, [b"sequence"]), "not a [key, value] pair"),
        (event_with(3, [[b"sequence", [b"\x07"]]]), "key or value is a list"),
        (event_with(3, [[[b"sequence"], b"\x07"]]), "key or value is a list"),
        (rlp.encode(GOOD_EVENT) + b"\x00", "superfluous bytes"),
        (rlp.encode(GOOD_EVENT)[:-1], "not canonical RLP"),
        (b"", "not canonical RLP"),
        (nested(MAX_WIRE_DEPTH + 1), "nests lists deeper"),
        ("0xc0", "must be bytes"),
    ],
)
def test_each_malformed_event_is_refused(data: object, reason: str) -> None:
    with pytest.raises(BadEncoding) as refused:
        codec.decode_event(data)  # type: ignore[arg-type]
    assert reason in refused.value.message
    with pytest.raises(BadEncoding):
        codec.reference_decode_event(data)  # type: ignore[arg-type]


GOOD_PACKET = [b"pj", b"evm", b"\x01", b"s", b"r", b"upj", b"\x05", b"", b"", b"\x09"]


def packet_with(index: int, value: object) -> bytes:
    raw: list[object] = list(GOOD_PACKET)
    raw[index] = value
    return rlp.encode(raw)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (rlp.encode(GOOD_PACKET[:9]), "9 fields, not 10"),
        (rlp.encode([*GOOD_PACKET, b""]), "11 fields, not 10"),
        (packet_with(0, [b"pj"]), "source_chain is a list"),
        (packet_with(2, b"\x00\x01"), "sequence is not minimal"),
        (packet_with(6, b"\x00"), "amount is not minimal"),
        (packet_with(6, [b"\x05"]), "amount is a list"),
        (packet_with(7, []), "payload is a list"),
        (packet_with(8, b"\x00"), "timeout_height is not minimal"),
        (packet_with(9, b"\x00\x09"), "timeout_time_ms is not minimal"),
        (rlp.encode(b"packet"), "a string, not a list"),
    ],
)
def test_each_malformed_packet_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(BadEncoding) as refused:
        codec.decode_packet(data)
    assert reason in refused.value.message
    with pytest.raises(BadEncoding):
        codec.reference_decode_packet(data)


def test_the_hand_checks_cover_the_sedes_field_lists() -> None:
    """The fast decoders know the field lists as they are; a changed one fails here first."""
    assert [(name, type(sedes)) for name, sedes in codec.Event._meta.fields] == [
        ("kind", type(codec.binary)),
        ("tx_index", codec.StrictBigEndianInt),
        ("event_index", codec.StrictBigEndianInt),
        ("attributes", CountableList),
    ]
    attributes = codec.Event._meta.fields[3][1]
    assert attributes.max_length is None
    assert list(attributes.element_sedes) == [codec.binary, codec.binary]
    sedes = [s for _, s in codec.Packet._meta.fields]
    assert codec.PACKET_INTS == {2, 6, 8, 9}
    assert all(
        s is (codec.big_endian_int if i in codec.PACKET_INTS else codec.binary)
        for i, s in enumerate(sedes)
    )


def test_the_good_rows_decode() -> None:
    event = codec.decode_event(rlp.encode(GOOD_EVENT))
    assert (event.kind, event.tx_index, event.event_index) == (b"send_packet", 3, 0)
    assert event.attributes == ((b"sequence", b"\x07"), (b"denom", b"upj"))
    assert event == codec.reference_decode_event(rlp.encode(GOOD_EVENT))
    packet = codec.decode_packet(rlp.encode(GOOD_PACKET))
    assert (packet.sequence, packet.amount, packet.timeout_height) == (1, 5, 0)
    assert packet == codec.reference_decode_packet(rlp.encode(GOOD_PACKET))


# --- batch members: ``check_batch_members`` decides as ``decode_batch_members`` ---------

MEMBERS = st.lists(
    st.builds(
        codec.BatchMember,
        packet=PACKETS,
        index=UINT,
        proof=st.lists(st.binary(min_size=32, max_size=32), max_size=codec.MAX_BATCH_PROOF),
    ),
    max_size=4,
)


def members_outcome(check: Decoder, data: object) -> tuple[object, ...]:
    """A count of members, or that it refused (only ``BadEncoding`` counts as a refusal)."""
    try:
        found = check(data)
    except BadEncoding:
        return ("refused",)
    return ("accepted", found if isinstance(found, int) else len(found))


def agree_members(data: object) -> tuple[object, ...]:
    got = members_outcome(codec.check_batch_members, data)
    assert got == members_outcome(codec.decode_batch_members, data)
    return got


def encode_members(members: list[codec.BatchMember]) -> bytes:
    return rlp.encode(members, sedes=codec.BatchMembers)


@SETTINGS
@given(MEMBERS)
def test_encoded_members_are_accepted_both_ways(members: list[codec.BatchMember]) -> None:
    assert agree_members(encode_members(members)) == ("accepted", len(members))


@SETTINGS
@given(st.data(), MEMBERS.filter(bool))
def test_damaged_members_are_refused_or_accepted_alike(
    data: st.DataObject, members: list[codec.BatchMember]
) -> None:
    agree_members(data.draw(mutations(encode_members(members))))


@SETTINGS
@given(st.data(), MEMBERS.filter(bool), CHANGES, RAW)
def test_members_with_one_item_changed_are_refused_or_accepted_alike(
    data: st.DataObject, members: list[codec.BatchMember], change: str, junk: Any
) -> None:
    raw = rlp.decode(encode_members(members))
    path = data.draw(st.sampled_from(paths(raw)))
    agree_members(rewritten(raw, path, change, junk))


@pytest.mark.parametrize(
    ("members", "proof_len", "hash_len"),
    [(codec.MAX_BATCH_MEMBERS + 1, 0, 32), (1, codec.MAX_BATCH_PROOF + 1, 32), (1, 1, 31)],
    ids=["too-many-members", "proof-too-long", "short-proof-hash"],
)
def test_the_bounds_of_members_are_refused_alike(
    members: int, proof_len: int, hash_len: int
) -> None:
    packet = rlp.decode(rlp.encode(GOOD_PACKET))
    raw = [[packet, b"\x01", [bytes(hash_len)] * proof_len]] * members
    assert agree_members(rlp.encode(raw)) == ("refused",)
