"""A block's receipts trie built in one go, and its proofs cut from it.

The receipts trie of a block (and its transactions trie) maps ``rlp(index)`` to each
item; its root is the header's ``receiptsRoot``. The hub and every notary build it for
each block of bridge events they prove, and cut one proof per event from it.

Why by hand: ``trie.HexaryTrie.set`` re-encodes and re-hashes every node on the path for
each insert; for a block of 300 receipts that was ~110 µs a receipt, most of the cost of
proving a block (issue #15). With every key known up front, each node is built, encoded
(``proofs.rlp_lists``) and hashed exactly once, bottom up: ~15 µs a receipt
(``bench/evm_events.py``). The hex-prefix keys are py-trie's (``compute_leaf_key``,
``compute_extension_key``). ``tests/proofs/evm/test_ordered_trie.py`` holds the root,
the node database and every proof equal to ``HexaryTrie``'s (``get_proof``, inline
nodes left out as ``eth_getProof`` does) on arbitrary keys and values; and the proofs
are what ``proofs.mpt.verify_proof`` checks, so a wrong one is refused, never believed.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from trie.constants import BLANK_NODE_HASH
from trie.utils.nibbles import bytes_to_nibbles
from trie.utils.nodes import compute_extension_key, compute_leaf_key

from core.errors import InvalidInput
from proofs.hashing import keccak256
from proofs.rlp_lists import rlp_of, uint_bytes

Node: TypeAlias = list["bytes | Node"]
"""A decoded node: a branch of 17 items, or a leaf / extension of 2."""
Nibbles: TypeAlias = tuple[int, ...]

_HASH_SIZE = 32
_BRANCH = 16


@dataclass(frozen=True, slots=True)
class OrderedTrie:
    """A built trie: its root, its nodes' RLP by hash (every node of 32 bytes or more, and
    the root whatever its size) and the same nodes decoded (for the proof walk)."""

    root: bytes
    encoded: Mapping[bytes, bytes]
    nodes: Mapping[bytes, Node]

    def prove(self, key: bytes) -> list[bytes]:
        """The proof of ``key`` as ``eth_getProof`` gives one: the root node, then every
        node referenced by hash on the key's path (inline nodes are in their parent)."""
        if self.root == BLANK_NODE_HASH:
            return []
        path = bytes_to_nibbles(key)
        proof = [self.encoded[self.root]]
        node = self.nodes[self.root]
        while True:
            if len(node) == _BRANCH + 1:
                if not path:
                    return proof
                child, path = node[path[0]], path[1:]
            else:
                prefix, is_leaf = _hex_prefix(node[0])
                if is_leaf or path[: len(prefix)] != prefix:
                    return proof
                child, path = node[1], path[len(prefix) :]
            if isinstance(child, list):
                node = child
            elif child == b"":
                return proof
            else:
                proof.append(self.encoded[child])
                node = self.nodes[child]


def build_ordered_trie(values: Sequence[bytes]) -> OrderedTrie:
    """The trie of ``rlp(i) -> values[i]`` (a receipts or transactions trie)."""
    return build_trie({rlp_of(uint_bytes(i)): value for i, value in enumerate(values)})


def build_trie(items: Mapping[bytes, bytes]) -> OrderedTrie:
    """The trie of ``items`` (keys as given, not hashed); values must not be empty (an
    Ethereum trie never stores an empty value: it means deletion)."""
    if any(not isinstance(v, bytes) or not v for v in items.values()):
        raise InvalidInput("a trie value must be non-empty bytes")
    if not items:
        return OrderedTrie(BLANK_NODE_HASH, {}, {})
    builder = _Builder()
    pairs = sorted((bytes_to_nibbles(k), v) for k, v in items.items())
    root = builder.node(pairs, 0)
    encoded = rlp_of(root)
    root_hash = keccak256(encoded)
    builder.encoded[root_hash] = encoded
    builder.nodes[root_hash] = root
    return OrderedTrie(root_hash, builder.encoded, builder.nodes)


class _Builder:
    def __init__(self) -> None:
        self.encoded: dict[bytes, bytes] = {}
        self.nodes: dict[bytes, Node] = {}

    def node(self, pairs: list[tuple[Nibbles, bytes]], depth: int) -> Node:
        """The node holding ``pairs`` (sorted, distinct paths) below nibble ``depth``."""
        if len(pairs) == 1:
            path, value = pairs[0]
            return [compute_leaf_key(path[depth:]), value]
        first, last = pairs[0][0], pairs[-1][0]
        common = depth
        while common < len(first) and common < len(last) and first[common] == last[common]:
            common += 1
        if common > depth:
            child = self.node(pairs, common)
            return [compute_extension_key(first[depth:common]), self.ref(child)]
        branch: Node = [b""] * (_BRANCH + 1)
        start = 0
        if len(first) == depth:  # a key ending here: the branch's value (sorted first)
            branch[_BRANCH] = pairs[0][1]
            start = 1
        while start < len(pairs):
            nibble = pairs[start][0][depth]
            end = start + 1
            while end < len(pairs) and pairs[end][0][depth] == nibble:
                end += 1
            branch[nibble] = self.ref(self.node(pairs[start:end], depth + 1))
            start = end
        return branch

    def ref(self, node: Node) -> bytes | Node:
        """How a parent points at ``node``: itself when its RLP is under 32 bytes, else
        the hash of its RLP (kept in the database)."""
        encoded = rlp_of(node)
        if len(encoded) < _HASH_SIZE:
            return node
        node_hash = keccak256(encoded)
        self.encoded[node_hash] = encoded
        self.nodes[node_hash] = node
        return node_hash


def _hex_prefix(encoded: bytes | Node) -> tuple[Nibbles, bool]:
    """The path and leaf flag of a hex-prefix key this module built (well-formed)."""
    assert isinstance(encoded, bytes)
    nibbles = bytes_to_nibbles(encoded)
    flag = nibbles[0]
    return nibbles[1 if flag & 1 else 2 :], flag >= 2
