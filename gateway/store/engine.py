"""Engines for the two supported databases, configured for a multi-threaded hub.

SQLite (the embedded default) needs help from us: pysqlite's own transaction
handling emits ``BEGIN`` lazily and never ``BEGIN IMMEDIATE``, so we switch
the driver to autocommit and issue ``BEGIN`` ourselves (SQLAlchemy's
documented recipe). Writes use ``BEGIN IMMEDIATE``: the write lock is taken
up front, so two writers queue on ``busy_timeout`` instead of one failing with
``SQLITE_BUSY`` when it tries to upgrade a read lock. WAL mode lets readers
run beside the writer. PostgreSQL runs at READ COMMITTED through psycopg 3;
its row locks and ``SKIP LOCKED`` do the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from core.errors import ConfigError

WRITE_OPTION = "pjgw_write"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def parse_url(url: str | URL) -> URL:
    """The URL with the driver pinned (``postgresql`` -> psycopg 3); ``ConfigError`` otherwise."""
    try:
        parsed = make_url(url)
    except Exception as err:
        raise ConfigError("database url is not a valid SQLAlchemy URL") from err
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigError(
                "the SQLite store needs a file (sqlite:///path/hub.db): an in-memory "
                "database is not shared between the hub's connections"
            )
        return parsed.set(drivername="sqlite+pysqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")  # psycopg 3 whatever was named
    raise ConfigError(f"unsupported database backend {backend!r} (use sqlite or postgresql)")


def make_engine(url: str | URL, *, sqlite_synchronous: str = "NORMAL") -> Engine:
    """An engine for ``url`` with the pragmas and listeners the store relies on."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, sqlite_synchronous)
    return create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8)


def _sqlite_engine(url: URL, synchronous: str) -> Engine:
    if synchronous.upper() not in ("FULL", "NORMAL"):
        raise ConfigError("sqlite synchronous must be FULL or NORMAL")
    Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_connection.cursor()
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA synchronous={synchronous.upper()}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
