"""How deep RLP lists nest, found without recursion, before a decoder recurses into them.

The ``rlp`` library decodes nested lists by recursion; a 64 KiB transaction of
nothing but nested list prefixes is 20,000 levels deep. Under the process's
recursion bound (``core.runtime``) that is a ``RecursionError`` deep in the
library, which callers did not expect (the devnet answered 500); above it,
with the limit py_ecc sets, it could overflow the C stack. ``list_depth`` walks
the prefixes iteratively, reading only lengths, so a decoder can refuse such
input as malformed first.
"""

from __future__ import annotations

MAX_WIRE_DEPTH = 32
"""Far above any object of the project's wire formats (a transaction nests 4 deep)."""


def list_depth(data: bytes, limit: int = MAX_WIRE_DEPTH) -> int:
    """The deepest list nesting of ``data`` (0 for a string), counting at most to ``limit + 1``.

    Malformed lengths end the walk early: the decoder reports those itself.
    """
    ends: list[int] = []  # where each open list ends
    deepest = 0
    pos, size = 0, len(data)
    while pos < size:
        while ends and pos >= ends[-1]:
            ends.pop()
        prefix = data[pos]
        if prefix < 0x80:
            pos += 1
        elif prefix <= 0xB7:
            pos += 1 + prefix - 0x80
        elif prefix <= 0xBF:
            width = prefix - 0xB7
            pos += 1 + width + int.from_bytes(data[pos + 1 : pos + 1 + width], "big")
        else:
            if prefix <= 0xF7:
                header, length = 1, prefix - 0xC0
            else:
                width = prefix - 0xF7
                header = 1 + width
                length = int.from_bytes(data[pos + 1 : pos + 1 + width], "big")
            ends.append(pos + header + length)
            deepest = max(deepest, len(ends))
            if deepest > limit:
                return deepest
            pos += header
    return deepest


__all__ = ["MAX_WIRE_DEPTH", "list_depth"]
