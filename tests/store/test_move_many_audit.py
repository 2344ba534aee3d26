"""``move_many`` audits each member's move as a single move would (issue #15: the entries
are staged in bulk, sharing one ``before`` and one ``after``): the exact entries, in
member order, and a chain that verifies."""

from __future__ import annotations

from core.states import TransferState
from gateway.store import SqlStore
from proofs.audit import validate_chain
from tests.store.helpers import new_transfer

S = TransferState


def _entries(store: SqlStore) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    after = 0
    while True:
        page, cursor = store.audit_entries(after_seq=after, limit=1000)
        out += page
        if cursor is None:
            return out
        after = cursor


def test_each_member_gets_its_own_exact_entry_and_the_chain_verifies(store: SqlStore) -> None:
    ids = [
        store.create_transfer(new_transfer(sequence=i, state=S.PROVEN), float(i))[0].id
        for i in range(1, 4)
    ]
    start = len(_entries(store))
    store.move_many(ids, S.PROVEN, S.ATTESTED, "batch quorum", 200.0)
    store.move_many(ids, S.ATTESTED, S.DEST_SUBMITTED, "sent", 201.5, dest_tx=b"\x07" * 32)
    entries = _entries(store)
    fields = ("action", "subject", "subject_id", "at_ms", "before", "after", "reason", "actor")
    got = [{f: e[f] for f in fields} for e in entries[start:]]
    assert got == [
        {
            "action": "transfer.transition",
            "subject": "transfer",
            "subject_id": t,
            "at_ms": 200_000,
            "before": {"state": "proven"},
            "after": {"state": "attested"},
            "reason": "batch quorum",
            "actor": "hub",
        }
        for t in ids
    ] + [
        {
            "action": "transfer.transition",
            "subject": "transfer",
            "subject_id": t,
            "at_ms": 201_500,
            "before": {"state": "attested"},
            "after": {"state": "dest_submitted", "tx_hash": "0x" + "07" * 32},
            "reason": "sent",
            "actor": "hub",
        }
        for t in ids
    ]
    assert validate_chain(entries).seq == len(entries)
