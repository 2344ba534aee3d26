"""Batched attestation (issue #15): batches, their members and the notaries' batch signatures.

A batch is one route's packets under one notary statement (``core.batches``):
``batches`` holds the statement's fields, the digest the acting chain's committee
signs, its state and a lease (one relayer drives a batch at a time);
``batch_members`` each transfer's leaf index (a transfer is in at most one batch
of each kind); ``batch_signatures`` one signature per notary and batch. The
batch's chain actions are journaled in ``actions`` with subject ``batch``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _uint(digits: int) -> sa.types.TypeEngine[object]:
    return sa.Numeric(digits, 0).with_variant(sa.String(digits), "sqlite")


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("route_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("epoch", _uint(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batches"),
        sa.ForeignKeyConstraint(
            ["route_id"], ["routes.route_id"], name="fk_batches_route_id_routes"
        ),
    )
    op.create_index("ix_batches_due", "batches", ["next_attempt_at"])
    op.create_index("ix_batches_state", "batches", ["state", "route_id"])
    op.create_table(
        "batch_members",
        sa.Column("batch_id", sa.String(40), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "idx", name="pk_batch_members"),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name="fk_batch_members_batch_id_batches",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["transfers.id"], name="fk_batch_members_transfer_id_transfers"
        ),
        sa.UniqueConstraint("transfer_id", "kind", name="uq_batch_members_transfer_kind"),
    )  # fmt: skip
    op.create_table(
        "batch_signatures",
        sa.Column("id", _serial(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(40), nullable=False),
        sa.Column("notary", sa.String(256), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_batch_signatures"),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name="fk_batch_signatures_batch_id_batches",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("batch_id", "notary", name="uq_batch_signatures_batch_notary"),
    )  # fmt: skip
    op.create_index("ix_batch_signatures_batch_id", "batch_signatures", ["batch_id"])


def downgrade() -> None:
    op.drop_table("batch_signatures")
    op.drop_table("batch_members")
    op.drop_table("batches")
