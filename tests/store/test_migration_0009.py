"""Migration 0009 (the audit log, route pauses) on SQLite and PostgreSQL: up from 0008 with
rows in place, the chain starting at its genesis head, and down and up again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from gateway.store import SqlStore
from gateway.store.engine import parse_url
from gateway.store.migrate import alembic_config, current_revision, upgrade_engine
from proofs.audit import GENESIS
from tests.store.helpers import insert_old_chains_and_route

AUDIT_TABLES = {"audit_log", "audit_head", "audit_checkpoints"}


def _downgrade(engine: object, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:  # type: ignore[attr-defined]
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_0009_adds_an_empty_chain_and_unpaused_routes_and_goes_down_again(store_url: str) -> None:
    engine = create_engine(parse_url(store_url))
    try:
        upgrade_engine(engine, "0008")
        with engine.begin() as conn:
            insert_old_chains_and_route(conn)
        upgrade_engine(engine, "0009")
        store = SqlStore(store_url)
        try:
            assert store.audit_head() == (0, GENESIS)
            assert store.route("r").paused_reason is None
            store.pause_route("r", "first entry", 1.0)
            assert store.audit_head()[0] == 1
        finally:
            store.close()
        _downgrade(engine, "0008")
        assert current_revision(engine) == "0008"
        inspector = inspect(engine)
        assert not AUDIT_TABLES & set(inspector.get_table_names())
        assert "paused_reason" not in {c["name"] for c in inspector.get_columns("routes")}
        upgrade_engine(engine, "head")
        store = SqlStore(store_url)
        try:
            assert store.audit_head() == (0, GENESIS)  # the chain starts again, empty
            assert store.route("r").paused_reason is None
        finally:
            store.close()
    finally:
        engine.dispose()
