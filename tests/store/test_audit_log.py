"""The audit log in the store (SQLite and PostgreSQL): what is recorded, in which transaction,
by whom, and that two writers never fork the chain."""

from __future__ import annotations

import itertools
import threading

import pytest

from core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from core.ids import Height
from core.records import ChainRecord, RouteProtocol, RouteRecord
from core.states import TransferState
from gateway.audit.context import acting_as
from gateway.store import SqlStore
from proofs.audit import ChainHead, validate_chain
from tests.store.helpers import HAPPY_PATH, ROUTE_AB, A, B, new_transfer


def _all(store: SqlStore, **filters: object) -> list[dict]:
    out, after = [], 0
    while True:
        page, cursor = store.audit_entries(after_seq=after, limit=50, **filters)  # type: ignore[arg-type]
        out.extend(page)
        if cursor is None:
            return out
        after = cursor


def _verified(store: SqlStore) -> list[dict]:
    entries = _all(store)
    head = validate_chain(entries)
    assert head == ChainHead(*store.audit_head())
    return entries


def test_chain_and_route_registration_is_recorded_with_a_settings_digest_never_the_settings(
    store: SqlStore,
) -> None:
    entries = _verified(store)
    assert [e["action"] for e in entries] == ["chain.register"] * 3 + ["route.register"] * 2
    with acting_as("ops", "admin", "req-1"):
        store.upsert_chain(ChainRecord(A, "evm", {"signer_key": "0xsecret"}, enabled=False))
    last = _verified(store)[-1]
    assert (last["action"], last["actor"], last["role"], last["request_id"]) == (
        "chain.update", "ops", "admin", "req-1",
    )  # fmt: skip
    assert last["before"]["enabled"] is True
    assert last["after"]["enabled"] is False
    assert "0xsecret" not in str(last)
    assert len(last["after"]["settings_sha256"]) == 64


def test_every_state_change_of_a_transfer_is_one_entry_with_before_and_after(
    store: SqlStore,
) -> None:
    t, _ = store.create_transfer(new_transfer(), 10.0)
    for old, new in itertools.pairwise(HAPPY_PATH):
        store.transition(t.id, old, new, f"to {new}", 11.0)
    mine = _all(store, subject="transfer", subject_id=t.id)
    assert [e["action"] for e in mine] == ["transfer.create"] + ["transfer.transition"] * 6
    assert [e["after"]["state"] for e in mine] == [s.value for s in HAPPY_PATH]
    assert [e["before"]["state"] for e in mine[1:]] == [s.value for s in HAPPY_PATH[:-1]]
    assert mine[1]["at_ms"] == 11_000
    assert mine[1]["actor"] == "hub"
    _verified(store)


def test_a_change_that_fails_leaves_no_entry(store: SqlStore) -> None:
    head = store.audit_head()
    with pytest.raises(NotFound):
        store.create_transfer(new_transfer(route_id="no-such-route"), 1.0)
    t, _ = store.create_transfer(new_transfer(), 1.0)
    head = store.audit_head()
    with pytest.raises(InvalidTransition):
        store.transition(t.id, TransferState.PROVEN, TransferState.ATTESTED, "wrong state", 2.0)
    assert store.audit_head() == head


def test_two_writers_on_two_stores_never_fork_the_chain(store: SqlStore, store_url: str) -> None:
    """Two store objects (two engines, as two processes would have) append at once."""
    other = SqlStore(store_url)
    start = store.audit_head()[0]
    errors: list[BaseException] = []

    def writer(s: SqlStore, who: str) -> None:
        try:
            with acting_as(who, "admin"):
                for i in range(25):
                    t, _ = s.create_transfer(new_transfer(), float(i))
                    s.transition(t.id, TransferState.REQUESTED, TransferState.REJECTED, who, 1.0)
        except BaseException as err:
            errors.append(err)

    threads = [
        threading.Thread(target=writer, args=(store, "one")),
        threading.Thread(target=writer, args=(other, "two")),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    other.close()
    assert errors == []
    entries = _verified(store)
    assert [e["seq"] for e in entries] == list(range(1, start + 101))
    assert {e["actor"] for e in entries[start:]} == {"one", "two"}


def test_api_keys_are_recorded_by_name_and_role_never_the_token(store: SqlStore) -> None:
    token = store.create_api_key("auditor", "client", 5.0)
    store.revoke_api_key("auditor", now=6.0)
    created, revoked = _all(store, subject="key")
    assert (created["action"], created["after"]) == ("key.create", {"role": "client"})
    assert (revoked["action"], revoked["after"]) == ("key.revoke", {"revoked": True})
    assert token not in str(created)


def test_filters_by_actor_and_time_and_paging_by_cursor(store: SqlStore) -> None:
    with acting_as("alice", "admin"):
        for i in range(5):
            store.create_transfer(new_transfer(), 100.0 + i)
    assert len(_all(store, actor="alice")) == 5
    window = _all(store, actor="alice", since_ms=101_000, until_ms=103_000)
    assert [e["at_ms"] for e in window] == [101_000, 102_000]
    page, cursor = store.audit_entries(actor="alice", limit=2)
    assert len(page) == 2
    assert cursor == page[-1]["seq"]
    with pytest.raises(InvalidInput):
        store.audit_entries(limit=0)


# -- operator tools ---------------------------------------------------------------------


def test_pause_and_resume_a_route_keep_the_reason_and_are_recorded(store: SqlStore) -> None:
    with acting_as("sup", "supervisor"):
        paused = store.pause_route(ROUTE_AB, "conservation check", 7.0)
    assert paused.paused_reason == "conservation check"
    store.upsert_route(RouteRecord(ROUTE_AB, A, B, RouteProtocol.NOTARY))  # re-registered
    assert store.route(ROUTE_AB).paused_reason == "conservation check"
    with acting_as("sup", "supervisor"):
        assert store.resume_route(ROUTE_AB, "checked", 8.0).paused_reason is None
    with pytest.raises(Conflict):
        store.resume_route(ROUTE_AB, "again", 9.0)
    with pytest.raises(InvalidInput):
        store.pause_route(ROUTE_AB, "  ", 9.0)
    pause, resume = _all(store, subject="route", actor="sup")
    assert (pause["action"], pause["after"], pause["reason"]) == (
        "route.pause", {"paused_reason": "conservation check"}, "conservation check",
    )  # fmt: skip
    assert (resume["action"], resume["before"]) == (
        "route.resume", {"paused_reason": "conservation check"},
    )  # fmt: skip


def test_retry_now_clears_the_backoff_of_a_live_transfer(store: SqlStore) -> None:
    t, _ = store.create_transfer(new_transfer(), 1.0)
    store.note(t.id, "node down", 2.0, retry_at=500.0)
    assert store.claim_due("w", 3.0, 30.0, 10, route_id=ROUTE_AB) == []
    again = store.retry_transfer_now(t.id, "node is back", 3.0)
    assert (again.attempts, again.next_attempt_at) == (0, 3.0)
    assert [c.id for c in store.claim_due("w", 3.0, 30.0, 10, route_id=ROUTE_AB)] == [t.id]
    last = _all(store, subject_id=t.id)[-1]
    assert last["action"] == "transfer.retry_now"
    assert last["before"] == {"state": "requested", "attempts": 1, "next_attempt_at_ms": 500_000}


def test_reject_moves_a_stuck_transfer_only_where_the_table_allows(store: SqlStore) -> None:
    stuck, _ = store.create_transfer(new_transfer(), 1.0)
    store.claim_due("w", 1.0, 30.0, 10, route_id=ROUTE_AB)
    done = store.reject_transfer(stuck.id, "sender is sanctioned", 2.0)
    assert done.state is TransferState.REJECTED
    assert "sender is sanctioned" in done.reason
    with pytest.raises(Conflict):  # final now
        store.reject_transfer(stuck.id, "again", 3.0)
    submitted, _ = store.create_transfer(new_transfer(), 1.0)
    for old, new in itertools.pairwise(HAPPY_PATH[:6]):  # up to dest_submitted
        store.transition(submitted.id, old, new, "", 1.0)
    with pytest.raises(InvalidTransition):  # dest_submitted -> rejected is not in the table
        store.reject_transfer(submitted.id, "too late", 3.0)
    assert store.transfer(submitted.id).state is TransferState.DEST_SUBMITTED


def test_a_cursor_rewinds_only_backwards_and_not_below_its_floor(store: SqlStore) -> None:
    store.advance_cursor("chain:chain-a", Height(100))
    assert store.rewind_cursor_to(
        "chain:chain-a", Height(40), Height(10), "missed a block", 5.0, chain_id="chain-a"
    ) == (100, 40)
    assert store.cursor("chain:chain-a") == 40
    for height, floor in ((9, 10), (40, 0), (50, 0)):
        with pytest.raises(InvalidInput):
            store.rewind_cursor_to(
                "chain:chain-a", Height(height), Height(floor), "x", 6.0, chain_id="chain-a"
            )
    with pytest.raises(NotFound):
        store.rewind_cursor_to("chain:nope", Height(1), Height(0), "x", 6.0, chain_id="nope")
    last = _all(store, subject="chain")[-1]
    assert (last["action"], last["before"]["height"], last["after"]["height"]) == (
        "cursor.rewind", 100, 40,
    )  # fmt: skip


def test_a_client_freeze_is_recorded_and_only_a_frozen_client_unfreezes(store: SqlStore) -> None:
    from core.records import ClientRecord

    record = ClientRecord(A, b"client", {5: b"state"}, Height(5), updated_at=9.0)
    store.save_client(record)
    with pytest.raises(Conflict):
        store.unfreeze_client(record, "not frozen", 10.0)
    frozen = ClientRecord(A, b"client", {5: b"state"}, Height(5), True, "fork", 11.0, b"ev")
    store.save_client(frozen)
    store.save_client(frozen)  # saved again frozen: one freeze
    fresh = ClientRecord(A, b"client2", {9: b"state9"}, Height(9), updated_at=12.0)
    with acting_as("ops", "admin"):
        store.unfreeze_client(fresh, "new anchor", 12.0)
    after = store.client(A)
    assert after is not None
    assert (after.frozen, after.trusted_height, after.consensus_states) == (
        False,
        9,
        {9: b"state9"},
    )
    freeze, unfreeze = _all(store, subject="chain", subject_id=str(A))[-2:]
    assert (freeze["action"], freeze["reason"]) == ("client.freeze", "fork")
    assert (unfreeze["action"], unfreeze["actor"]) == ("client.unfreeze", "ops")
    assert unfreeze["before"]["trusted_height"] == 5
    assert unfreeze["after"] == {"trusted_height": 9, "frozen": False}
