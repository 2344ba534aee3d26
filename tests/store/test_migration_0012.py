"""Migration 0012 (risk limits, the hold columns) on SQLite and PostgreSQL: up from 0011 with
transfers in place (taken as admitted at their creation, so they are neither checked again
nor lost from the windows), and down and up again."""

from __future__ import annotations

from sqlalchemy import column, create_engine, insert, inspect, table

from core.records import RiskLimitRecord
from core.states import TransferState
from gateway.store import SqlStore
from gateway.store.engine import parse_url
from gateway.store.migrate import alembic_config, current_revision, upgrade_engine
from tests.store.helpers import insert_old_chains_and_route, transfer_row

HOLD_COLUMNS = {"created_by", "admitted_at", "hold_rule", "hold_reason", "hold_until"}


def _downgrade(engine: object, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:  # type: ignore[attr-defined]
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_0012_takes_existing_transfers_as_admitted_and_goes_down_again(store_url: str) -> None:
    engine = create_engine(parse_url(store_url))
    try:
        upgrade_engine(engine, "0011")
        row = transfer_row(1, TransferState.PROVEN)
        with engine.begin() as conn:
            insert_old_chains_and_route(conn)
            transfers = table("transfers", *(column(name) for name in row))
            conn.execute(insert(transfers), [row])
        upgrade_engine(engine, "0012")
        store = SqlStore(store_url)
        try:
            t = store.transfer(row["id"])
            assert (t.admitted_at, t.created_by, t.hold) == (row["created_at"], None, None)
            store.put_risk_limit(RiskLimitRecord("r", "upj", max_amount=5), 2.0)
            assert [e.amount for e in store.risk_view("r", 2.0).admitted] == [row["amount"]]
        finally:
            store.close()
        _downgrade(engine, "0011")
        assert current_revision(engine) == "0011"
        inspector = inspect(engine)
        assert "risk_limits" not in inspector.get_table_names()
        assert not HOLD_COLUMNS & {c["name"] for c in inspector.get_columns("transfers")}
        upgrade_engine(engine, "head")
        store = SqlStore(store_url)
        try:
            assert store.risk_limits() == []
            assert store.transfer(row["id"]).admitted_at == row["created_at"]
        finally:
            store.close()
    finally:
        engine.dispose()
