"""Transfers keep their packet and its event's plain attributes from the moment they are seen.

The relayer used to list a source block again for every later step of a
transfer (to decode its packet and prove its event); the watcher now stores
``packet_data`` (the packet as plain data) and ``source_attributes`` with the
event, and later steps read them. Nullable: transfers recorded before this
revision have neither and have their event read again once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transfers", sa.Column("packet_data", sa.Text(), nullable=True))
    op.add_column("transfers", sa.Column("source_attributes", sa.Text(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+, PostgreSQL) rather than a batch copy of the
    # table: other tables' foreign keys point at ``transfers``.
    op.execute("ALTER TABLE transfers DROP COLUMN source_attributes")
    op.execute("ALTER TABLE transfers DROP COLUMN packet_data")
