"""The action journal, the scan cursors and the light-client states."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotFound
from core.ids import Height
from core.records import ActionStatus, ClientRecord
from core.types import ChainAction
from gateway.store import SqlStore
from tests.store.helpers import A, B, new_transfer

PAYLOAD: dict[str, object] = {
    "to": "0x" + "ab" * 20,
    "data": b"\x00\xff" * 8,
    "args": [2**256 - 1, (b"\x01", "x", [1, 2]), {"nested": b""}],
    "nonce": None,
    "flag": True,
}


def test_record_action_is_idempotent_on_transfer_and_step(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    action = ChainAction("bridge.recv", PAYLOAD, "bridge.recv:a/b/1")
    first = store.record_action(record.id, "deliver", B, action, 5.0)
    again = store.record_action(record.id, "deliver", B, ChainAction("other", {}, "other-key"), 6.0)
    assert again == first
    assert (first.status, first.tx_hash, first.height, first.recorded_at) == (
        ActionStatus.RECORDED,
        None,
        None,
        5.0,
    )
    assert (first.kind, first.idempotency_key, first.chain_id) == (
        "bridge.recv",
        "bridge.recv:a/b/1",
        B,
    )
    assert first.payload == PAYLOAD  # bytes, tuples, big ints, None survive
    assert store.action(record.id, "deliver") == first
    other = store.record_action(record.id, "submit_source", A, action, 7.0)
    assert other.id != first.id


def test_action_lookup_of_unrecorded_step_is_none(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    assert store.action(record.id, "deliver") is None


def test_record_action_of_unknown_transfer_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.record_action("tr_missing", "deliver", B, ChainAction("k", {}, "i"), 1.0)


def test_record_action_refuses_an_unstorable_payload(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    with pytest.raises(InvalidInput):
        store.record_action(record.id, "deliver", B, ChainAction("k", {"x": object()}, "i"), 1.0)
    assert store.action(record.id, "deliver") is None


def test_mark_action_records_the_outcome(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    act = store.record_action(record.id, "deliver", B, ChainAction("k", {}, "i"), 1.0)
    store.mark_action(act.id, ActionStatus.SENT, tx_hash=b"\x09" * 32)
    sent = store.action(record.id, "deliver")
    assert sent is not None
    assert (sent.status, sent.tx_hash, sent.height) == (ActionStatus.SENT, b"\x09" * 32, None)
    store.mark_action(act.id, ActionStatus.SUCCEEDED, height=Height(77), reason="included")
    done = store.action(record.id, "deliver")
    assert done is not None
    assert (done.status, done.tx_hash, done.height, done.reason) == (
        ActionStatus.SUCCEEDED,
        b"\x09" * 32,  # kept: only given fields change
        77,
        "included",
    )


def test_mark_unknown_action_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.mark_action(999_999, ActionStatus.FAILED)


def test_cursor_starts_unset_and_never_moves_back_except_by_rewind(store: SqlStore) -> None:
    assert store.cursor("route-1") is None
    store.advance_cursor("route-1", Height(100))
    store.advance_cursor("route-1", Height(90))
    assert store.cursor("route-1") == 100
    store.advance_cursor("route-1", Height(2**63 - 1))
    assert store.cursor("route-1") == 2**63 - 1
    store.rewind_cursor("route-1", Height(42))
    assert store.cursor("route-1") == 42
    assert isinstance(store.cursor("route-1"), Height)
    store.rewind_cursor("fresh", Height(7))
    assert store.cursor("fresh") == 7
    assert store.cursor("other") is None


def test_client_round_trips_and_save_replaces_consensus_states(store: SqlStore) -> None:
    assert store.client(A) is None
    first = ClientRecord(
        chain_id=A,
        client_state=b"\x01params",
        consensus_states={10: b"cs10", 20: b"cs20"},
        trusted_height=Height(20),
        updated_at=5.0,
    )
    store.save_client(first)
    assert store.client(A) == first
    pruned = ClientRecord(
        chain_id=A,
        client_state=b"\x01params",
        consensus_states={20: b"cs20", 30: b"cs30"},
        trusted_height=Height(30),
        frozen=True,
        frozen_reason="conflicting headers at 30",
        updated_at=6.0,
    )
    store.save_client(pruned)
    got = store.client(A)
    assert got == pruned
    assert got is not None
    assert got.frozen
    assert store.client(B) is None
    store.save_client(
        ClientRecord(A, b"\x02", {}, Height(31), updated_at=7.0)
    )  # an empty set clears them
    cleared = store.client(A)
    assert cleared is not None
    assert (cleared.consensus_states, cleared.trusted_height) == ({}, 31)


def test_a_hub_signed_source_tx_is_set_once_and_marking_an_action_changes_only_the_action(
    store: SqlStore,
) -> None:
    """A ``from_account`` transfer has no source tx until the hub signs and sends it; the
    relayer then sets it (``set_source_tx``) so the watcher finds the transfer by that hash
    instead of creating a second one. ``mark_action`` has no side effect on the transfer."""
    record, _ = store.create_transfer(new_transfer(), 1.0)
    assert record.source_tx is None
    act = store.record_action(record.id, "source_submit", A, ChainAction("k", {}, "i"), 1.0)
    store.mark_action(act.id, ActionStatus.SENT, tx_hash=b"\x07" * 32)
    assert store.transfer(record.id).source_tx is None  # marking touched only the journal
    store.set_source_tx(record.id, b"\x07" * 32)
    assert store.transfer(record.id).source_tx == b"\x07" * 32
    assert store.transfer_by_source_tx(A, b"\x07" * 32).id == record.id  # type: ignore[union-attr]
    store.set_source_tx(record.id, b"\x08" * 32)
    assert store.transfer(record.id).source_tx == b"\x07" * 32  # set once, never replaced


def test_journaling_a_hub_signed_send_gives_the_transfer_its_hash_in_the_same_commit(
    store: SqlStore,
) -> None:
    """The API journals a ``from_account`` send with its hash (``source_tx``): from that
    commit on the watcher finds the transfer by it, whenever the transaction lands."""
    record, _ = store.create_transfer(new_transfer(), 1.0)
    act = store.record_action(
        record.id, "source_submit", A, ChainAction("k", {}, "i"), 1.0, source_tx=b"\x09" * 32
    )
    assert act.tx_hash is None  # the journal row is not sent yet
    assert store.transfer(record.id).source_tx == b"\x09" * 32
    assert store.transfer_by_source_tx(A, b"\x09" * 32).id == record.id  # type: ignore[union-attr]
    again = store.record_action(
        record.id, "source_submit", A, ChainAction("k", {}, "i"), 2.0, source_tx=b"\x0a" * 32
    )
    assert again.id == act.id
    assert store.transfer(record.id).source_tx == b"\x09" * 32  # set once, never replaced


def test_the_search_floor_is_kept_on_the_journal_row(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(), 1.0)
    deliver = store.record_action(
        record.id, "deliver", B, ChainAction("d", {}, "j"), 2.0, search_floor=Height(41)
    )
    assert deliver.search_floor == 41
    assert store.action(record.id, "deliver").search_floor == 41  # type: ignore[union-attr]
    plain = store.record_action(record.id, "refund", A, ChainAction("r", {}, "k"), 3.0)
    assert plain.search_floor is None
