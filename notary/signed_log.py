"""The notary's own record of what it signed: the guard against equivocation.

One row per ``(route_id, sequence, kind)`` in a SQLite file in the data
directory: at most one delivery and one non-delivery statement per packet,
by the rule of ``proofs.notary.nondelivery.statement_verdict`` (a
non-delivery after a delivery only with a proven non-receipt, whose block is
kept in the row; never a delivery after a non-delivery). The row is written
(and committed) BEFORE the signature leaves the process, so a crash between
the two can only make the notary re-send the same signature, never sign a
second digest. Asking again for the same digest returns the stored
signature (idempotent); another digest of the same kind raises
``WouldEquivocate``.

A data directory written before the kind was part of the key (table
``signed``, one row per packet) is carried over on open.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from notary.errors import WouldEquivocate
from proofs.notary.nondelivery import DestinationBlock, Statement, statement_verdict

FILE_NAME = "signed.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS statements (
    route_id      TEXT    NOT NULL,
    sequence      INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    digest        BLOB    NOT NULL,
    signature     BLOB    NOT NULL,
    transfer_id   TEXT    NOT NULL,
    at            REAL    NOT NULL,
    proof_height  INTEGER,
    proof_time_ms INTEGER,
    PRIMARY KEY (route_id, sequence, kind)
)
"""
_CARRY_OVER = """
INSERT OR IGNORE INTO statements
SELECT route_id, sequence, kind, digest, signature, transfer_id, at, NULL, NULL FROM signed
"""

Signed = dict[str, tuple[bytes, bytes]]  # kind -> (digest, signature)


class SignedLog:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        old = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'signed'"
        ).fetchone()
        if old is not None:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(_CARRY_OVER)
                self._db.execute("DROP TABLE signed")

    def close(self) -> None:
        self._db.close()

    def count(self) -> int:
        """How many statements the log holds (its size, for the metrics)."""
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM statements").fetchone()
        return int(n)

    def signed(self, route_id: str, sequence: int) -> Signed | None:
        """``{kind: (digest, signature)}`` already signed for this packet, ``None`` if nothing."""
        rows = self._db.execute(
            "SELECT kind, digest, signature FROM statements WHERE route_id = ? AND sequence = ?",
            (route_id, sequence),
        ).fetchall()
        return {r[0]: (bytes(r[1]), bytes(r[2])) for r in rows} or None

    def check(
        self,
        route_id: str,
        sequence: int,
        kind: str,
        digest: bytes,
        *,
        nonreceipt: DestinationBlock | None = None,
    ) -> bytes | None:
        """The stored signature for the same statement, ``None`` for a new one it may sign.

        ``WouldEquivocate`` for another digest of the same kind, a delivery after
        a non-delivery, or a non-delivery without ``nonreceipt`` (the verified
        block that proved the packet can no longer be received).
        """
        found = self.signed(route_id, sequence) or {}
        proven = nonreceipt is not None and not nonreceipt.received
        verdict = statement_verdict(
            {k: d for k, (d, _) in found.items()}, kind, digest, nonreceipt_proven=proven
        )
        if verdict is Statement.REPEAT:
            return found[kind][1]
        if verdict is Statement.NEW:
            return None
        held = ", ".join(f"{k} 0x{d.hex()}" for k, (d, _) in sorted(found.items())) or "nothing"
        raise WouldEquivocate(
            f"refusing {kind} 0x{digest.hex()} for {route_id}/{sequence} ({verdict}); "
            f"already signed: {held}",
            route_id=route_id,
            sequence=sequence,
            rule=str(verdict),
        )

    def record(
        self,
        route_id: str,
        sequence: int,
        kind: str,
        digest: bytes,
        signature: bytes,
        transfer_id: str,
        at: float,
        *,
        nonreceipt: DestinationBlock | None = None,
    ) -> bytes:
        """Persist, then return, the signature to release (the first one on a race)."""
        with self._lock:
            existing = self.check(route_id, sequence, kind, digest, nonreceipt=nonreceipt)
            if existing is not None:
                return existing
            self._db.execute(
                "INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    route_id,
                    sequence,
                    kind,
                    digest,
                    signature,
                    transfer_id,
                    at,
                    None if nonreceipt is None else nonreceipt.height,
                    None if nonreceipt is None else nonreceipt.time_ms,
                ),
            )
            return signature
