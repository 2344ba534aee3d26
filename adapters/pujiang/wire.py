"""Reading the node's JSON answers: hex fields, integers, event kinds.

A field that is missing or malformed in a 200 answer is a ``ChainError``
naming the field: the node (or something between us and it) speaks another
version of the API, which retrying will not fix. Nothing here verifies a
signature or a root: that is the light client's job.

Two things are done by hand because every event of every listed block pays them (the
relayer's watcher, each notary; issue #15, ``bench/pujiang_decode.py``): a packet event's
fields are checked as the packet sedes would check them (``packet_fields_canonical``) and
their RLP is assembled with pyrlp's ``length_prefix`` (``proofs.rlp_lists.rlp_of_strings``),
~2 µs where ``rlp.encode`` took ~20 µs; the tests hold both to pyrlp's own decoder and
encoder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import BadEncoding, ChainError
from core.types import EventKind
from proofs.pujiang.codec import Event, decode_event
from proofs.rlp_lists import rlp_of_strings

EVENT_KINDS: Mapping[bytes, EventKind] = {
    b"send_packet": EventKind.SEND_PACKET,
    b"recv_packet": EventKind.RECEIVE_PACKET,
    b"acknowledge_packet": EventKind.ACKNOWLEDGE_PACKET,
    b"timeout_packet": EventKind.TIMEOUT_PACKET,
    b"packet_failed": EventKind.PACKET_FAILED,
    b"htlc_locked": EventKind.HTLC_LOCKED,
    b"htlc_claimed": EventKind.HTLC_CLAIMED,
    b"htlc_refunded": EventKind.HTLC_REFUNDED,
}
"""Chain event kind -> hub kind. ``validator_set_changed`` is absent on purpose: it is
consensus, not a bridge or HTLC event; the light client sees rotations in headers."""

KIND_NAMES: Mapping[EventKind, bytes] = {v: k for k, v in EVENT_KINDS.items()}


def field(answer: Mapping[str, Any], name: str, what: str) -> Any:
    if name not in answer:
        raise ChainError(f"{what}: node answer lacks {name!r}")
    return answer[name]


def hex_field(answer: Mapping[str, Any], name: str, what: str) -> bytes:
    """A ``0x`` hex field as bytes."""
    value = field(answer, name, what)
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise ChainError(f"{what}: node answered a malformed {name!r} (0x-hex expected)")


def int_field(answer: Mapping[str, Any], name: str, what: str) -> int:
    value = field(answer, name, what)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ChainError(f"{what}: node answered a malformed {name!r} (uint expected)")
    return value


def decode_event_leaf(data: bytes, what: str) -> Event:
    """The event leaf a node served; ``ChainError`` (not a verification error) if it is junk.

    The leaf is decoded only to read it; whether it is *in the chain* is decided
    later by the light client against a verified ``events_root``.
    """
    try:
        return decode_event(data)
    except BadEncoding as err:
        raise ChainError(f"{what}: node served an event leaf that does not decode") from err


INT_ATTRIBUTES = frozenset(
    {
        "sequence",
        "amount",
        "timeout_height",
        "timeout_time_ms",
        "timelock_ms",
        "epoch",
        "effective_height",
    }
)
TEXT_ATTRIBUTES = frozenset({"source_chain", "dest_chain", "denom", "reason"})
PACKET_KINDS = frozenset(
    {b"send_packet", b"recv_packet", b"timeout_packet", b"acknowledge_packet", b"packet_failed"}
)


def event_attributes(event: Event) -> dict[str, object]:
    """Attributes decoded by name: integers (minimal big-endian), text (UTF-8), else bytes.

    Packet events also carry ``packet``: the RLP of the packet rebuilt from
    their fields, i.e. the bytes notaries sign over (``codec.compute_packet_digest``).
    """
    out: dict[str, object] = {}
    for raw_key, value in event.attributes:
        key = raw_key.decode("utf-8", errors="replace")
        if key in INT_ATTRIBUTES:
            out[key] = int.from_bytes(value, "big")
        elif key in TEXT_ATTRIBUTES:
            out[key] = value.decode("utf-8", errors="replace")
        else:
            out[key] = bytes(value)
    if event.kind in PACKET_KINDS:
        out["packet"] = packet_of(event)
    return out


PACKET_FIELDS = (
    "source_chain", "dest_chain", "sequence", "sender", "receiver", "denom", "amount",
    "payload", "timeout_height", "timeout_time_ms",
)  # fmt: skip
"""``codec.Packet``'s fields, in order; a packet event carries each as an attribute."""


def packet_of(event: Event) -> bytes:
    """The packet RLP of a packet event (integers are minimal big-endian in both forms)."""
    raw = {key.decode("utf-8", errors="replace"): value for key, value in event.attributes}
    what = event.kind.decode("utf-8", errors="replace")
    try:
        fields = [raw[name] for name in PACKET_FIELDS]
    except KeyError as err:
        raise ChainError(f"{what} event lacks the packet field {err}") from err
    if not packet_fields_canonical(fields):
        raise ChainError(f"{what} event's packet fields do not form a packet")
    return rlp_of_strings(fields)  # type: ignore[arg-type]


PACKET_INT_FIELDS = tuple(i for i, name in enumerate(PACKET_FIELDS) if name in INT_ATTRIBUTES)
"""Positions of ``codec.Packet``'s integer fields (``big_endian_int``) in ``PACKET_FIELDS``."""


def packet_fields_canonical(fields: Sequence[object]) -> bool:
    """Whether ``rlp.encode(fields)`` decodes as a ``codec.Packet`` (``codec.decode_packet``),
    without encoding and decoding: the RLP of a list of byte strings is canonical by
    construction, so the packet sedes can refuse only a field that is not bytes or an
    integer field with a leading zero byte (not minimal). Checked here because every packet
    event of every listed block (the relayer's watcher, each notary) paid a full sedes
    decode for it; ``tests/adapters/test_pujiang_wire.py`` holds the two equal."""
    if len(fields) != len(PACKET_FIELDS):
        return False
    if not all(isinstance(f, bytes) for f in fields):
        return False
    return all(fields[i][:1] != b"\x00" for i in PACKET_INT_FIELDS)  # type: ignore[index]
