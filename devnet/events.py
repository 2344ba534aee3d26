"""Events: the leaves of a block's ``events_root``, with a fixed attribute order per kind.

An event is ``rlp([kind, tx_index, event_index, [[key, value], ...]])``
(``codec.Event``); ``tx_index`` is the transaction's position in the block,
``event_index`` the event's position among that transaction's events. The
attributes of each kind, in their order, are ``SCHEMAS`` below; integer values
are minimal big-endian bytes, text values UTF-8, the rest raw bytes. The
node's API also shows them decoded (``read_attributes``): text as strings,
bytes as ``0x`` hex, integers as JSON numbers except ``amount``, a decimal
string (it may exceed 2^53).
"""

from __future__ import annotations

from collections.abc import Mapping

from proofs.pujiang import codec

INT, AMOUNT, TEXT, BYTES = "int", "amount", "text", "bytes"

PACKET_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("source_chain", TEXT),
    ("dest_chain", TEXT),
    ("sequence", INT),
    ("sender", BYTES),
    ("receiver", BYTES),
    ("denom", TEXT),
    ("amount", AMOUNT),
    ("payload", BYTES),
    ("timeout_height", INT),
    ("timeout_time_ms", INT),
)

SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "send_packet": PACKET_ATTRIBUTES,
    "recv_packet": PACKET_ATTRIBUTES,
    "timeout_packet": PACKET_ATTRIBUTES,
    "acknowledge_packet": PACKET_ATTRIBUTES,
    "packet_failed": (*PACKET_ATTRIBUTES, ("reason", TEXT)),
    "htlc_locked": (
        ("htlc_id", BYTES),
        ("sender", BYTES),
        ("receiver", BYTES),
        ("denom", TEXT),
        ("amount", AMOUNT),
        ("hashlock", BYTES),
        ("timelock_ms", INT),
    ),
    "htlc_claimed": (
        ("htlc_id", BYTES),
        ("receiver", BYTES),
        ("denom", TEXT),
        ("amount", AMOUNT),
        ("hashlock", BYTES),
        ("preimage", BYTES),
    ),
    "htlc_refunded": (
        ("htlc_id", BYTES),
        ("sender", BYTES),
        ("denom", TEXT),
        ("amount", AMOUNT),
    ),
    "validator_set_changed": (
        ("epoch", INT),
        ("validators_hash", BYTES),
        ("effective_height", INT),
    ),
}
"""``acknowledge_packet`` and ``packet_failed`` come only from batch transactions
(``bridge_ack_batch``, ``bridge_recv_batch``)."""


def _encode_value(value: object) -> bytes:
    if isinstance(value, bool):
        raise TypeError("no booleans in events")
    if isinstance(value, int):
        return value.to_bytes((value.bit_length() + 7) // 8, "big")
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} in an event")


def make_event(
    kind: str, tx_index: int, event_index: int, values: Mapping[str, object]
) -> codec.Event:
    """An event with the attributes of ``kind`` in schema order (every one required)."""
    schema = SCHEMAS[kind]
    if set(values) != {name for name, _ in schema}:
        raise KeyError(f"{kind} takes exactly {[n for n, _ in schema]}")
    attributes = [[name.encode(), _encode_value(values[name])] for name, _ in schema]
    return codec.Event(
        kind=kind.encode(), tx_index=tx_index, event_index=event_index, attributes=attributes
    )


def packet_values(packet: codec.Packet) -> dict[str, object]:
    return {name: getattr(packet, name) for name, _ in PACKET_ATTRIBUTES}


def read_attributes(event: codec.Event) -> dict[str, object]:
    """The attributes decoded for reading (unknown kinds: every value as hex)."""
    schema = dict(SCHEMAS.get(event.kind.decode("ascii", "replace"), ()))
    out: dict[str, object] = {}
    for key, value in event.attributes:
        name = key.decode("utf-8", "replace")
        kind = schema.get(name, BYTES)
        if kind == INT:
            out[name] = int.from_bytes(value, "big")
        elif kind == AMOUNT:
            out[name] = str(int.from_bytes(value, "big"))
        elif kind == TEXT:
            out[name] = value.decode("utf-8", "replace")
        else:
            out[name] = "0x" + value.hex()
    return out


def dest_chain_of(event: codec.Event) -> str | None:
    """The ``dest_chain`` attribute, for the API's ``dest_chain=`` filter."""
    for key, value in event.attributes:
        if key == b"dest_chain":
            return value.decode("utf-8", "replace")
    return None
