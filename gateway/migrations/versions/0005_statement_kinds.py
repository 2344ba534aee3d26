"""Notary statements carry their kind: ``delivery`` or ``nondelivery``, a column of its own.

Before, a non-delivery statement was stored under the key ``<route>#nondelivery``
in the ``route_id`` column (so that one notary's delivery and non-delivery of a
packet did not count as equivocation), and a reader had to recognise a
non-delivery by its digest. Now ``notary_signatures.kind`` and
``equivocations.kind`` say it, the route id is the route id, and the unique
constraints include the kind. Rows written the old way are carried over:
``route_id`` loses its ``#nondelivery`` suffix and ``kind`` says ``nondelivery``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SUFFIX = "#nondelivery"
_TABLES = (
    ("notary_signatures", "uq_notary_signatures_packet", ["route_id", "sequence", "notary"],
     "uq_notary_signatures_statement", ["route_id", "sequence", "kind", "notary"]),
    ("equivocations", "uq_equivocations_evidence", ["notary", "route_id", "sequence", "digest_b"],
     "uq_equivocations_evidence", ["notary", "route_id", "sequence", "kind", "digest_b"]),
)  # fmt: skip


def upgrade() -> None:
    conn = op.get_bind()
    for table, old_name, _old_cols, new_name, new_cols in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("kind", sa.String(16), nullable=False, server_default="delivery")
            )
            batch.drop_constraint(old_name, type_="unique")
        rows = sa.table(table, sa.column("route_id", sa.String), sa.column("kind", sa.String))
        old = conn.execute(
            sa.select(rows.c.route_id).where(rows.c.route_id.like("%" + SUFFIX)).distinct()
        ).scalars()
        for route_id in list(old):
            conn.execute(
                rows.update()
                .where(rows.c.route_id == route_id)
                .values(route_id=route_id[: -len(SUFFIX)], kind="nondelivery")
            )
        with op.batch_alter_table(table) as batch:
            batch.create_unique_constraint(new_name, new_cols)


def downgrade() -> None:
    conn = op.get_bind()
    for table, old_name, old_cols, new_name, _new_cols in _TABLES:
        rows = sa.table(table, sa.column("route_id", sa.String), sa.column("kind", sa.String))
        conn.execute(
            rows.update()
            .where(rows.c.kind == "nondelivery")
            .values(route_id=rows.c.route_id + SUFFIX)
        )
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(new_name, type_="unique")
            batch.drop_column("kind")
            batch.create_unique_constraint(old_name, old_cols)
