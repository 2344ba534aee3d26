"""Migration 0014 (watch leases) on SQLite and PostgreSQL: up from 0013 with a chain cursor in
place (which it keeps, and which nobody holds a lease on yet), a lease taken, down again (the
table goes, the cursor stays) and up (the lease is gone: the next process takes it at once)."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from core.records import WatchLease
from gateway.store import SqlStore
from gateway.store.engine import parse_url
from gateway.store.migrate import alembic_config, current_revision, upgrade_engine
from tests.store.helpers import insert_old_chains_and_route

KEY = "chain:a"


def _downgrade(engine: object, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:  # type: ignore[attr-defined]
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_0014_adds_watch_leases_beside_existing_cursors_and_goes_down_again(
    store_url: str,
) -> None:
    engine = create_engine(parse_url(store_url))
    try:
        upgrade_engine(engine, "0013")
        with engine.begin() as conn:
            insert_old_chains_and_route(conn)
        store = SqlStore(store_url)
        try:
            store.advance_cursor(KEY, 41)
        finally:
            store.close()
        upgrade_engine(engine, "0014")
        store = SqlStore(store_url)
        try:
            assert store.cursor(KEY) == 41
            assert store.take_watch_lease(KEY, "w1", 100.0, 10.0) == WatchLease(KEY, "w1", 110.0)
        finally:
            store.close()
        _downgrade(engine, "0013")
        assert current_revision(engine) == "0013"
        assert "watch_leases" not in inspect(engine).get_table_names()
        upgrade_engine(engine, "head")
        store = SqlStore(store_url)
        try:
            assert store.cursor(KEY) == 41
            assert store.take_watch_lease(KEY, "w2", 101.0, 10.0).owner == "w2"  # w1's is gone
        finally:
            store.close()
    finally:
        engine.dispose()
