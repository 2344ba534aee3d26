"""The dashboard's reads (``gateway.store.operator``): search, notaries, leases, backoff."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import InvalidInput
from core.ids import ChainId, Height
from core.records import ActionStatus, SignatureRecord
from core.states import TransferState
from core.types import ChainAction
from gateway.store import SqlStore
from tests.store.helpers import ROUTE_AB, B, new_transfer
from tests.store.test_swaps import new_swap

SOURCE_TX = b"\x0a" * 32
JOURNALED_TX = b"\x0b" * 32


def _two(store: SqlStore) -> tuple[str, str]:
    first, _ = store.create_transfer(
        dataclasses.replace(new_transfer(sequence=1, source_tx=SOURCE_TX), receiver="0xAbC"), 10.0
    )
    second, _ = store.create_transfer(new_transfer(sequence=2), 20.0)
    action = store.record_action(
        second.id, "deliver", ChainId(B), ChainAction("d", {}, "k-2"), 21.0
    )
    store.mark_action(action.id, ActionStatus.SENT, tx_hash=JOURNALED_TX, height=Height(3))
    return first.id, second.id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("0x" + SOURCE_TX.hex(), ["first"]),  # a source transaction
        (JOURNALED_TX.hex().upper(), ["second"]),  # a journaled one, no 0x, upper case
        ("0xabc", ["first"]),  # a receiver, another case
        ("0xsender", ["second", "first"]),  # newest first
        ("0x" + "ee" * 32, []),
    ],
)
def test_find_transfers_by_hash_or_address(
    store: SqlStore, query: str, expected: list[str]
) -> None:
    first, second = _two(store)
    names = {first: "first", second: "second"}
    assert [names[t.id] for t in store.find_transfers(query)] == expected


def test_find_transfers_by_id_and_its_bounds(store: SqlStore) -> None:
    first, _ = _two(store)
    assert [t.id for t in store.find_transfers(f"  {first} ")] == [first]
    assert len(store.find_transfers("0xsender", limit=1)) == 1
    for bad in ("", "   ", "x" * 257):
        with pytest.raises(InvalidInput, match="a search is 1-256 characters"):
            store.find_transfers(bad)
    with pytest.raises(InvalidInput, match="limit must be in"):
        store.find_transfers("0xsender", limit=0)


def test_notary_activity_counts_statements_and_last_seen(store: SqlStore) -> None:
    first, second = _two(store)
    for tid, seq, notary, kind, at in (
        (first, 1, "n1", "delivery", 5.0),
        (second, 2, "n1", "nondelivery", 9.0),
        (first, 1, "n2", "delivery", 7.0),
    ):
        store.add_signature(
            SignatureRecord(tid, notary, b"\x01" * 32, b"s", at, kind), ROUTE_AB, seq
        )
    activity = [
        (a.notary, a.deliveries, a.nondeliveries, a.last_seen) for a in store.notary_activity()
    ]
    assert activity == [("n1", 1, 1, 9.0), ("n2", 1, 0, 7.0)]
    recent = [(s.notary, s.transfer_id, s.kind) for s in store.recent_statements(2)]
    assert recent == [("n2", first, "delivery"), ("n1", second, "nondelivery")]


def test_recent_equivocations_newest_first_with_the_total(store: SqlStore) -> None:
    first, _ = _two(store)
    assert store.recent_equivocations() == ([], 0)
    for n, digest in enumerate((b"\x01", b"\x02", b"\x03")):
        made = store.add_signature(
            SignatureRecord(first, "n1", digest * 32, b"s", float(n)), ROUTE_AB, 1
        )
        assert (made is None) == (n == 0)  # the first is the statement, the others conflict
    found, total = store.recent_equivocations(1)
    assert total == 2
    assert [e.digest_b for e in found] == [b"\x03" * 32]


def test_leases_lists_held_transfer_and_swap_leases_soonest_first(store: SqlStore) -> None:
    first, second = _two(store)
    store.claim_due("relayer-1", 30.0, 60.0, 1)  # first (longest waiting): until 90
    swap, _ = store.create_swap(new_swap(), 31.0)
    store.claim_due_swaps("relayer-2", 32.0, 10.0, 1)  # until 42
    held = [(lease.subject, lease.id, lease.owner, lease.until) for lease in store.leases(35.0)]
    assert held == [("swap", swap.id, "relayer-2", 42.0), ("transfer", first, "relayer-1", 90.0)]
    assert [lease.id for lease in store.leases(50.0)] == [first]  # the swap's lapsed
    assert store.leases(100.0) == []
    assert second not in {lease.id for lease in store.leases(35.0)}


def test_backing_off_lists_waiting_transfers_soonest_due_first_with_the_total(
    store: SqlStore,
) -> None:
    first, second = _two(store)
    store.note(first, "rpc down", 30.0, retry_at=100.0)
    store.note(second, "quorum 1 of 2", 30.0, retry_at=60.0)
    waiting, total = store.backing_off(40.0, limit=1)
    assert ([t.id for t in waiting], total) == ([second], 2)
    assert waiting[0].reason == "quorum 1 of 2"
    store.transition(second, TransferState.REQUESTED, TransferState.REJECTED, "bad", 41.0)
    assert store.backing_off(40.0) == ([store.transfer(first)], 1)  # terminal ones never wait
