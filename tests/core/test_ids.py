"""core.ids: identifiers reject what the hub must never store."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.ids import MAX_HEIGHT, ChainId, Height, PacketId


@pytest.mark.parametrize("name", ["pujiang-main", "anvil.31337", "a", "x" * 63, "sub_net-2"])
def test_chain_id_accepts_lowercase_names(name: str) -> None:
    assert ChainId(name) == name


@pytest.mark.parametrize("name", ["", "Pujiang", "-lead", "x" * 64, "a/b", "a b", "é"])
def test_chain_id_rejects_bad_names(name: str) -> None:
    with pytest.raises(InvalidInput):
        ChainId(name)


def test_height_bounds() -> None:
    assert Height(0) == 0
    assert Height(MAX_HEIGHT) == MAX_HEIGHT
    assert Height(41).next() == 42
    for bad in (-1, MAX_HEIGHT + 1, True, 1.5, "3"):
        with pytest.raises(InvalidInput):
            Height(bad)  # type: ignore[arg-type]


def test_packet_id_round_trips_through_text() -> None:
    pid = PacketId(ChainId("pujiang-main"), ChainId("anvil"), 7)
    assert str(pid) == "pujiang-main/anvil/7"
    assert PacketId.parse(str(pid)) == pid


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a/b", "too few parts"),
        ("a/b/0", "sequence starts at 1"),
        ("a/a/1", "source equals destination"),
        ("a/b/x", "sequence not a number"),
        (f"a/b/{2**64}", "sequence beyond uint64"),
    ],
)
def test_packet_id_rejects(text: str, why: str) -> None:
    with pytest.raises(InvalidInput):
        PacketId.parse(text)
