"""Payload policies in the store (``gateway/store/policies.py``) on SQLite and PostgreSQL:
written whole at the next version with a ``policy.set`` entry, read back rule for rule,
refused for an unknown route or a stale version, and never touching a transfer."""

from __future__ import annotations

import pytest

from core.errors import Conflict, InvalidInput, NotFound
from core.policies import PayloadPolicy, PolicyDecisionRecord, PolicyRule
from core.states import TransferState
from gateway.store import SqlStore
from gateway.store.policies import rules_digest
from proofs.audit import validate_chain
from tests.store.helpers import ROUTE_AB, ROUTE_BC, new_transfer

DENY_EVE = PolicyRule("no-eve", "sender", "reject", mode="deny", values=("0xeve",))
SIZE = PolicyRule("small", "size", "hold", max_bytes=64)
SCAN = PolicyRule(
    "scan", "scanner", "hold", argv=("/bin/true", "-x"), timeout_ms=250, max_output=10
)
RULES = (DENY_EVE, SIZE, SCAN)


def test_a_route_without_a_policy_reads_as_version_0_with_no_rules(store: SqlStore) -> None:
    assert store.payload_policy(ROUTE_AB) == PayloadPolicy(ROUTE_AB)
    with pytest.raises(NotFound):
        store.payload_policy("no-such-route")


def test_a_policy_is_written_whole_in_order_and_each_write_moves_the_version(
    store: SqlStore,
) -> None:
    first = store.set_payload_policy(ROUTE_AB, RULES, 10.0)
    assert (first.version, first.rules, first.updated_at) == (1, RULES, 10.0)
    assert store.payload_policy(ROUTE_AB) == first
    second = store.set_payload_policy(ROUTE_AB, (SIZE,), 11.0, expected_version=1)
    assert (second.version, second.rules) == (2, (SIZE,))
    assert store.payload_policy(ROUTE_BC).version == 0  # per route
    emptied = store.set_payload_policy(ROUTE_AB, (), 12.0)
    assert (emptied.version, emptied.rules) == (3, ())


def test_a_write_on_a_stale_version_or_an_unknown_route_is_refused_and_leaves_no_entry(
    store: SqlStore,
) -> None:
    store.set_payload_policy(ROUTE_AB, RULES, 10.0)
    head = store.audit_head()
    with pytest.raises(Conflict, match="version 1, not 0"):
        store.set_payload_policy(ROUTE_AB, (), 11.0, expected_version=0)
    with pytest.raises(InvalidInput) as err:
        store.set_payload_policy("no-such-route", RULES, 11.0)
    assert err.value.details["field"] == "route_id"
    assert store.audit_head() == head
    assert store.payload_policy(ROUTE_AB).rules == RULES


def test_each_write_is_a_policy_set_entry_with_the_rules_and_the_digest_it_replaced(
    store: SqlStore,
) -> None:
    store.set_payload_policy(ROUTE_AB, RULES, 10.0)
    store.set_payload_policy(ROUTE_AB, (SIZE,), 11.0, forced=True)
    entries, _ = store.audit_entries(action="policy.set")
    assert [(e["subject"], e["subject_id"]) for e in entries] == [("route", ROUTE_AB)] * 2
    first, second = entries
    assert first["before"] == {"version": 0, "rules_sha256": rules_digest([])}
    assert first["after"]["rules"] == [r.to_json() for r in RULES]
    assert first["after"]["forced"] is False
    assert second["before"] == {"version": 1, "rules_sha256": first["after"]["rules_sha256"]}
    assert second["after"] == {
        "version": 2,
        "rules_sha256": rules_digest([SIZE.to_json()]),
        "rules": [SIZE.to_json()],
        "forced": True,
    }
    everything, _ = store.audit_entries(limit=1000)
    validate_chain(everything)


def test_a_decision_is_recorded_on_the_transfer_with_the_rule_that_fired(
    store: SqlStore,
) -> None:
    decision = PolicyDecisionRecord(
        transfer_id="tr_1",
        route_id=ROUTE_AB,
        origin="source",
        version=4,
        action="reject",
        rule=f"policy:{ROUTE_AB}/no-eve",
        reason="payload policy rule 'no-eve' (sender): the sender is on the deny list",
        fired=("small", "no-eve"),
    )
    store.record_policy_decision(decision, 20.0)
    (entry,), _ = store.audit_entries(action="policy.decision")
    assert (entry["subject"], entry["subject_id"]) == ("transfer", "tr_1")
    assert entry["after"] == {
        "route_id": ROUTE_AB,
        "origin": "source",
        "policy_version": 4,
        "verdict": "reject",
        "rule": f"policy:{ROUTE_AB}/no-eve",
        "fired": ["small", "no-eve"],
    }
    assert entry["reason"] == decision.reason


def test_changing_a_policy_leaves_every_transfer_of_the_route_as_it_was(
    store: SqlStore,
) -> None:
    made = [store.create_transfer(new_transfer(sequence=i), 1.0)[0] for i in (1, 2)]
    moved = store.transition(
        made[1].id, TransferState.REQUESTED, TransferState.SOURCE_COMMITTED, "seen", 2.0
    )
    before = [store.transfer(t.id) for t in made]
    assert before[1] == moved
    store.set_payload_policy(ROUTE_AB, RULES, 3.0)
    store.set_payload_policy(ROUTE_AB, (DENY_EVE,), 4.0)
    assert [store.transfer(t.id) for t in made] == before
