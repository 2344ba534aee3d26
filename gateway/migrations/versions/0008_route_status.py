"""Each relayer's word on each route: running, stopped (and why), last seen.

The relayer computed a route's status and kept it in memory; an API or a
dashboard in another process never saw it. ``route_status`` holds one row
per route and relayer process (``worker``), replaced on each report. No
foreign key to ``routes``: a report on a route deleted meanwhile is harmless
and the API shows only routes that exist.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route_status",
        sa.Column("route_id", sa.String(128), nullable=False),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=True),
        sa.Column("since", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("route_id", "worker", name="pk_route_status"),
    )


def downgrade() -> None:
    op.drop_table("route_status")
