"""One journal and one history for transfers and swaps, keyed by subject.

Transfers had ``actions`` and ``transfer_events``; swaps a copy of each,
``swap_actions`` and ``swap_events``. Now ``actions`` and ``history`` hold both,
each row naming its ``subject`` (``transfer`` or ``swap``) and ``subject_id``.
Every row is carried over with its content; history rows keep their order per
subject (transfers' rows first, then swaps', each in id order), so their new ids
are increasing per subject as before, but a client's event-stream position
(``Last-Event-ID``) from before the upgrade does not carry over: it starts again.
Journal rows get new ids too; the relayer finds them by (subject, step).

Written by hand like the others; ``tests/store/test_migrations.py`` checks that the
migrated schema equals the models and carries a store of 0005 over.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_JOURNAL = (
    "step, chain_id, kind, payload, idempotency_key, status, tx_hash, height, reason, recorded_at"
)
_HISTORY = "at, state, reason, tx_hash, chain_id"


def _copy(target: str, columns: str, source: str, values: str, where: str = "") -> None:
    """``INSERT INTO target (columns) SELECT values FROM source [WHERE …] ORDER BY id``:
    every part is one of this module's constants, none comes from input."""
    condition = f" WHERE {where}" if where else ""
    op.execute(
        f"INSERT INTO {target} ({columns}) "  # noqa: S608 - constants only
        f"SELECT {values} FROM {source}{condition} ORDER BY id"
    )


def _serial() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "history",
        sa.Column("id", _serial(), primary_key=True),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("leg", sa.Integer(), nullable=True),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("chain_id", sa.String(63), nullable=True),
    )
    op.create_index("ix_history_subject", "history", ["subject", "subject_id", "id"])
    op.create_table(
        "journal_new",
        sa.Column("id", _serial(), primary_key=True),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=False),
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
        sa.Column("search_floor", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("subject", "subject_id", "step", name="uq_actions_subject_step"),
    )
    _copy(
        "history",
        "subject, subject_id, " + _HISTORY + ", leg",
        "transfer_events",
        "'transfer', transfer_id, " + _HISTORY + ", NULL",
    )
    _copy(
        "history",
        "subject, subject_id, " + _HISTORY + ", leg",
        "swap_events",
        "'swap', swap_id, " + _HISTORY + ", leg",
    )
    _copy(
        "journal_new",
        "subject, subject_id, " + _JOURNAL + ", search_floor",
        "actions",
        "'transfer', transfer_id, " + _JOURNAL + ", search_floor",
    )
    _copy(
        "journal_new",
        "subject, subject_id, " + _JOURNAL + ", search_floor",
        "swap_actions",
        "'swap', swap_id, " + _JOURNAL + ", NULL",
    )
    op.drop_table("swap_events")
    op.drop_table("transfer_events")
    op.drop_table("swap_actions")
    op.drop_table("actions")
    op.rename_table("journal_new", "actions")


def downgrade() -> None:
    op.create_table(
        "transfer_events",
        sa.Column("id", _serial(), primary_key=True),
        sa.Column("transfer_id", sa.String(40), sa.ForeignKey("transfers.id"), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("chain_id", sa.String(63), nullable=True),
    )
    op.create_index("ix_transfer_events_transfer", "transfer_events", ["transfer_id", "id"])
    op.create_table(
        "swap_events",
        sa.Column("id", _serial(), primary_key=True),
        sa.Column("swap_id", sa.String(40), sa.ForeignKey("swaps.id"), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("leg", sa.Integer(), nullable=True),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("chain_id", sa.String(63), nullable=True),
    )
    op.create_index("ix_swap_events_swap", "swap_events", ["swap_id", "id"])

    def journal_columns() -> list[sa.Column[object]]:
        return [
            sa.Column("id", _serial(), primary_key=True),
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
        ]

    op.create_table(
        "swap_actions",
        sa.Column("swap_id", sa.String(40), sa.ForeignKey("swaps.id"), nullable=False),
        *journal_columns(),
        sa.UniqueConstraint("swap_id", "step", name="uq_swap_actions_swap_step"),
    )
    op.create_table(
        "actions_old",
        sa.Column("transfer_id", sa.String(40), sa.ForeignKey("transfers.id"), nullable=False),
        *journal_columns(),
        sa.Column("search_floor", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("transfer_id", "step", name="uq_actions_transfer_step"),
    )
    _copy(
        "transfer_events",
        "transfer_id, " + _HISTORY,
        "history",
        "subject_id, " + _HISTORY,
        "subject = 'transfer'",
    )
    _copy(
        "swap_events",
        "swap_id, " + _HISTORY + ", leg",
        "history",
        "subject_id, " + _HISTORY + ", leg",
        "subject = 'swap'",
    )
    _copy(
        "actions_old",
        "transfer_id, " + _JOURNAL + ", search_floor",
        "actions",
        "subject_id, " + _JOURNAL + ", search_floor",
        "subject = 'transfer'",
    )
    _copy(
        "swap_actions",
        "swap_id, " + _JOURNAL,
        "actions",
        "subject_id, " + _JOURNAL,
        "subject = 'swap'",
    )
    op.drop_index("ix_history_subject", table_name="history")
    op.drop_table("history")
    op.drop_table("actions")
    op.rename_table("actions_old", "actions")
