"""Risk controls and the held state (issue #17): limits per route and denomination, and on
each transfer its creating key, when the checks admitted it and, while held, its hold.

``risk_limits`` holds one row per ``(route_id, denom)`` (``*``: every denomination of
the route). On ``transfers``: ``created_by`` (the API key's name: the owner who may
cancel a held transfer), ``admitted_at`` (when the risk checks let it pass: it counts
in the route's windows from then; indexed with the route for the window reads), and
``hold_*`` (rule, reason, release time, origin ``api``/``source``, decision
``cancelled``/``rejected``). Transfers that exist at upgrade were never checked and
are taken as admitted at their creation (they count in windows and are not checked
again: a limit applies to what comes after it).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_HOLD_COLUMNS = ("hold_rule", "hold_reason", "hold_until", "hold_origin", "hold_decision")


def _uint(digits: int) -> sa.types.TypeEngine[object]:
    return sa.Numeric(digits, 0).with_variant(sa.String(digits), "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_limits",
        sa.Column("route_id", sa.String(128), nullable=False),
        sa.Column("denom", sa.String(256), nullable=False),
        sa.Column("max_amount", _uint(78), nullable=True),
        sa.Column("over_max", sa.String(8), nullable=False),
        sa.Column("window_seconds", sa.BigInteger(), nullable=True),
        sa.Column("window_amount", _uint(78), nullable=True),
        sa.Column("rate_per_minute", sa.Integer(), nullable=True),
        sa.Column("delay_threshold", _uint(78), nullable=True),
        sa.Column("delay_seconds", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("route_id", "denom", name="pk_risk_limits"),
        sa.ForeignKeyConstraint(
            ["route_id"], ["routes.route_id"], name="fk_risk_limits_route_id_routes"
        ),
    )
    for column in (
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.Column("admitted_at", sa.Double(), nullable=True),
        sa.Column("hold_rule", sa.String(256), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("hold_until", sa.Double(), nullable=True),
        sa.Column("hold_origin", sa.String(8), nullable=True),
        sa.Column("hold_decision", sa.String(16), nullable=True),
    ):
        op.add_column("transfers", column)
    op.execute("UPDATE transfers SET admitted_at = created_at")
    op.create_index("ix_transfers_admitted", "transfers", ["route_id", "admitted_at"])


def downgrade() -> None:
    op.drop_index("ix_transfers_admitted", table_name="transfers")
    # ALTER TABLE … DROP COLUMN rather than a batch copy (other tables point at transfers).
    for name in ("created_by", "admitted_at", *_HOLD_COLUMNS):
        op.execute(f"ALTER TABLE transfers DROP COLUMN {name}")
    op.drop_table("risk_limits")
