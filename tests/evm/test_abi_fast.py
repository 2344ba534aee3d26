"""``adapters.evm.abi_fast`` decodes exactly as eth-abi where it answers, and answers None
(eth-abi decides) for every encoding that is not the canonical one.

Every event of the Bridge and HashedTimelock artifacts is covered: its plain arguments'
types and each indexed value type. eth-abi is the reference; ``Artifact.decode_log`` is
also held to the decoding it did before (eth-abi for everything) on real event shapes."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils.abi import collapse_if_tuple
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from adapters.evm import abi_fast
from adapters.evm.artifacts import Artifact, _is_value_type, load_artifact
from core.errors import BadEncoding

ARTIFACTS = [load_artifact("Bridge"), load_artifact("HashedTimelock")]
EVENTS = [(a, e) for a in ARTIFACTS for e in a.abi if e["type"] == "event"]


def _plain_types(event: dict[str, Any]) -> list[str]:
    return [collapse_if_tuple(i) for i in event["inputs"] if not i["indexed"]]


TYPE_LISTS = sorted(
    {tuple(_plain_types(e)) for _, e in EVENTS}
    | {(i["type"],) for _, e in EVENTS for i in e["inputs"] if _is_value_type(i["type"])}
)
HANDLED = [types for types in TYPE_LISTS if abi_fast.decoder(list(types)) is not None]


def values_of(kind: str) -> st.SearchStrategy[Any]:
    if kind.startswith("("):
        items = []
        depth, start = 0, 1
        for i, char in enumerate(kind[1:-1], start=1):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == "," and depth == 0:
                items.append(kind[start:i])
                start = i + 1
        items.append(kind[start:-1])
        return st.tuples(*(values_of(item) for item in items))
    if kind.startswith("uint"):
        return st.integers(min_value=0, max_value=2 ** int(kind[4:]) - 1)
    if kind == "address":
        return st.binary(min_size=20, max_size=20)
    if kind == "string":
        return st.text(max_size=70)
    if kind == "bytes":
        return st.binary(max_size=100)
    if kind.startswith("bytes"):
        return st.binary(min_size=int(kind[5:]), max_size=int(kind[5:]))
    raise AssertionError(f"no strategy for {kind}")


def reference(types: list[str], data: bytes) -> object:
    try:
        return abi_decode(types, data)
    except Exception as err:  # eth-abi raises several classes
        return type(err)


def test_the_packet_events_are_handled() -> None:
    """The events every listed block is full of take the fast path."""
    for name in ("SendPacket", "RecvPacket", "PacketFailed", "AcknowledgePacket"):
        event = next(e for _, e in EVENTS if e["name"] == name)
        assert tuple(_plain_types(event)) in HANDLED, name
    assert ("uint64",) in HANDLED
    assert ("address",) in HANDLED


@pytest.mark.parametrize("types", HANDLED, ids=lambda t: ",".join(t)[:60])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_encoded_values_decode_as_eth_abi(types: tuple[str, ...], data: st.DataObject) -> None:
    values = data.draw(st.tuples(*(values_of(kind) for kind in types)))
    encoded = abi_encode(list(types), list(values))
    fast = abi_fast.decoder(list(types))
    assert fast is not None
    assert fast(encoded) == abi_decode(list(types), encoded)


DAMAGE = st.one_of(
    st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("cut"), st.integers(min_value=0), st.just(0)),
    st.tuples(st.just("append"), st.integers(min_value=1, max_value=64), st.just(0)),
)


@pytest.mark.parametrize("types", HANDLED, ids=lambda t: ",".join(t)[:60])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), damage=DAMAGE)
def test_damaged_encodings_are_left_to_eth_abi(
    types: tuple[str, ...], data: st.DataObject, damage: tuple[str, int, int]
) -> None:
    """A changed byte (a padding, an offset, a length, invalid UTF-8), a cut or bytes after
    the end: the fast path answers None or what eth-abi answers, never something else."""
    values = data.draw(st.tuples(*(values_of(kind) for kind in types)))
    encoded = abi_encode(list(types), list(values))
    how, at, by = damage
    assume(encoded or how == "append")  # an event without plain arguments: b""
    if how == "flip":
        at %= len(encoded)
        encoded = encoded[:at] + bytes([encoded[at] ^ by]) + encoded[at + 1 :]
    elif how == "cut":
        encoded = encoded[: at % len(encoded)]
    else:
        encoded += bytes(at)
    fast = abi_fast.decoder(list(types))
    assert fast is not None
    answer = fast(encoded)
    if answer is not None:
        assert answer == abi_decode(list(types), encoded)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(HANDLED))
def test_arbitrary_bytes_are_left_to_eth_abi(data: bytes, types: tuple[str, ...]) -> None:
    fast = abi_fast.decoder(list(types))
    assert fast is not None
    answer = fast(data)
    if answer is not None:
        assert answer == reference(list(types), data)


def test_a_non_canonical_but_valid_encoding_is_left_to_eth_abi() -> None:
    """An offset eth-abi follows but the encoder never writes (the tail moved a word on)."""
    types = ["string"]
    encoded = abi_encode(types, ["hello"])
    moved = (64).to_bytes(32, "big") + bytes(32) + encoded[32:]
    assert abi_decode(types, moved) == ("hello",)
    fast = abi_fast.decoder(types)
    assert fast is not None
    assert fast(moved) is None


def test_invalid_utf8_is_left_to_eth_abi() -> None:
    encoded = abi_encode(["string"], ["ab"])
    broken = encoded[:64] + b"\xff\xfe" + encoded[66:]
    fast = abi_fast.decoder(["string"])
    assert fast is not None
    assert fast(broken) is None
    assert isinstance(reference(["string"], broken), type)  # eth-abi refuses it


@pytest.mark.parametrize(
    "types",
    [["int256"], ["bool"], ["address[]"], ["(uint64,uint64)"], ["uint7"], ["bytes33"],
     ["uint0"], ["bytes0"], ["uint064"], ["(uint64,string)[]"], ["function"]],
)  # fmt: skip
def test_types_it_does_not_handle_are_eth_abi_s(types: list[str]) -> None:
    assert abi_fast.decoder(types) is None


def _reference_decode_log(
    artifact: Artifact, topics: list[bytes], data: bytes
) -> tuple[str, dict[str, Any]] | type | None:
    """``Artifact.reference_decode_log`` (eth-abi for every argument), a refusal as its class."""
    try:
        return artifact.reference_decode_log(topics, data)
    except BadEncoding:
        return BadEncoding


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_decode_log_answers_as_before(data: st.DataObject) -> None:
    """Encoded events, with a topic or a data byte changed or not: the same arguments, or
    ``BadEncoding`` from both."""
    artifact, event = data.draw(st.sampled_from(EVENTS))
    from eth_utils import event_abi_to_log_topic

    plain = _plain_types(event)
    if abi_fast.decoder(plain) is None and any("[]" in t for t in plain):
        encoded = abi_encode(plain, [[] if "[]" in t else 0 for t in plain])
    else:
        encoded = abi_encode(plain, list(data.draw(st.tuples(*(values_of(t) for t in plain)))))
    topics = [event_abi_to_log_topic(event)]
    for param in (i for i in event["inputs"] if i["indexed"]):
        if _is_value_type(param["type"]):
            topics.append(abi_encode([param["type"]], [data.draw(values_of(param["type"]))]))
        else:
            topics.append(data.draw(st.binary(min_size=32, max_size=32)))
    change = data.draw(st.sampled_from(["none", "topic", "data"]))
    if change == "topic" and len(topics) > 1:
        i = data.draw(st.integers(min_value=1, max_value=len(topics) - 1))
        topics[i] = data.draw(st.binary(min_size=32, max_size=32))
    elif change == "data" and encoded:
        at = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
        encoded = encoded[:at] + bytes([encoded[at] ^ 0x80]) + encoded[at + 1 :]
    expected = _reference_decode_log(artifact, topics, encoded)
    try:
        got: object = artifact.decode_log(topics, encoded)
    except BadEncoding:
        got = BadEncoding
    assert got == expected
