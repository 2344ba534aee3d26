"""Relay core v2: light clients keep their freeze evidence; journal rows keep their search floor.

* ``light_clients.evidence``: what the follower froze on (the conflicting header
  with its commit). Nullable: a client frozen before this revision shows only its
  reason.
* ``actions.search_floor``: the height of the action's chain noted just before it
  was journaled, where the search for its effect starts after a crash. Relayers
  before this revision kept it as a cursor row per transfer
  (``deliver-floor:<id>``, ``refund-floor:<id>``) that was never deleted: those
  rows are moved onto their journal rows and removed.

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

_FLOORS = (("deliver-floor:", "deliver"), ("refund-floor:", "refund"))


def upgrade() -> None:
    op.add_column("light_clients", sa.Column("evidence", sa.LargeBinary(), nullable=True))
    op.add_column("actions", sa.Column("search_floor", sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    cursors = sa.table("cursors", sa.column("key", sa.String), sa.column("height", sa.BigInteger))
    actions = sa.table(
        "actions",
        sa.column("transfer_id", sa.String),
        sa.column("step", sa.String),
        sa.column("search_floor", sa.BigInteger),
    )
    for prefix, step in _FLOORS:
        rows = conn.execute(
            sa.select(cursors.c.key, cursors.c.height).where(cursors.c.key.like(prefix + "%"))
        ).all()
        for key, height in rows:
            conn.execute(
                actions.update()
                .where(actions.c.transfer_id == key[len(prefix) :], actions.c.step == step)
                .values(search_floor=height)
            )
        conn.execute(cursors.delete().where(cursors.c.key.like(prefix + "%")))


def downgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("search_floor")
    with op.batch_alter_table("light_clients") as batch:
        batch.drop_column("evidence")
