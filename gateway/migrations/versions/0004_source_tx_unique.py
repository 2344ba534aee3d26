"""One source transaction is one transfer, by a unique index rather than read-then-write.

``POST /v1/transfers`` with a ``signed_tx`` looked the source transaction up, then
created the transfer: two concurrent requests with the same transaction and two
idempotency keys could both miss the lookup and create two transfers (the race in
docs/api.md). ``uq_transfers_pending_source_tx`` makes the second insert fail, and
``SqlStore.create_transfer`` then returns the first.

Partial: only transfers that have no packet yet (created from a request; the
watcher attaches the packet later). One source transaction may emit several
packets, each its own transfer with its packet set, so the packet-less rows alone
are unique. If a database already holds two such rows for one transaction (the
race happened), this migration fails on them: keep the older, then upgrade.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WHERE = "packet_sequence IS NULL AND source_tx IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "uq_transfers_pending_source_tx",
        "transfers",
        ["source_chain", "source_tx"],
        unique=True,
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("uq_transfers_pending_source_tx", table_name="transfers")
