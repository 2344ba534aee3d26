"""Migrations from an empty database, schema == models, the CLI, and failure modes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect
from typer.testing import CliRunner

from core.errors import ConfigError, StoreUnavailable
from core.states import TransferState
from gateway.cli import app
from gateway.store import SqlStore
from gateway.store.engine import parse_url
from gateway.store.migrate import current_revision, head_revision
from gateway.store.models import Base, Transfer
from tests.fixtures.postgres import find_pg_bin
from tests.store.helpers import insert_old_chains_and_route, transfer_row

TABLES = {
    "actions",
    "alembic_version",
    "api_keys",
    "audit_checkpoints",
    "audit_head",
    "audit_log",
    "batch_members",
    "batch_signatures",
    "batches",
    "chains",
    "committee_rotations",
    "consensus_states",
    "cursors",
    "equivocations",
    "history",
    "light_clients",
    "notary_signatures",
    "risk_limits",
    "payload_policies",
    "route_status",
    "rotation_signatures",
    "routes",
    "swap_legs",
    "swaps",
    "transfers",
    "watch_leases",
}


def test_upgrade_from_an_empty_database_creates_every_table(store_url: str) -> None:
    store = SqlStore(store_url)
    try:
        assert current_revision(store.engine) is None
        assert inspect(store.engine).get_table_names() == []
        store.migrate()
        assert current_revision(store.engine) == head_revision() == "0015"
        assert set(inspect(store.engine).get_table_names()) == TABLES
        store.migrate()  # again: a no-op
        assert current_revision(store.engine) == "0015"
    finally:
        store.close()


def test_migrated_schema_matches_the_models(store_url: str) -> None:
    store = SqlStore(store_url)
    try:
        store.migrate()
        with store.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(ctx, Base.metadata)
        assert diff == []
    finally:
        store.close()


def test_sqlite_store_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/hub.db")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        store.close()


def test_cli_db_upgrade_migrates_the_url_given(store_url: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--url", store_url])
    assert result.exit_code == 0, result.output
    assert "revision 0015" in " ".join(result.output.split())
    engine = create_engine(parse_url(store_url))
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_cli_db_upgrade_defaults_to_sqlite_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PJGW_DATABASE_URL", raising=False)
    monkeypatch.setenv("PJGW_DATA_DIR", f"{tmp_path}/data")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "hub.db").exists()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://x@y/z", "::"])
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        SqlStore(url)


def test_unreachable_postgresql_is_store_unavailable() -> None:
    store = SqlStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        with pytest.raises(StoreUnavailable) as err:
            store.ping()
        assert err.value.retryable
    finally:
        store.close()


def test_missing_postgresql_binaries_fail_rather_than_skip(tmp_path: Path) -> None:
    (tmp_path / "15" / "bin").mkdir(parents=True)  # a bin dir without initdb
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y postgresql"):
        find_pg_bin(tmp_path)


def test_the_installed_postgresql_binaries_are_found() -> None:
    assert (find_pg_bin() / "pg_ctl").exists()


def test_0003_moves_the_per_transfer_floor_cursors_onto_their_journal_rows(
    store_url: str,
) -> None:
    """A store written at 0002 (floors as ``deliver-floor:<id>`` cursor rows) upgrades to
    floors on the ``actions`` rows, and the cursor rows are gone; other cursors stay."""
    from sqlalchemy import text

    from gateway.store.codec import dumps
    from gateway.store.migrate import upgrade_engine

    engine = create_engine(parse_url(store_url))
    try:
        upgrade_engine(engine, "0002")
        row = transfer_row(5, TransferState.ATTESTED)
        with engine.begin() as conn:
            insert_old_chains_and_route(conn)  # tables of 0002 that 0003 leaves as they are
            conn.execute(insert(Transfer.__table__), row)
        record = SimpleNamespace(id=row["id"])
        with engine.begin() as conn:  # the 0002 journal row, as that schema holds it
            conn.execute(
                text(
                    "INSERT INTO actions (transfer_id, step, chain_id, kind, payload, "
                    "idempotency_key, status, reason, recorded_at) "
                    "VALUES (:t, 'deliver', 'b', 'd', :p, 'k', 'recorded', '', 1.0)"
                ),
                {"t": record.id, "p": dumps({})},
            )
            conn.execute(
                text("INSERT INTO cursors (key, height) VALUES (:k, 77), ('r', 5)"),
                {"k": f"deliver-floor:{record.id}"},
            )
        upgrade_engine(engine, "head")
        store = SqlStore(store_url)
        try:
            assert store.action(record.id, "deliver").search_floor == 77  # type: ignore[union-attr]
            assert store.cursor(f"deliver-floor:{record.id}") is None
            assert store.cursor("r") == 5
        finally:
            store.close()
    finally:
        engine.dispose()


def test_0005_gives_old_nondelivery_statements_their_kind_and_their_route(
    store_url: str,
) -> None:
    """Signature rows written under ``<route>#nondelivery`` (before 0005) become
    ``kind = nondelivery`` rows of the route; delivery rows stay delivery."""
    from sqlalchemy import text

    from gateway.store.migrate import upgrade_engine

    engine = create_engine(parse_url(store_url))
    try:
        upgrade_engine(engine, "0004")
        row = transfer_row(5, TransferState.ATTESTED)
        with engine.begin() as conn:
            insert_old_chains_and_route(conn)
            conn.execute(insert(Transfer.__table__), row)
        record = SimpleNamespace(id=row["id"])
        with engine.begin() as conn:  # the 0004 rows, as that schema held them
            for route, digest in (("r", b"\x01" * 32), ("r#nondelivery", b"\x02" * 32)):
                conn.execute(
                    text(
                        "INSERT INTO notary_signatures (transfer_id, route_id, sequence, notary, "
                        "digest, signature, at) VALUES (:t, :r, 7, 'n1', :d, :s, 1.0)"
                    ),
                    {"t": record.id, "r": route, "d": digest, "s": b"sig"},
                )
        upgrade_engine(engine, "head")
        store = SqlStore(store_url)
        try:
            found = sorted((s.kind, s.digest) for s in store.signatures(record.id))
            assert found == [("delivery", b"\x01" * 32), ("nondelivery", b"\x02" * 32)]
            with engine.connect() as conn:
                routes = set(conn.execute(text("SELECT route_id FROM notary_signatures")).scalars())
            assert routes == {"r"}
        finally:
            store.close()
    finally:
        engine.dispose()


def test_0010_adds_the_batch_tables_and_downgrades_to_0009(store_url: str) -> None:
    from alembic import command

    from gateway.store.migrate import alembic_config

    store = SqlStore(store_url)
    try:
        store.migrate()
        assert {"batches", "batch_members", "batch_signatures"} <= set(
            inspect(store.engine).get_table_names()
        )
        config = alembic_config()
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0009")
        assert not {"batches", "batch_members", "batch_signatures"} & set(
            inspect(store.engine).get_table_names()
        )
        assert current_revision(store.engine) == "0009"
    finally:
        store.close()
