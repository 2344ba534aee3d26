"""RLP of nested lists of byte strings, assembled with pyrlp's ``length_prefix``.

Why by hand: the EVM path encodes every receipt of a block (its trie), every log it
lists, proves or verifies, and every receipt-proof node; ``rlp.encode`` infers a sedes
for each item and builds a ``List`` sedes per list first, which was about a third of a
notary's CPU on the anvil -> devnet path (issue #15). This is the same encoding without
the inference: a byte string is itself when it is one byte below 0x80, else its length
prefix and itself; a list is the prefix of its items' joined encodings. The prefixes are
pyrlp's own ``length_prefix``. A ``SendPacket`` receipt (1.1 kB) encodes in ~5 µs here
against ~29 µs with ``rlp.encode``; ``tests/proofs/test_rlp_lists.py`` holds the
two byte-equal on nested lists, empty strings, single bytes on both sides of 0x80, long
strings and long lists.

Only ``bytes`` and lists (or tuples) of them: integers are turned into minimal
big-endian bytes by the caller (:func:`uint_bytes`), anything else is a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from rlp.codec import length_prefix

RlpTree: TypeAlias = bytes | Sequence["RlpTree"]

EMPTY_LIST = b"\xc0"


def rlp_of(item: RlpTree) -> bytes:
    """``rlp.encode(item)`` for ``item`` a byte string or a nested list of them."""
    if isinstance(item, bytes):
        if len(item) == 1 and item[0] < 0x80:
            return item
        return length_prefix(len(item), 0x80) + item
    if isinstance(item, list | tuple):
        body = b"".join([rlp_of(i) for i in item])
        return length_prefix(len(body), 0xC0) + body
    raise TypeError(f"rlp_of encodes bytes and lists of them, not {type(item).__name__}")


def rlp_of_strings(items: Sequence[bytes]) -> bytes:
    """``rlp.encode(items)`` for a flat list of byte strings (no recursion)."""
    body = b"".join(
        [i if len(i) == 1 and i[0] < 0x80 else length_prefix(len(i), 0x80) + i for i in items]
    )
    return length_prefix(len(body), 0xC0) + body


def rlp_list_of_encoded(items: Sequence[bytes]) -> bytes:
    """The RLP list whose items' encodings are ``items`` (each already RLP), joined under
    one prefix: splicing encoded parts (a transaction's body, a batch's members) without
    decoding them."""
    body = b"".join(items)
    return length_prefix(len(body), 0xC0) + body


def uint_bytes(value: int) -> bytes:
    """A non-negative integer as RLP's scalar: minimal big-endian bytes, ``b""`` for 0."""
    if value < 0:
        raise ValueError("RLP encodes non-negative integers only")
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
