"""Migration 0013 (payload policies) on SQLite and PostgreSQL: up from 0012 with a route in
place (which then has no policy), a policy written, down again (the table goes) and up."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from core.policies import PayloadPolicy, PolicyRule
from gateway.store import SqlStore
from gateway.store.engine import parse_url
from gateway.store.migrate import alembic_config, current_revision, upgrade_engine
from tests.store.helpers import insert_old_chains_and_route

RULE = PolicyRule("big", "size", "hold", max_bytes=100)


def _downgrade(engine: object, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:  # type: ignore[attr-defined]
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_0013_adds_payload_policies_to_existing_routes_and_goes_down_again(
    store_url: str,
) -> None:
    engine = create_engine(parse_url(store_url))
    try:
        upgrade_engine(engine, "0012")
        with engine.begin() as conn:
            insert_old_chains_and_route(conn)
        upgrade_engine(engine, "0013")
        store = SqlStore(store_url)
        try:
            assert store.payload_policy("r") == PayloadPolicy("r")
            assert store.set_payload_policy("r", (RULE,), 5.0).version == 1
        finally:
            store.close()
        _downgrade(engine, "0012")
        assert current_revision(engine) == "0012"
        assert "payload_policies" not in inspect(engine).get_table_names()
        upgrade_engine(engine, "head")
        store = SqlStore(store_url)
        try:
            assert store.payload_policy("r") == PayloadPolicy("r")  # gone with the table
        finally:
            store.close()
    finally:
        engine.dispose()
