"""Atomic swaps (HTLC): swaps, their two legs, their history and their action journal.

Written by hand like 0001, so the DDL is frozen here; ``tests/store/test_migrations.py``
checks that the migrated schema and ``gateway.store.models`` agree.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _uint(digits: int) -> sa.types.TypeEngine[object]:
    """Exact unsigned integers: NUMERIC on PostgreSQL, the decimal string on SQLite."""
    return sa.Numeric(digits, 0).with_variant(sa.String(digits), "sqlite")


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "swaps",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("hashlock", sa.LargeBinary(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("preimage", sa.LargeBinary(32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("idempotency_key", sa.String(256), nullable=True),
        sa.Column("request_hash", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_swaps"),
        sa.UniqueConstraint("hashlock", name="uq_swaps_hashlock"),
        sa.UniqueConstraint("idempotency_key", name="uq_swaps_idempotency_key"),
    )
    op.create_index("ix_swaps_created", "swaps", ["created_at", "id"])
    op.create_index("ix_swaps_due", "swaps", ["next_attempt_at"])
    op.create_index("ix_swaps_state", "swaps", ["state"])

    op.create_table(
        "swap_legs",
        sa.Column("swap_id", sa.String(40), nullable=False),
        sa.Column("leg", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.String(63), nullable=False),
        sa.Column("asset", sa.String(256), nullable=False),
        sa.Column("amount", _uint(78), nullable=False),
        sa.Column("sender", sa.String(256), nullable=False),
        sa.Column("receiver", sa.String(256), nullable=False),
        sa.Column("timelock", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claim_delegated", sa.Boolean(), nullable=False),
        sa.Column("refund_delegated", sa.Boolean(), nullable=False),
        sa.Column("lock_id", sa.LargeBinary(), nullable=True),
        sa.Column("lock_tx", sa.LargeBinary(), nullable=True),
        sa.Column("lock_height", sa.BigInteger(), nullable=True),
        sa.Column("claim_tx", sa.LargeBinary(), nullable=True),
        sa.Column("refund_tx", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("swap_id", "leg", name="pk_swap_legs"),
        sa.ForeignKeyConstraint(["swap_id"], ["swaps.id"], name="fk_swap_legs_swap_id_swaps"),
    )
    op.create_index("ix_swap_legs_lock", "swap_legs", ["chain_id", "lock_id"])

    op.create_table(
        "swap_events",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("swap_id", sa.String(40), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("leg", sa.Integer(), nullable=True),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("chain_id", sa.String(63), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_swap_events"),
        sa.ForeignKeyConstraint(["swap_id"], ["swaps.id"], name="fk_swap_events_swap_id_swaps"),
    )
    op.create_index("ix_swap_events_swap", "swap_events", ["swap_id", "id"])

    op.create_table(
        "swap_actions",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("swap_id", sa.String(40), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("height", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_swap_actions"),
        sa.ForeignKeyConstraint(["swap_id"], ["swaps.id"], name="fk_swap_actions_swap_id_swaps"),
        sa.UniqueConstraint("swap_id", "step", name="uq_swap_actions_swap_step"),
    )


def downgrade() -> None:
    for table in ("swap_actions", "swap_events", "swap_legs", "swaps"):
        op.drop_table(table)
