"""Claims read live rows only (migration 0015): each claimed table has a partial index of its
non-terminal rows, and the claim query names the index's constants so that SQLite uses it.
Without it a claim read every transfer its route ever had (9 ms at 12,000, growing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, inspect

from core.batches import BatchKind
from core.records import ChainRecord, RouteProtocol, RouteRecord
from core.states import TransferState
from gateway.store import SqlStore
from gateway.store.engine import parse_url
from gateway.store.migrate import alembic_config, current_revision, upgrade_engine
from tests.store.helpers import ROUTE_AB, A, B, new_transfer

LIVE_DUE = {
    "transfers": "ix_transfers_live_due",
    "swaps": "ix_swaps_live_due",
    "batches": "ix_batches_live_due",
}


def _claims_sql(store: SqlStore, claim: Any) -> list[tuple[str, Any]]:
    """The due-row SELECTs ``claim`` issued, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "next_attempt_at <=" in statement:
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        claim()
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return seen


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Any:
    store = SqlStore(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    for chain in (A, B):
        store.upsert_chain(ChainRecord(chain, "evm"))
    store.upsert_route(RouteRecord(ROUTE_AB, A, B, RouteProtocol.NOTARY))
    yield store
    store.close()


@pytest.mark.parametrize("table", ["transfers", "batches"])
def test_a_claim_on_sqlite_reads_the_partial_index_of_live_rows(
    sqlite_store: SqlStore, table: str
) -> None:
    ids = [
        sqlite_store.create_transfer(
            new_transfer(sequence=i, state=TransferState.PROVEN), float(i)
        )[0].id
        for i in range(1, 4)
    ]
    sqlite_store.create_batch(
        ROUTE_AB, int(BatchKind.DELIVERY), 1, b"\x01" * 32, b"\x02" * 32, ids, 5.0, hold_until=5.0
    )
    if table == "transfers":
        claim = lambda: sqlite_store.claim_due("w", 1e9, 30, 10, route_id=ROUTE_AB)  # noqa: E731
    else:
        claim = lambda: sqlite_store.claim_batches("w", 1e9, 30, 10, route_id=ROUTE_AB)  # noqa: E731
    statements = _claims_sql(sqlite_store, claim)
    assert statements, "the claim issued no due-row query"
    with sqlite_store.engine.connect() as conn:
        for statement, parameters in statements:
            assert f"FROM {table}" in statement
            assert "NOT IN ('" in statement  # the terminal states written out, not bound
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            assert LIVE_DUE[table] in " ".join(str(row) for row in plan), plan


def test_0015_adds_the_live_due_indexes_and_goes_down_again(store_url: str) -> None:
    from alembic import command

    engine = create_engine(parse_url(store_url))
    try:
        upgrade_engine(engine, "head")
        for table, name in LIVE_DUE.items():
            assert name in {i["name"] for i in inspect(engine).get_indexes(table)}
        cfg = alembic_config()
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0014")
        assert current_revision(engine) == "0014"
        for table, name in LIVE_DUE.items():
            assert name not in {i["name"] for i in inspect(engine).get_indexes(table)}
        upgrade_engine(engine, "head")
        assert current_revision(engine) == "0015"
    finally:
        engine.dispose()
