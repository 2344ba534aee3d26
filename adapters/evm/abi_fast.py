"""ABI decoding of the bridge's event arguments, for canonical encodings only.

Why by hand: every bridge log of every listed block is decoded (the relayer's watcher,
each notary), and eth-abi's stream decoders were ~80 % of the listing after issue #15's
first pass: ~45 µs for a ``SendPacket``'s packet tuple, ~15 µs for its two value topics.
This reads the same values at the canonical positions: ``Artifact.decode_log`` of a
``SendPacket`` takes ~12 µs where it took ~68 µs (``bench/evm_events.py``: the listing
106 -> 29 µs an event).

How it stays equal to eth-abi: it accepts only the canonical encoding, the bytes
``eth_abi.encode`` writes for the values it reads (every offset where the encoder puts
it, zero padding, integers within their size, nothing after the end), and eth-abi
decodes those bytes back to the same values. Anything else, and any type not below
(arrays, signed integers, booleans, ...), answers ``None``: the caller then decodes with
eth-abi, which decodes or refuses as before. ``tests/evm/test_abi_fast.py`` holds the
two equal on encoded values and on damaged encodings.

Types: ``uint<N>``, ``address`` (lower-case hex, as eth-abi's ``to_normalized_address``),
``bytes<N>``, ``string`` (strict UTF-8), ``bytes`` and tuples of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_WORD = 32

Decoder = Callable[[bytes], tuple[Any, ...] | None]


class _NotCanonical(Exception):
    """The bytes are not the canonical encoding (or a type is not handled): use eth-abi."""


class _Type:
    dynamic = False

    def read(self, data: bytes, at: int) -> tuple[Any, int]:
        """The value at ``at`` (its head, or for a dynamic type its tail) and where it ends."""
        raise NotImplementedError


class _Uint(_Type):
    def __init__(self, bits: int) -> None:
        self.limit = 1 << bits

    def read(self, data: bytes, at: int) -> tuple[Any, int]:
        value = int.from_bytes(_word(data, at), "big")
        if value >= self.limit:
            raise _NotCanonical
        return value, at + _WORD


class _Address(_Type):
    def read(self, data: bytes, at: int) -> tuple[Any, int]:
        word = _word(data, at)
        if any(word[:12]):
            raise _NotCanonical
        return "0x" + word[12:].hex(), at + _WORD


class _FixedBytes(_Type):
    def __init__(self, size: int) -> None:
        self.size = size

    def read(self, data: bytes, at: int) -> tuple[Any, int]:
        word = _word(data, at)
        if any(word[self.size :]):
            raise _NotCanonical
        return word[: self.size], at + _WORD


class _Bytes(_Type):
    dynamic = True

    def __init__(self, text: bool) -> None:
        self.text = text

    def read(self, data: bytes, at: int) -> tuple[Any, int]:
        length = int.from_bytes(_word(data, at), "big")
        start = at + _WORD
        end = start + length
        padded = start + -(-length // _WORD) * _WORD
        if padded > len(data) or any(data[end:padded]):
            raise _NotCanonical
        value = data[start:end]
        return (value.decode("utf-8") if self.text else value), padded


class _Tuple(_Type):
    def __init__(self, items: list[_Type]) -> None:
        self.items = items
        self.dynamic = any(item.dynamic for item in items)

    def read(self, data: bytes, at: int) -> tuple[Any, int]:
        """Head words in order, each dynamic item's tail exactly where the last one ended."""
        head = at
        tail = at + _WORD * len(self.items)
        values = []
        for item in self.items:
            if item.dynamic:
                if int.from_bytes(_word(data, head), "big") != tail - at:
                    raise _NotCanonical
                value, tail = item.read(data, tail)
            else:
                value, _ = item.read(data, head)
            values.append(value)
            head += _WORD
        return tuple(values), tail


def _word(data: bytes, at: int) -> bytes:
    word = data[at : at + _WORD]
    if len(word) != _WORD:
        raise _NotCanonical
    return word


def _parse(kind: str) -> _Type:
    """One type string as ``eth_utils.abi.collapse_if_tuple`` writes it; ``_NotCanonical``
    for a type this module leaves to eth-abi (static tuples included: their head is inline)."""
    if kind.startswith("(") and kind.endswith(")"):
        parsed = _Tuple([_parse(item) for item in _split(kind[1:-1])])
        if not parsed.dynamic:
            raise _NotCanonical
        return parsed
    if kind == "address":
        return _Address()
    if kind in ("string", "bytes"):
        return _Bytes(text=kind == "string")
    for prefix, make, sizes in (("uint", _Uint, range(8, 257, 8)), ("bytes", _FixedBytes, None)):
        digits = kind[len(prefix) :]
        if kind.startswith(prefix) and digits.isdigit() and not digits.startswith("0"):
            size = int(digits)
            if sizes is not None and size in sizes:
                return make(size)
            if sizes is None and 1 <= size <= _WORD:
                return make(size)
    raise _NotCanonical


def _split(items: str) -> list[str]:
    """Top-level comma-separated items of a tuple type."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(items):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(items[start:i])
            start = i + 1
    parts.append(items[start:])
    return [p for p in parts if p]


def decoder(types: list[str]) -> Decoder | None:
    """A decoder of ``types`` (as ``eth_abi.decode`` takes them) answering the values of a
    canonical encoding or ``None``; ``None`` instead when a type is not handled here."""
    try:
        whole = _Tuple([_parse(kind) for kind in types])
    except _NotCanonical:
        return None

    def decode(data: bytes) -> tuple[Any, ...] | None:
        try:
            values, end = whole.read(data, 0)
        except (_NotCanonical, UnicodeDecodeError):
            return None
        if end != len(data):
            return None
        return values  # type: ignore[no-any-return]

    return decode
