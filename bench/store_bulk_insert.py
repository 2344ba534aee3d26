"""Audit and history rows inserted in bulk: SQLAlchemy's insert against ``insert_rows`` (#15).

    .venv/bin/python bench/store_bulk_insert.py [--rows 500] [--rounds 30]

The relayer writes each state change of a batch's members as one history row and one audit
entry per member, in bulk (``move_many``, ``record_packets``, the audit log's commit). This
inserts ``--rows`` rows shaped like those (an audit entry's body of ~330 characters, its
32-byte hash and link) into a migrated SQLite store, once with
``session.execute(insert(table), rows)`` and once with ``gateway.store.bulk.insert_rows``,
rounds alternating, each in its own transaction; the best round of each, by the process's
CPU clock, per row.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from gateway.store import SqlStore
from gateway.store.bulk import insert_rows
from gateway.store.models import AuditEntry, HistoryEntry

AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]
HISTORY: Table = HistoryEntry.__table__  # type: ignore[assignment]
BODY = '{"action":"transfer.transition","actor":"relayer","after":{"state":"attested"},' + "x" * 250


class Counter:
    def __init__(self) -> None:
        self.seq = 0

    def audit(self, n: int) -> list[dict[str, Any]]:
        rows = []
        for _ in range(n):
            self.seq += 1
            rows.append(
                {
                    "seq": self.seq, "at_ms": 1_765_000_000_000 + self.seq, "actor": "relayer",
                    "role": "relayer", "action": "transfer.transition", "subject": "transfer",
                    "subject_id": f"{self.seq:032x}", "body": BODY, "prev": os.urandom(32),
                    "hash": os.urandom(32),
                }
            )  # fmt: skip
        return rows

    def history(self, n: int) -> list[dict[str, Any]]:
        self.seq += n
        return [
            {
                "subject": "transfer", "subject_id": f"{self.seq + i:032x}",
                "at": 1_765_000_000.5, "state": "attested", "reason": "attested by 2 of 3",
                "leg": None, "tx_hash": os.urandom(32), "chain_id": "pj-devnet",
            }
            for i in range(n)
        ]  # fmt: skip


Insert = Callable[[Session, Table, list[dict[str, Any]]], None]


def through_sqlalchemy(s: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    s.execute(insert(table), rows)


def timed(store: SqlStore, how: Insert, table: Table, rows: list[dict[str, Any]]) -> float:
    start = time.process_time()
    with Session(store.engine) as s, s.begin():
        how(s, table, rows)
    return (time.process_time() - start) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/hub.db")
        store.migrate()
        counter = Counter()
        for name, table, make in (
            ("audit_log", AUDIT, counter.audit),
            ("history", HISTORY, counter.history),
        ):
            best: dict[str, float] = {}
            for _ in range(args.rounds):
                for label, how in (
                    ("sqlalchemy", through_sqlalchemy),
                    ("insert_rows", insert_rows),
                ):
                    took = timed(store, how, table, make(args.rows))
                    best[label] = min(best.get(label, took), took)
            old, new = best["sqlalchemy"], best["insert_rows"]
            print(
                f"{name:10} {args.rows} rows a transaction, best of {args.rounds}: "
                f"SQLAlchemy insert {old * 1e6:5.1f} µs a row, insert_rows {new * 1e6:5.1f} µs "
                f"a row, x{old / new:.2f}"
            )
        store.close()


if __name__ == "__main__":
    main()
