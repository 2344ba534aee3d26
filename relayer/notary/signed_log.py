"""The notary's own record of what it signed: the guard against equivocation.

One row per ``(route_id, sequence)`` in a SQLite file in the data directory.
The row is written (and committed) BEFORE the signature leaves the process,
so a crash between the two can only make the notary re-send the same
signature, never sign a second digest. Asking again for the same digest
returns the stored signature (idempotent); another digest raises
``WouldEquivocate``.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from relayer.notary.errors import WouldEquivocate

FILE_NAME = "signed.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS signed (
    route_id    TEXT    NOT NULL,
    sequence    INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    digest      BLOB    NOT NULL,
    signature   BLOB    NOT NULL,
    transfer_id TEXT    NOT NULL,
    at          REAL    NOT NULL,
    PRIMARY KEY (route_id, sequence)
)
"""


class SignedLog:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def signed(self, route_id: str, sequence: int) -> tuple[str, bytes, bytes] | None:
        """``(kind, digest, signature)`` already signed for this packet, if any."""
        row = self._db.execute(
            "SELECT kind, digest, signature FROM signed WHERE route_id = ? AND sequence = ?",
            (route_id, sequence),
        ).fetchone()
        return None if row is None else (row[0], bytes(row[1]), bytes(row[2]))

    def check(self, route_id: str, sequence: int, digest: bytes) -> bytes | None:
        """The stored signature for the same digest; ``WouldEquivocate`` for another one."""
        found = self.signed(route_id, sequence)
        if found is None:
            return None
        kind, stored, signature = found
        if stored != digest:
            raise WouldEquivocate(
                f"already signed {kind} digest 0x{stored.hex()} for {route_id}/{sequence}; "
                f"refusing 0x{digest.hex()}",
                route_id=route_id,
                sequence=sequence,
            )
        return signature

    def record(
        self,
        route_id: str,
        sequence: int,
        kind: str,
        digest: bytes,
        signature: bytes,
        transfer_id: str,
        at: float,
    ) -> bytes:
        """Persist, then return, the signature to release (the first one on a race)."""
        with self._lock:
            existing = self.check(route_id, sequence, digest)
            if existing is not None:
                return existing
            self._db.execute(
                "INSERT INTO signed VALUES (?, ?, ?, ?, ?, ?, ?)",
                (route_id, sequence, kind, digest, signature, transfer_id, at),
            )
            return signature
