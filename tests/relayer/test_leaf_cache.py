"""``relayer.batching.LeafCache``: a packet's leaf computed once per acting chain."""

from __future__ import annotations

from collections import Counter

from core.ids import ChainId
from core.types import Packet
from relayer.batching import LeafCache, batch_root, members_of


class CountingBridge:
    """A bridge whose leaf is the packet's sequence, counting every computation."""

    def __init__(self) -> None:
        self.calls = Counter[int]()

    def batch_hash_name(self) -> str:
        return "sha256"

    def batch_leaf(self, packet: Packet) -> bytes:
        self.calls[packet.sequence] += 1
        return packet.sequence.to_bytes(32, "big")


def packet(sequence: int) -> Packet:
    return Packet(ChainId("a"), ChainId("b"), sequence, b"\x01", b"\x02", "upj", 5)


def test_a_leaf_is_computed_once_and_the_trees_are_the_uncached_ones() -> None:
    bridge = CountingBridge()
    cache = LeafCache()
    leaf = cache.of("b", bridge)
    packets = [packet(n) for n in range(1, 6)]
    plain_root, plain_members = members_of(CountingBridge(), packets)  # type: ignore[arg-type]
    assert batch_root(bridge, packets, leaf) == plain_root  # type: ignore[arg-type]
    root, members = members_of(bridge, packets, leaf)  # type: ignore[arg-type]
    assert (root, members) == (plain_root, plain_members)
    assert set(bridge.calls.values()) == {1}
    cache.of("c", bridge)(packets[0])  # another acting chain: its own leaf
    assert bridge.calls[1] == 2


def test_the_cache_keeps_the_newest_leaves_only() -> None:
    bridge = CountingBridge()
    leaf = LeafCache(size=2).of("b", bridge)
    for n in (1, 2, 3):
        leaf(packet(n))
    leaf(packet(1))  # forgotten: computed again
    leaf(packet(3))  # kept
    assert (bridge.calls[1], bridge.calls[3]) == (2, 1)
