"""core.ids: identifiers reject what the hub must never store."""

from __future__ import annotations

import pytest

import core.ids as ids
from core.errors import InvalidInput
from core.ids import MAX_HEIGHT, ChainId, Height, PacketId


@pytest.mark.parametrize("name", ["pujiang-main", "anvil.31337", "a", "x" * 63, "sub_net-2"])
def test_chain_id_accepts_lowercase_names(name: str) -> None:
    assert ChainId(name) == name


@pytest.mark.parametrize("name", ["", "Pujiang", "-lead", "x" * 64, "a/b", "a b", "é"])
def test_chain_id_rejects_bad_names(name: str) -> None:
    with pytest.raises(InvalidInput):
        ChainId(name)


@pytest.mark.parametrize("name", ["", "Pujiang", "-lead", "x" * 64, "a/b", "a b", "é"])
def test_a_bad_name_is_refused_every_time_never_remembered(name: str) -> None:
    for _ in range(2):
        with pytest.raises(InvalidInput):
            ChainId(name)


def test_a_valid_name_is_remembered_and_the_memory_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ids, "_KNOWN_CHAIN_IDS", {})
    monkeypatch.setattr(ids, "KNOWN_CHAIN_IDS_KEPT", 2)
    first = ChainId("chain-a")
    assert ChainId("chain-a") is first  # checked once
    assert type(first) is ChainId
    assert isinstance(ChainId("chain-b"), ChainId)
    ChainId("chain-c")  # past the bound: valid, made, not remembered
    assert set(ids._KNOWN_CHAIN_IDS) == {"chain-a", "chain-b"}


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
