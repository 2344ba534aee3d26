"""Payload policies per route (issue 17 item 4): ``payload_policies``.

One row per route that has a policy: the ordered rules as JSON text
(``core.policies.PolicyRule.to_json``, validated when written), the version
(each write moves it on by one) and when it was written. A route without a row
has no policy: every transfer passes it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payload_policies",
        sa.Column("route_id", sa.String(128), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("route_id", name="pk_payload_policies"),
        sa.ForeignKeyConstraint(
            ["route_id"], ["routes.route_id"], name="fk_payload_policies_route_id_routes"
        ),
    )


def downgrade() -> None:
    op.drop_table("payload_policies")
