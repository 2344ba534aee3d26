"""The hub's persistence: ``SqlStore`` implements ``core.seams.Store`` on SQLAlchemy.

SQLite in WAL mode is the embedded default, PostgreSQL (psycopg 3) the
production store; the schema comes from the Alembic migrations in
``gateway/migrations`` (``SqlStore.migrate()`` or ``pjgw db upgrade``).
See ``docs/store.md``.
"""

from gateway.store.sql import API_ROLES, SqlStore

__all__ = ["API_ROLES", "SqlStore"]
