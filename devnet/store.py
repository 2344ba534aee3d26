"""The devnet's SQLite store: one file under ``--data``, WAL mode, one transaction per block.

Everything a restart needs is here: blocks (header and commit bytes), the
validator-set schedule, receipts, event leaves, the current state and its
history (each key's value at each height it changed, ``NULL`` for a
deletion, so a state proof at any past height can be rebuilt). A block is
written in a single transaction, so a killed process leaves either the whole
block or none of it.

Writes come from one thread at a time (the node's block lock); reads use one
connection per thread, and WAL lets them run while a block is being written.
``synchronous=NORMAL``: a committed block survives the process being killed;
after a power loss the last blocks may be gone (a devnet trade-off).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.errors import StoreUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    header BLOB NOT NULL,
    commit_ BLOB NOT NULL,
    time_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY,
    height INTEGER,
    idx INTEGER,
    raw BLOB,
    status TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS txs_position ON txs (height, idx);
CREATE TABLE IF NOT EXISTS events (
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    tx_index INTEGER NOT NULL,
    tx_hash BLOB NOT NULL,
    kind TEXT NOT NULL,
    dest_chain TEXT,
    leaf BLOB NOT NULL,
    PRIMARY KEY (height, idx)
);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, height, idx);
CREATE TABLE IF NOT EXISTS valsets (
    from_height INTEGER PRIMARY KEY,
    epoch INTEGER NOT NULL,
    validators BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_history (
    key BLOB NOT NULL,
    height INTEGER NOT NULL,
    value BLOB,
    PRIMARY KEY (key, height)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class BlockRow:
    height: int
    hash: bytes
    header: bytes
    commit: bytes


@dataclass(frozen=True)
class EventRow:
    height: int
    index: int
    tx_index: int
    tx_hash: bytes
    kind: str
    leaf: bytes


@dataclass(frozen=True)
class TxRow:
    hash: bytes
    height: int | None
    index: int | None
    status: str
    reason: str | None


@dataclass(frozen=True)
class BlockWrite:
    """Everything one block adds to the store."""

    height: int
    hash: bytes
    header: bytes
    commit: bytes
    time_ms: int
    txs: Sequence[tuple[bytes, int | None, int | None, bytes | None, str, str | None]]
    """``(hash, height, index, raw, status, reason)``; excluded ones have no height."""
    events: Sequence[tuple[int, int, bytes, str, str | None, bytes]]
    """``(index, tx_index, tx_hash, kind, dest_chain, leaf)``."""
    changes: dict[bytes, bytes | None]
    valset: tuple[int, int, bytes] | None = None
    """``(from_height, epoch, rlp(set))`` of a set accepted in this block."""


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as err:
            raise StoreUnavailable(f"cannot open {self.path}: {err}") from err
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed blocks."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()

    # --- writes (one thread at a time) ------------------------------------------

    def set_meta(self, key: str, value: bytes) -> None:
        self._writer.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> bytes | None:
        row = self._reader().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def save_genesis_state(self, items: dict[bytes, bytes], epoch: int, validators: bytes) -> None:
        with self._write() as conn:
            conn.executemany("INSERT INTO state VALUES (?, ?)", items.items())
            conn.executemany(
                "INSERT INTO state_history VALUES (?, 0, ?)", ((k, v) for k, v in items.items())
            )
            conn.execute("INSERT INTO valsets VALUES (1, ?, ?)", (epoch, validators))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            raise StoreUnavailable(f"writing {self.path} failed: {err}") from err

    def save_block(self, block: BlockWrite) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO blocks VALUES (?, ?, ?, ?, ?)",
                (block.height, block.hash, block.header, block.commit, block.time_ms),
            )
            included = [t for t in block.txs if t[1] is not None]
            excluded = [t for t in block.txs if t[1] is None]
            conn.executemany("INSERT OR REPLACE INTO txs VALUES (?, ?, ?, ?, ?, ?)", included)
            conn.executemany("INSERT OR IGNORE INTO txs VALUES (?, ?, ?, ?, ?, ?)", excluded)
            conn.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((block.height, *e) for e in block.events),
            )
            live = [(k, v) for k, v in block.changes.items() if v is not None]
            gone = [(k,) for k, v in block.changes.items() if v is None]
            conn.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", live)
            conn.executemany("DELETE FROM state WHERE key = ?", gone)
            conn.executemany(
                "INSERT INTO state_history VALUES (?, ?, ?)",
                ((k, block.height, v) for k, v in block.changes.items()),
            )
            if block.valset is not None:
                conn.execute("INSERT INTO valsets VALUES (?, ?, ?)", block.valset)

    # --- reads ------------------------------------------------------------------

    def latest_block(self) -> BlockRow | None:
        row = (
            self._reader()
            .execute(
                "SELECT height, hash, header, commit_ FROM blocks ORDER BY height DESC LIMIT 1"
            )
            .fetchone()
        )
        return (
            None if row is None else BlockRow(row[0], bytes(row[1]), bytes(row[2]), bytes(row[3]))
        )

    def block(self, height: int) -> BlockRow | None:
        row = (
            self._reader()
            .execute("SELECT height, hash, header, commit_ FROM blocks WHERE height = ?", (height,))
            .fetchone()
        )
        return (
            None if row is None else BlockRow(row[0], bytes(row[1]), bytes(row[2]), bytes(row[3]))
        )

    def valsets(self) -> list[tuple[int, int, bytes]]:
        rows = self._reader().execute(
            "SELECT from_height, epoch, validators FROM valsets ORDER BY from_height"
        )
        return [(r[0], r[1], bytes(r[2])) for r in rows]

    def current_state(self) -> dict[bytes, bytes]:
        return {
            bytes(k): bytes(v) for k, v in self._reader().execute("SELECT key, value FROM state")
        }

    def state_at(self, height: int) -> list[tuple[bytes, bytes]]:
        """The sorted entries after block ``height`` (from the history table)."""
        rows = self._reader().execute(
            """
            SELECT h.key, h.value FROM state_history h
            JOIN (SELECT key, MAX(height) AS height FROM state_history
                  WHERE height <= ? GROUP BY key) last
              ON h.key = last.key AND h.height = last.height
            WHERE h.value IS NOT NULL ORDER BY h.key
            """,
            (height,),
        )
        return [(bytes(k), bytes(v)) for k, v in rows]

    def events(
        self,
        first: int,
        last: int,
        kind: str | None,
        dest_chain: str | None,
        limit: int,
        from_index: int = 0,
    ) -> list[EventRow]:
        query = (
            "SELECT height, idx, tx_index, tx_hash, kind, leaf FROM events "
            "WHERE (height, idx) >= (?, ?) AND height <= ?"
        )
        params: list[object] = [first, from_index, last]
        if kind is not None:
            query += " AND kind = ?"
            params.append(kind)
        if dest_chain is not None:
            query += " AND dest_chain = ?"
            params.append(dest_chain)
        query += " ORDER BY height, idx LIMIT ?"
        params.append(limit)
        return [_event_row(r) for r in self._reader().execute(query, params)]

    def block_events(self, height: int) -> list[EventRow]:
        rows = self._reader().execute(
            "SELECT height, idx, tx_index, tx_hash, kind, leaf FROM events "
            "WHERE height = ? ORDER BY idx",
            (height,),
        )
        return [_event_row(r) for r in rows]

    def tx_events(self, height: int, tx_index: int) -> list[EventRow]:
        rows = self._reader().execute(
            "SELECT height, idx, tx_index, tx_hash, kind, leaf FROM events "
            "WHERE height = ? AND tx_index = ? ORDER BY idx",
            (height, tx_index),
        )
        return [_event_row(r) for r in rows]

    def tx(self, tx_hash: bytes) -> TxRow | None:
        row = (
            self._reader()
            .execute("SELECT hash, height, idx, status, reason FROM txs WHERE hash = ?", (tx_hash,))
            .fetchone()
        )
        return None if row is None else TxRow(bytes(row[0]), row[1], row[2], row[3], row[4])

    def block_txs(self, height: int) -> list[bytes]:
        rows = self._reader().execute(
            "SELECT raw FROM txs WHERE height = ? ORDER BY idx", (height,)
        )
        return [bytes(r[0]) for r in rows]


def _event_row(row: Iterable[object]) -> EventRow:
    height, idx, tx_index, tx_hash, kind, leaf = row  # type: ignore[misc]
    return EventRow(height, idx, tx_index, bytes(tx_hash), kind, bytes(leaf))  # type: ignore[arg-type]
