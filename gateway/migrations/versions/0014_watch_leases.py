"""Watch leases (issue #15, a second relayer process): ``watch_leases``.

One row per source chain's cursor key (``chain:<id>``): the relayer process that
watches the chain and until when (``Store.take_watch_lease``). No row: nobody
watches yet; the first process to pass takes it. The cursors are untouched.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_leases",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=False),
        sa.Column("lease_until", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_watch_leases"),
    )


def downgrade() -> None:
    op.drop_table("watch_leases")
