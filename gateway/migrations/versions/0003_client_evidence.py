"""Light clients keep the evidence they froze on (the conflicting header with its commit).

Nullable, so a store written by 0002 upgrades in place: existing clients have
no evidence (a client frozen before this revision shows only its reason).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("light_clients", sa.Column("evidence", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("light_clients") as batch:
        batch.drop_column("evidence")
