"""Alembic environment: migrates the connection ``gateway.store.migrate`` hands in.

Online mode only: the hub always migrates a live database. On PostgreSQL a
transaction-scoped advisory lock makes concurrent ``upgrade`` calls (several
hub or relayer processes starting together) run one after the other.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from gateway.store.models import Base

MIGRATION_LOCK = 0x706A6777  # "pjgw"


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through gateway.store.migrate (pjgw db upgrade)")
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
