"""Partial indexes of live rows for the claims (issue #15, found by a 60 s benchmark).

A claim (``gateway.store.leases``) asks for a route's rows that are not terminal and are
due. Without these, SQLite took the route's index and read every transfer the route ever
had, done or not: 9 ms a claim at 12,000 transfers, growing with the store. Each index
holds only the rows a claim can return; the claim query names the same constants
(``live_due_where``), which SQLite needs to use a partial index.

The conditions are frozen here as this revision wrote them (the terminal states of
``core.states`` and ``core.records`` in 2026-12).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

LIVE_TRANSFER = "state NOT IN ('completed', 'refunded', 'rejected')"
LIVE_SWAP = "state NOT IN ('completed', 'refunded', 'rejected', 'unbalanced')"
LIVE_BATCH = "state NOT IN ('done')"

INDEXES = (
    ("ix_transfers_live_due", "transfers", ["route_id", "next_attempt_at"], LIVE_TRANSFER),
    ("ix_swaps_live_due", "swaps", ["next_attempt_at"], LIVE_SWAP),
    ("ix_batches_live_due", "batches", ["route_id", "next_attempt_at"], LIVE_BATCH),
)


def upgrade() -> None:
    for name, table, columns, where in INDEXES:
        op.create_index(
            name,
            table,
            columns,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name, table, _columns, _where in INDEXES:
        op.drop_index(name, table_name=table)
