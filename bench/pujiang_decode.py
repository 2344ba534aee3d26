"""Decoding a Pujiang event leaf, per event, before and after the hand-checked decoders (#15).

    .venv/bin/python bench/pujiang_decode.py [--events 2000] [--rounds 20]

Every event of every listed block is decoded by the relayer's watcher and by each
notary (``PujiangAdapter._event``: ``wire.decode_event_leaf``, ``wire.event_attributes``
with the packet's RLP), and each packet event's packet once more by the bridge
(``PujiangBridge.packet_of``: ``codec.decode_packet``, ``from_wire_packet``); the devnet
decodes each committed leaf when serving it (``codec.decode_event``). This times those
steps on ``--events`` distinct ``send_packet`` leaves (payloads of 0 to 300 bytes), with
the current code and with the code before it in the same process: the sedes decoders
(``codec.reference_decode_event`` / ``reference_decode_packet``) and ``rlp.encode`` of the
packet's fields patched back in. Rounds alternate the two; the best round of each is kept,
timed by the process's CPU clock. ``rlp.decode`` of the same leaves (no shape checks, no
objects) is printed for scale.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import rlp

from adapters.pujiang import wire
from adapters.pujiang.bridge import PujiangBridge
from core.ids import ChainId, Height
from core.types import ChainEvent, EventKind
from proofs.pujiang import codec

CHAIN = ChainId("pj-bench")


def _leaves(n: int) -> list[bytes]:
    """``n`` distinct ``send_packet`` leaves, attributes in the devnet's schema order."""
    out = []
    for i in range(n):
        values = {
            "source_chain": str(CHAIN).encode(),
            "dest_chain": b"evm-bench",
            "sequence": (i + 1).to_bytes(4, "big").lstrip(b"\0"),
            "sender": bytes([i % 256]) * 20,
            "receiver": bytes([(i * 7) % 256]) * 20,
            "denom": b"upj",
            "amount": (10**18 + i).to_bytes(8, "big").lstrip(b"\0"),
            "payload": bytes(i % 301),
            "timeout_height": b"",
            "timeout_time_ms": (1_800_000_000_000 + i).to_bytes(8, "big").lstrip(b"\0"),
        }
        attributes = [[name.encode(), values[name]] for name in wire.PACKET_FIELDS]
        out.append(codec.encode(codec.Event(b"send_packet", i % 64, 0, attributes)))
    return out


def _watch(leaf: bytes) -> ChainEvent:
    """What the watcher (and each notary's listing) does with one leaf the node served."""
    decoded = wire.decode_event_leaf(leaf, "event")
    return ChainEvent(
        chain_id=CHAIN,
        height=Height(1),
        kind=wire.EVENT_KINDS[decoded.kind],
        tx_hash=b"\x00" * 32,
        position=(0,),
        attributes=wire.event_attributes(decoded),
        raw=leaf,
    )


@contextmanager
def _before() -> Iterator[None]:
    """The code before this change: sedes decoders, ``rlp.encode`` of the packet's fields."""
    fast_event, fast_packet = codec.decode_event, codec.decode_packet
    fast_encode = wire.rlp_of_strings
    codec.decode_event = wire.decode_event = codec.reference_decode_event  # type: ignore[assignment]
    codec.decode_packet = codec.reference_decode_packet  # type: ignore[assignment]
    wire.rlp_of_strings = rlp.encode  # type: ignore[assignment]
    try:
        yield
    finally:
        codec.decode_event = wire.decode_event = fast_event  # type: ignore[assignment]
        codec.decode_packet = fast_packet  # type: ignore[assignment]
        wire.rlp_of_strings = fast_encode  # type: ignore[assignment]


def _per_item(step: Callable[[Any], object], items: list[Any]) -> float:
    """µs of this process's CPU per item of ``step`` over ``items`` (the process clock: the
    machine is shared, and time spent preempted is not the step's)."""
    start = time.process_time()
    for item in items:
        step(item)
    return (time.process_time() - start) / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    leaves = _leaves(args.events)
    bridge = PujiangBridge(CHAIN)
    events = [_watch(leaf) for leaf in leaves]
    packets = [e.attributes["packet"] for e in events]
    assert all(e.kind is EventKind.SEND_PACKET for e in events)
    with _before():
        assert [_watch(leaf) for leaf in leaves] == events  # the same events either way
        before_packets = [bridge.packet_of(e) for e in events]
    assert [bridge.packet_of(e) for e in events] == before_packets

    steps: dict[str, tuple[Callable[[Any], object], list[Any]]] = {
        "codec.decode_event (devnet serving)": (lambda leaf: codec.decode_event(leaf), leaves),
        "watcher: decode_event_leaf + event_attributes": (_watch, leaves),
        "codec.decode_packet": (lambda raw: codec.decode_packet(raw), packets),
        "bridge.packet_of (decode_packet + from_wire_packet)": (bridge.packet_of, events),
        "per packet event: watcher + bridge.packet_of": (
            lambda leaf: bridge.packet_of(_watch(leaf)),
            leaves,
        ),
    }
    best: dict[tuple[str, str], float] = {}
    raw = min(_per_item(rlp.decode, leaves) for _ in range(args.rounds))
    for _ in range(args.rounds):
        for label in ("before", "after"):
            for name, (step, items) in steps.items():
                if label == "before":
                    with _before():
                        took = _per_item(step, items)
                else:
                    took = _per_item(step, items)
                best[name, label] = min(best.get((name, label), took), took)
    mean_leaf = sum(map(len, leaves)) / len(leaves)
    print(f"{args.events} send_packet leaves (mean {mean_leaf:.0f} bytes), best of {args.rounds}")
    print(f"rlp.decode alone (for scale): {raw:.1f} µs/event")
    print(f"{'step':55} {'before µs':>10} {'after µs':>10} {'ratio':>7}")
    for name in steps:
        before, after = best[name, "before"], best[name, "after"]
        print(f"{name:55} {before:10.1f} {after:10.1f} {before / after:6.2f}x")


if __name__ == "__main__":
    main()
