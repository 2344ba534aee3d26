"""Identifiers and heights shared by every layer.

They are small value types rather than bare ``str``/``int`` so that a chain id
cannot be passed where a transfer id is expected, and so that every value
entering the hub is checked once, at construction, against the same bounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from core.errors import InvalidInput

_CHAIN_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
MAX_HEIGHT = 2**63 - 1
MAX_SEQUENCE = 2**64 - 1


class ChainId(str):
    """A chain's name inside the hub: 1–63 chars of ``[a-z0-9._-]``.

    Lower-case only, so ids compare equal however a caller spells them and are
    safe in URLs, metric labels and file names.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if cls is ChainId and type(value) is str:
            # A hub knows a handful of chains and rebuilds their ids from every row it
            # reads: a name checked once is not matched against the pattern again.
            known = _KNOWN_CHAIN_IDS.get(value)
            if known is not None:
                return known  # type: ignore[return-value]
        if not isinstance(value, str) or not _CHAIN_ID.fullmatch(value):
            raise InvalidInput(
                f"chain id {value!r} must be 1-63 characters of a-z, 0-9, '.', '_' or '-'",
                field="chain_id",
            )
        made = super().__new__(cls, value)
        if cls is ChainId and len(_KNOWN_CHAIN_IDS) < KNOWN_CHAIN_IDS_KEPT:
            _KNOWN_CHAIN_IDS[str(value)] = made  # type: ignore[assignment]
        return made


KNOWN_CHAIN_IDS_KEPT = 4096
"""Valid chain ids remembered (bounded: ids a client names that no chain has stop adding)."""
_KNOWN_CHAIN_IDS: dict[str, ChainId] = {}


class Height(int):
    """A block height: a non-negative integer below 2**63 (what SQL BIGINT holds)."""

    __slots__ = ()

    def __new__(cls, value: int) -> Self:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"height must be an integer, got {type(value).__name__}")
        if not 0 <= value <= MAX_HEIGHT:
            raise InvalidInput(f"height {value} outside [0, 2**63-1]", field="height")
        return super().__new__(cls, value)

    def next(self) -> Height:
        return Height(self + 1)


def validate_sequence(value: int) -> int:
    """A packet sequence is a uint64 starting at 1 (0 means 'none yet' on-chain)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEQUENCE:
        raise InvalidInput(f"sequence {value!r} outside [1, 2**64-1]", field="sequence")
    return value


@dataclass(frozen=True, slots=True)
class PacketId:
    """The identity of a transfer, unique forever: (source, destination, sequence)."""

    source: ChainId
    destination: ChainId
    sequence: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", ChainId(self.source))
        object.__setattr__(self, "destination", ChainId(self.destination))
        validate_sequence(self.sequence)
        if self.source == self.destination:
            raise InvalidInput("a packet's source and destination must differ")

    def __str__(self) -> str:
        return f"{self.source}/{self.destination}/{self.sequence}"

    @classmethod
    def parse(cls, text: str) -> PacketId:
        parts = text.split("/")
        if len(parts) != 3 or not parts[2].isdigit():
            raise InvalidInput(f"packet id {text!r} is not 'source/destination/sequence'")
        return cls(ChainId(parts[0]), ChainId(parts[1]), int(parts[2]))
