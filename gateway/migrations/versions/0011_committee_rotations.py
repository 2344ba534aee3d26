"""Committee rotations (issue #20): the rotations the hub drives and the old committee's
signatures over each.

``committee_rotations`` holds one rotation per (chain, epoch): the new committee, its
state (``draining``, ``submitted``, ``done``, ``failed``), when the attestation hold
began and the rotation transaction; ``rotation_signatures`` one signature per notary
and rotation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _uint(digits: int) -> sa.types.TypeEngine[object]:
    return sa.Numeric(digits, 0).with_variant(sa.String(digits), "sqlite")


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "committee_rotations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("route_id", sa.String(128), nullable=False),
        sa.Column("chain_id", sa.String(128), nullable=False),
        sa.Column("epoch", _uint(20), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("hold_since", sa.Double(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(256), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_committee_rotations"),
        sa.ForeignKeyConstraint(
            ["route_id"], ["routes.route_id"], name="fk_committee_rotations_route_id_routes"
        ),
    )
    op.create_index("ix_committee_rotations_chain_id", "committee_rotations", ["chain_id"])
    op.create_index("ix_committee_rotations_state", "committee_rotations", ["state"])
    op.create_table(
        "rotation_signatures",
        sa.Column("id", _serial(), nullable=False),
        sa.Column("rotation_id", sa.String(40), nullable=False),
        sa.Column("notary", sa.String(256), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rotation_signatures"),
        sa.ForeignKeyConstraint(
            ["rotation_id"],
            ["committee_rotations.id"],
            name="fk_rotation_signatures_rotation_id_committee_rotations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("rotation_id", "notary", name="uq_rotation_signatures_notary"),
    )
    op.create_index("ix_rotation_signatures_rotation_id", "rotation_signatures", ["rotation_id"])


def downgrade() -> None:
    op.drop_table("rotation_signatures")
    op.drop_table("committee_rotations")
