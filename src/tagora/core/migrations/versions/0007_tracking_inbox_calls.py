"""tracking: the inbox holds one row per call (the events as sent); the loader shapes them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 15:05:00.000000

``tracking_inbox`` (one shaped row per event) stays: the loader drains the rows it still holds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tagora.core.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracking_inbox_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("write_key_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("received_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("loaded_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["write_key_id"],
            ["tracking_write_keys.id"],
            name=op.f("fk_tracking_inbox_calls_write_key_id_tracking_write_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_inbox_calls")),
    )
    with op.batch_alter_table("tracking_inbox_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracking_inbox_calls_loaded_at"), ["loaded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracking_inbox_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_inbox_calls_loaded_at"))

    op.drop_table("tracking_inbox_calls")
