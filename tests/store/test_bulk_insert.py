"""``gateway.store.bulk.insert_rows`` stores what SQLAlchemy's own insert stores.

The same rows go into the audit log's and the history's tables once through
``session.execute(insert(table), rows)`` and once through ``insert_rows`` (keys in another
order, so the parameter order is the plan's, not the dict's), on SQLite and PostgreSQL;
what is read back is equal, value and type. Then the refusals: a column of a type a bind
processor must convert, a row with other columns, a column the table lacks; and rows
inserted in a transaction that rolls back are gone with it.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from gateway.store import SqlStore
from gateway.store.bulk import insert_rows
from gateway.store.models import AuditEntry, HistoryEntry, Transfer

HISTORY: Table = HistoryEntry.__table__  # type: ignore[assignment]
AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]


def history_rows(base: int) -> list[dict[str, Any]]:
    return [
        {
            "subject": "transfer",
            "subject_id": f"t-{base + i}",
            "at": 1_765_000_000.125 + i,
            "state": "attested",
            "reason": "attested by 2 of 3 — 签名 ✓" if i % 2 else "",
            "leg": None if i % 3 else i,
            "tx_hash": None if i % 2 else bytes([i]) * 32,
            "chain_id": None if i % 2 else "pj-devnet",
        }
        for i in range(5)
    ]


def audit_rows(base: int) -> list[dict[str, Any]]:
    return [
        {
            "seq": base + i,
            "at_ms": 1_765_000_000_000 + i,
            "actor": "relayer",
            "role": "relayer",
            "action": "transfer.transition",
            "subject": "transfer",
            "subject_id": f"t-{i}",
            "body": f'{{"reason":"ü — {i}"}}',
            "prev": bytes(32),
            "hash": bytes([i + 1]) * 32,
        }
        for i in range(5)
    ]


def reversed_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(reversed(list(row.items()))) for row in rows]


def read_back(s: Session, table: Table, key: str, values: list[Any]) -> list[tuple[Any, ...]]:
    """The rows whose ``key`` is among ``values``, without that column and the id."""
    columns = [c for c in table.c if c.name not in (key, "id")]
    rows = s.execute(select(table.c[key], *columns).where(table.c[key].in_(values)))
    return [tuple(row)[1:] for row in sorted(rows, key=lambda r: values.index(r[0]))]


@pytest.mark.parametrize(
    ("table", "make", "key"),
    [(HISTORY, history_rows, "subject_id"), (AUDIT, audit_rows, "seq")],
    ids=["history", "audit_log"],
)
def test_rows_read_back_as_sqlalchemys_insert_stores_them(
    store: SqlStore, table: Table, make: Any, key: str
) -> None:
    through_sqlalchemy, through_driver = make(1_000), make(2_000)
    with Session(store.engine) as s, s.begin():
        s.execute(insert(table), through_sqlalchemy)
        insert_rows(s, table, reversed_keys(through_driver))
    with Session(store.engine) as s:
        expected = read_back(s, table, key, [r[key] for r in through_sqlalchemy])
        got = read_back(s, table, key, [r[key] for r in through_driver])
    assert got == expected  # the two batches differ only in the key, read back apart
    assert [tuple(map(type, r)) for r in got] == [tuple(map(type, r)) for r in expected]
    assert len(got) == 5


def test_rows_go_with_a_transaction_that_rolls_back(store: SqlStore) -> None:
    rows = history_rows(3_000)
    with Session(store.engine) as s:
        with s.begin():
            insert_rows(s, HISTORY, rows)
            assert len(read_back(s, HISTORY, "subject_id", [r["subject_id"] for r in rows])) == 5
            s.rollback()
        assert read_back(s, HISTORY, "subject_id", [r["subject_id"] for r in rows]) == []


@pytest.mark.parametrize(
    ("table", "rows", "error", "message"),
    [
        (
            Transfer.__table__,
            [{"packet_data": {}}],
            TypeError,
            "transfers.packet_data is TaggedJson, not a plain type",
        ),
        (
            HISTORY,
            [history_rows(0)[0], {**history_rows(0)[1], "extra": 1}],
            ValueError,
            "rows for history differ in their columns",
        ),
        (HISTORY, [{"subject": "transfer", "colour": "red"}], KeyError, "history has no column"),
    ],
    ids=["json-column", "other-columns", "unknown-column"],
)
def test_rows_it_cannot_pass_as_they_are_are_refused_before_any_is_sent(
    store: SqlStore, table: Any, rows: list[dict[str, Any]], error: type[Exception], message: str
) -> None:
    with Session(store.engine) as s, s.begin():
        before = s.execute(select(HISTORY.c.id)).all()
        with pytest.raises(error, match=message):
            insert_rows(s, table, rows)
        assert s.execute(select(HISTORY.c.id)).all() == before
