"""tracking: write keys, inbox and dead letters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:50:02.764975
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tagora.core.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracking_write_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_write_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_tracking_write_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_tracking_write_keys_name")),
    )
    op.create_table(
        "tracking_dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("write_key_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["write_key_id"],
            ["tracking_write_keys.id"],
            name=op.f("fk_tracking_dead_letters_write_key_id_tracking_write_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_dead_letters")),
    )
    with op.batch_alter_table("tracking_dead_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_dead_letters_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "tracking_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("write_key_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=256), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("anonymous_id", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("loaded_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["write_key_id"],
            ["tracking_write_keys.id"],
            name=op.f("fk_tracking_inbox_write_key_id_tracking_write_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_inbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_tracking_inbox_message_id")),
    )
    with op.batch_alter_table("tracking_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracking_inbox_loaded_at"), ["loaded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracking_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_inbox_loaded_at"))

    op.drop_table("tracking_inbox")
    with op.batch_alter_table("tracking_dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_dead_letters_received_at"))

    op.drop_table("tracking_dead_letters")
    op.drop_table("tracking_write_keys")
