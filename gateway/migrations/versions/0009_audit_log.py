"""The tamper-evident audit log, its head, the hub's checkpoints, and route pauses.

``audit_log`` holds the hash-chained entries (``docs/supervision.md``);
``audit_head`` is the one row every append locks, seeded with ``seq = 0`` and
the genesis link (32 zero bytes), so the chain cannot fork under two writers;
``audit_checkpoints`` the hub's signatures over heads and their anchors.
``routes.paused_reason`` is a supervisor's pause (null: running). The chain
starts empty at this revision: earlier history rows are not back-filled (they
were never hashed, so back-filling them would vouch for what nobody checked).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev", sa.LargeBinary(32), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject", "subject_id", "seq"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "seq"])
    op.create_index("ix_audit_log_at", "audit_log", ["at_ms"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": bytes(32)}])
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("signature", sa.LargeBinary(65), nullable=False),
        sa.Column("anchor_chain", sa.String(63), nullable=True),
        sa.Column("anchor_tx", sa.LargeBinary(), nullable=True),
        sa.Column("anchor_account", sa.LargeBinary(), nullable=True),
        sa.Column("anchor_height", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_checkpoints"),
    )
    op.add_column("routes", sa.Column("paused_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE routes DROP COLUMN paused_reason")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_table("audit_log")
