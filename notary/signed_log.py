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

Batches (issue #15, ``docs/notary.md`` "Batches"): a batch statement is one
signature over a root of many packets, so its entry is one row per packet in
``batch_statements`` (``(route, sequence, kind)`` -> the batch digest) plus the
signature in ``batch_signed``, written in ONE transaction (one fsync). The
rule per packet and kind: at most one batch root (the same digest again is a
repeat and returns the stored signature); never a delivery, single or batched,
after a non-delivery, single or batched; a non-delivery only with its proven
non-receipt; an ``error_ack`` (the destination recorded the packet failed) only with
its proven failure event, and never next to a non-delivery of the same packet (a
packet is refunded once: ``double-refund``). A packet's single-packet statement and
its batch statement are different statements (the destination accepts a packet once
whichever way it comes), so they do not conflict with each other except across kinds.

Committee rotations (issue #20, ``docs/notary.md`` "Committee rotation"): one row per
``(chain, epoch)`` in ``rotations``: a notary signs at most ONE rotation of a chain to
a given epoch (the same digest again returns the stored signature; another digest
for the same chain and epoch raises ``WouldEquivocate``), so a hub can never collect
two competing certificates for the next committee.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from notary.errors import WouldEquivocate
from proofs.notary.nondelivery import (
    DELIVERY,
    NONDELIVERY,
    REFUNDS,
    DestinationBlock,
    Statement,
    statement_verdict,
)

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
_BATCH_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS batch_statements (
    route_id TEXT    NOT NULL,
    sequence INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    digest   BLOB    NOT NULL,
    batch_id TEXT    NOT NULL,
    at       REAL    NOT NULL,
    PRIMARY KEY (route_id, sequence, kind)
)
""",
    """
CREATE TABLE IF NOT EXISTS batch_signed (
    digest    BLOB PRIMARY KEY,
    signature BLOB NOT NULL,
    batch_id  TEXT NOT NULL,
    at        REAL NOT NULL
)
""",
)
_ROTATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS rotations (
    chain_id    TEXT    NOT NULL,
    epoch       INTEGER NOT NULL,
    digest      BLOB    NOT NULL,
    signature   BLOB    NOT NULL,
    rotation_id TEXT    NOT NULL,
    at          REAL    NOT NULL,
    PRIMARY KEY (chain_id, epoch)
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
        for table in _BATCH_SCHEMA:
            self._db.execute(table)
        self._db.execute(_ROTATION_SCHEMA)
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
        """How many statements the log holds, single and batch ones (its size, for the
        metrics): a batch statement counts once, whatever its number of packets."""
        with self._lock:
            (single,) = self._db.execute("SELECT COUNT(*) FROM statements").fetchone()
            (batches,) = self._db.execute("SELECT COUNT(*) FROM batch_signed").fetchone()
        return int(single) + int(batches)

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
        batched = self._batched(route_id, sequence)
        refunds = sorted(REFUNDS & set(batched))
        if kind in (DELIVERY, NONDELIVERY) and (set(refunds) - {kind}):
            other = next(k for k in refunds if k != kind)
            raise WouldEquivocate(
                f"refusing {kind} 0x{digest.hex()} for {route_id}/{sequence}: a {other} "
                f"batch 0x{batched[other].hex()} holds it",
                route_id=route_id,
                sequence=sequence,
                rule=str(
                    Statement.AFTER_NONDELIVERY if kind == DELIVERY else Statement.DOUBLE_REFUND
                ),
            )
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

    # --- batches --------------------------------------------------------------------------

    def _batched(self, route_id: str, sequence: int) -> dict[str, bytes]:
        rows = self._db.execute(
            "SELECT kind, digest FROM batch_statements WHERE route_id = ? AND sequence = ?",
            (route_id, sequence),
        ).fetchall()
        return {r[0]: bytes(r[1]) for r in rows}

    def check_batch(
        self,
        route_id: str,
        kind: str,
        sequences: Sequence[int],
        digest: bytes,
        *,
        nonreceipt_proven: Sequence[bool] = (),
    ) -> bytes | None:
        """The stored signature of the same batch statement, ``None`` for a new one it may
        sign; ``WouldEquivocate`` naming the first packet (its index) that forbids it."""
        stored = self._db.execute(
            "SELECT signature FROM batch_signed WHERE digest = ?", (digest,)
        ).fetchone()
        if stored is not None:
            return bytes(stored[0])
        for index, sequence in enumerate(sequences):
            batched = self._batched(route_id, sequence)
            single = {k: d for k, (d, _) in (self.signed(route_id, sequence) or {}).items()}
            held = {*batched, *single}
            rule: Statement | None = None
            if kind in batched and batched[kind] != digest:
                rule = Statement.EQUIVOCATION
            elif kind == DELIVERY and held & REFUNDS:
                rule = Statement.AFTER_NONDELIVERY
            elif kind in REFUNDS and held & (REFUNDS - {kind}):
                rule = Statement.DOUBLE_REFUND
            elif kind in REFUNDS and not (
                index < len(nonreceipt_proven) and nonreceipt_proven[index]
            ):
                rule = Statement.UNPROVEN
            if rule is not None:
                raise WouldEquivocate(
                    f"refusing {kind} batch 0x{digest.hex()}: packet {index} "
                    f"({route_id}/{sequence}) forbids it ({rule})",
                    route_id=route_id,
                    sequence=sequence,
                    index=index,
                    rule=str(rule),
                )
        return None

    def record_batch(
        self,
        route_id: str,
        kind: str,
        sequences: Sequence[int],
        digest: bytes,
        signature: bytes,
        batch_id: str,
        at: float,
        *,
        nonreceipt_proven: Sequence[bool] = (),
    ) -> bytes:
        """Persist the batch statement (every packet's row and the signature, ONE
        transaction: one fsync), then return the signature to release."""
        with self._lock:
            existing = self.check_batch(
                route_id, kind, sequences, digest, nonreceipt_proven=nonreceipt_proven
            )
            if existing is not None:
                return existing
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO batch_statements VALUES (?, ?, ?, ?, ?, ?)",
                    [(route_id, seq, kind, digest, batch_id, at) for seq in sequences],
                )
                self._db.execute(
                    "INSERT INTO batch_signed VALUES (?, ?, ?, ?)",
                    (digest, signature, batch_id, at),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return signature

    # --- committee rotations ----------------------------------------------------------

    def check_rotation(self, chain_id: str, epoch: int, digest: bytes) -> bytes | None:
        """The stored signature of the same rotation, ``None`` for a new one it may sign;
        ``WouldEquivocate`` when another rotation of ``chain_id`` to ``epoch`` was signed."""
        row = self._db.execute(
            "SELECT digest, signature FROM rotations WHERE chain_id = ? AND epoch = ?",
            (chain_id, epoch),
        ).fetchone()
        if row is None:
            return None
        if bytes(row[0]) == digest:
            return bytes(row[1])
        raise WouldEquivocate(
            f"refusing rotation 0x{digest.hex()} of {chain_id} to epoch {epoch}: rotation "
            f"0x{bytes(row[0]).hex()} to that epoch is already signed",
            chain=chain_id,
            epoch=epoch,
            rule=str(Statement.EQUIVOCATION),
        )

    def record_rotation(
        self,
        chain_id: str,
        epoch: int,
        digest: bytes,
        signature: bytes,
        rotation_id: str,
        at: float,
    ) -> bytes:
        """Persist, then return, the signature to release (the first one on a race)."""
        with self._lock:
            existing = self.check_rotation(chain_id, epoch, digest)
            if existing is not None:
                return existing
            self._db.execute(
                "INSERT INTO rotations VALUES (?, ?, ?, ?, ?, ?)",
                (chain_id, epoch, digest, signature, rotation_id, at),
            )
            return signature

    def rotations_signed(self) -> list[tuple[str, int, bytes]]:
        """``(chain, epoch, digest)`` of every rotation this notary signed."""
        rows = self._db.execute("SELECT chain_id, epoch, digest FROM rotations ORDER BY at")
        return [(str(r[0]), int(r[1]), bytes(r[2])) for r in rows]
