"""The devnet's state: its keys and values, a write journal, and the state tree.

State is a sorted key-value map committed to as ``state_root =
RFC6962_root_H([rlp([key, value]) for keys in ascending byte order])``
(``docs/pujiang-chain.md``). Values are plain bytes; the layout of each key
family and its value is listed in the "Devnet node" section of that page and
built only by the functions here, so no module spells a key by hand.

Execution writes into an ``Overlay`` (one per block, one per transaction on
top of it) so a failed transaction is dropped without undoing anything, and
the committed map changes only when a whole block is stored.

``StateTree`` keeps the leaf hashes and every level of the tree between
blocks: a block that only updates existing keys re-hashes the paths above the
changed leaves (O(changes · log n)); an insertion or deletion shifts leaf
indices and rebuilds the levels from the cached leaf hashes (O(n) node hashes).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping

import rlp

from proofs.hashing import HashFunction
from proofs.merkle import empty_root, leaf_hash, node_hash

BALANCE_PREFIX = b"bal/"
NONCE_PREFIX = b"nonce/"
HTLC_PREFIX = b"htlc/"
RECV_PREFIX = b"recv/"
SEQ_PREFIX = b"seq/"
PACKET_PREFIX = b"packet/"
INBOX_PREFIX = b"inbox/"
BATCH_ROOT_PREFIX = b"batchroot/"
FAILED_PREFIX = b"failed/"
VALSET_KEY = b"valset"
NOTARIES_KEY = b"notaries"

HTLC_LOCKED, HTLC_CLAIMED, HTLC_REFUNDED = 0, 1, 2


def balance_key(address: bytes, denom: bytes) -> bytes:
    return BALANCE_PREFIX + address + b"/" + denom


def nonce_key(address: bytes) -> bytes:
    return NONCE_PREFIX + address


def htlc_key(htlc_id: bytes) -> bytes:
    return HTLC_PREFIX + htlc_id


def recv_key(source_chain: bytes, sequence: int) -> bytes:
    return RECV_PREFIX + source_chain + b"/" + sequence.to_bytes(8, "big")


def seq_key(dest_chain: bytes) -> bytes:
    return SEQ_PREFIX + dest_chain


def packet_key(dest_chain: bytes, sequence: int) -> bytes:
    """The commitment of a packet sent and not yet timed out: ``H(rlp(packet))``."""
    return PACKET_PREFIX + dest_chain + b"/" + sequence.to_bytes(8, "big")


def batch_root_key(digest: bytes) -> bytes:
    """A stored batch root: ``batchroot/ digest`` -> ``rlp(statement)`` (``docs/notary.md``)."""
    return BATCH_ROOT_PREFIX + digest


def failed_key(source_chain: bytes, sequence: int) -> bytes:
    """A batch member received but refused (``packet_failed``): ``failed/ source / seq(8)``."""
    return FAILED_PREFIX + source_chain + b"/" + sequence.to_bytes(8, "big")


def inbox_key(receiver: bytes, source_chain: bytes, sequence: int) -> bytes:
    """A delivered message: ``inbox/ receiver(20) / source / sequence(8)`` -> payload."""
    return INBOX_PREFIX + receiver + b"/" + source_chain + b"/" + sequence.to_bytes(8, "big")


def encode_uint(value: int) -> bytes:
    """Minimal big-endian bytes (0 is the empty string), as RLP integers."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def decode_uint(value: bytes | None) -> int:
    return int.from_bytes(value, "big") if value else 0


def state_leaf(key: bytes, value: bytes) -> bytes:
    """The leaf data of one entry: ``rlp([key, value])``."""
    return rlp.encode([key, value])


class Reader:
    """Read access shared by the committed map and the overlays."""

    def get(self, key: bytes) -> bytes | None:
        raise NotImplementedError


class Committed(Reader):
    """The state after the last stored block (replaced only when a block is stored)."""

    def __init__(self, items: Mapping[bytes, bytes]) -> None:
        self.items: dict[bytes, bytes] = dict(items)

    def get(self, key: bytes) -> bytes | None:
        return self.items.get(key)


class Overlay(Reader):
    """Writes on top of a parent; ``None`` records a deletion."""

    def __init__(self, parent: Reader) -> None:
        self.parent = parent
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.parent.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = None

    def get_uint(self, key: bytes) -> int:
        return decode_uint(self.get(key))

    def set_uint(self, key: bytes, value: int) -> None:
        """Zero deletes the key: an empty balance is not an entry of the state."""
        if value:
            self.set(key, encode_uint(value))
        else:
            self.delete(key)

    def child(self) -> Overlay:
        return Overlay(self)

    def merge_into_parent(self) -> None:
        if not isinstance(self.parent, Overlay):
            raise TypeError("only an overlay on an overlay merges; blocks are stored instead")
        self.parent.writes.update(self.writes)

    def changes(self) -> dict[bytes, bytes | None]:
        """Net changes against the committed map (writes of an unchanged value dropped)."""
        return {k: v for k, v in self.writes.items() if self.parent.get(k) != v}


class StateTree:
    """The RFC 6962 tree over the sorted entries, kept between blocks."""

    def __init__(self, hash_fn: HashFunction, items: Mapping[bytes, bytes] | None = None) -> None:
        self.hash_fn = hash_fn
        self.values: dict[bytes, bytes] = dict(items or {})
        self.keys: list[bytes] = sorted(self.values)
        self._leaf: dict[bytes, bytes] = {
            k: leaf_hash(state_leaf(k, v), hash_fn=hash_fn) for k, v in self.values.items()
        }
        self._levels: list[list[bytes]] = []
        self._rebuild()

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def root(self) -> bytes:
        if not self.keys:
            return empty_root(hash_fn=self.hash_fn)
        return self._levels[-1][0]

    def copy(self) -> StateTree:
        clone = StateTree.__new__(StateTree)
        clone.hash_fn = self.hash_fn
        clone.values = dict(self.values)
        clone.keys = list(self.keys)
        clone._leaf = dict(self._leaf)
        clone._levels = [list(level) for level in self._levels]
        return clone

    def apply(self, changes: Mapping[bytes, bytes | None]) -> None:
        """Apply net changes (``None`` deletes) and bring every level up to date."""
        reshaped = False
        dirty: list[int] = []
        for key, value in changes.items():
            present = key in self.values
            if value is None:
                if present:
                    del self.values[key]
                    del self._leaf[key]
                    del self.keys[bisect.bisect_left(self.keys, key)]
                    reshaped = True
                continue
            self.values[key] = value
            self._leaf[key] = leaf_hash(state_leaf(key, value), hash_fn=self.hash_fn)
            if present:
                dirty.append(key)
            else:
                bisect.insort(self.keys, key)
                reshaped = True
        if reshaped:
            self._rebuild()
        elif dirty:
            self._update([bisect.bisect_left(self.keys, k) for k in dirty])

    def _rebuild(self) -> None:
        level = [self._leaf[k] for k in self.keys]
        self._levels = [level]
        while len(level) > 1:
            level = _pair_up(level, self.hash_fn)
            self._levels.append(level)

    def _update(self, indices: Iterable[int]) -> None:
        changed = set(indices)
        for i in changed:
            self._levels[0][i] = self._leaf[self.keys[i]]
        for depth in range(len(self._levels) - 1):
            below, above = self._levels[depth], self._levels[depth + 1]
            parents = {i // 2 for i in changed}
            for j in parents:
                left = 2 * j
                above[j] = (
                    node_hash(below[left], below[left + 1], hash_fn=self.hash_fn)
                    if left + 1 < len(below)
                    else below[left]
                )
            changed = parents

    def index(self, key: bytes) -> int | None:
        i = bisect.bisect_left(self.keys, key)
        return i if i < len(self.keys) and self.keys[i] == key else None

    def neighbours(self, key: bytes) -> tuple[int | None, int | None]:
        """Indices of the entries bracketing an absent key (``None`` at an edge)."""
        i = bisect.bisect_left(self.keys, key)
        return (i - 1 if i > 0 else None, i if i < len(self.keys) else None)

    def audit_path(self, index: int) -> list[bytes]:
        """RFC 6962 ``PATH`` of leaf ``index``, leaf side first (as ``proofs.merkle`` wants).

        A node carried up unpaired (the last of an odd level) has no sibling at
        that level, so it adds nothing, exactly as the RFC's split does.
        """
        path: list[bytes] = []
        i = index
        for level in self._levels[:-1]:
            sibling = i ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            i //= 2
        return path

    def prefixed(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Entries whose key starts with ``prefix``, in key order."""
        i = bisect.bisect_left(self.keys, prefix)
        while i < len(self.keys) and self.keys[i].startswith(prefix):
            yield self.keys[i], self.values[self.keys[i]]
            i += 1


def _pair_up(level: list[bytes], hash_fn: HashFunction) -> list[bytes]:
    paired = [
        node_hash(level[i], level[i + 1], hash_fn=hash_fn) for i in range(0, len(level) - 1, 2)
    ]
    if len(level) % 2:
        paired.append(level[-1])
    return paired
