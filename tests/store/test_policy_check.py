"""``PolicyCheck`` over the real store (SQLite and PostgreSQL): the check the hub's check
points run, reading each route's policy at each check and auditing what it holds or rejects.

A policy change never loses an in-flight transfer: it changes no transfer record, and a
transfer already checked keeps its state; the new rules apply to the next check only.
"""

from __future__ import annotations

import dataclasses

from core.holds import Candidate, Hold, Reject
from core.policies import PolicyRule
from core.seams import PolicyStore
from core.states import TransferState
from gateway.store import SqlStore
from proofs.audit import validate_chain
from relayer.risk.policies import PolicyCheck
from tests.store.helpers import ROUTE_AB, ROUTE_BC, new_transfer

EVE = "0x" + "ee" * 20


def _candidate(transfer_id: str, **over: object) -> Candidate:
    base = Candidate(
        transfer_id=transfer_id,
        route_id=ROUTE_AB,
        origin="source",
        sender="0xsender",
        receiver="0xreceiver",
        denom="upjt",
        amount=1000,
    )
    return dataclasses.replace(base, **over)  # type: ignore[arg-type]


def test_the_sql_store_is_a_policy_store(store: SqlStore) -> None:
    assert isinstance(store, PolicyStore)


def test_a_changed_policy_applies_to_the_next_check_and_loses_no_transfer(
    store: SqlStore,
) -> None:
    check = PolicyCheck(store)
    first, _ = store.create_transfer(new_transfer(sequence=1), 1.0)
    assert check.check(_candidate(first.id), 2.0) is None  # no policy yet
    first = store.transition(
        first.id, TransferState.REQUESTED, TransferState.SOURCE_COMMITTED, "seen", 3.0
    )
    store.set_payload_policy(
        ROUTE_AB, (PolicyRule("only-eve", "sender", "hold", mode="allow", values=(EVE,)),), 4.0
    )
    assert store.transfer(first.id) == first  # the decided transfer goes on as it was
    second, _ = store.create_transfer(new_transfer(sequence=2), 5.0)
    verdict = check.check(_candidate(second.id), 6.0)
    assert verdict == Hold(
        f"policy:{ROUTE_AB}/only-eve",
        "payload policy rule 'only-eve' (sender): the sender is not on the allow list; "
        "held for a supervisor's review",
    )
    assert check.check(_candidate("tr_other", route_id=ROUTE_BC), 6.5) is None  # per route
    store.set_payload_policy(
        ROUTE_AB,
        (
            PolicyRule("only-eve", "sender", "hold", mode="allow", values=(EVE,)),
            PolicyRule("no-upjt", "denom", "reject", mode="deny", values=("upjt",)),
        ),
        7.0,
    )
    third = check.check(_candidate(second.id), 8.0)
    assert isinstance(third, Reject)
    assert third.rule == f"policy:{ROUTE_AB}/no-upjt"
    decisions, _ = store.audit_entries(action="policy.decision")
    assert [(e["subject_id"], e["after"]["verdict"], e["after"]["rule"]) for e in decisions] == [
        (second.id, "hold", f"policy:{ROUTE_AB}/only-eve"),
        (second.id, "reject", f"policy:{ROUTE_AB}/no-upjt"),
    ]
    assert [e["after"]["policy_version"] for e in decisions] == [1, 2]
    assert decisions[1]["after"]["fired"] == ["only-eve", "no-upjt"]
    assert [e["actor"] for e in decisions] == ["hub", "hub"]  # the process, outside a request
    assert [store.transfer(t).state for t in (first.id, second.id)] == [
        TransferState.SOURCE_COMMITTED,
        TransferState.REQUESTED,
    ]  # the check decides; moving a transfer is the check point's (and audited there)
    everything, _ = store.audit_entries(limit=1000)
    validate_chain(everything)
