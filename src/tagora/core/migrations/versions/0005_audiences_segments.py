"""audiences segments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 12:59:41.559665
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tagora.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("code", name=op.f("uq_segments_code")),
    )
    op.create_table(
        "segment_sizes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_sizes_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_sizes")),
        sa.UniqueConstraint("segment_id", "day", name="uq_segment_sizes_day"),
    )
    with op.batch_alter_table("segment_sizes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_sizes_segment_id"), ["segment_id"], unique=False)

    op.create_table(
        "segment_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("members", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("taken_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_snapshots_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_snapshots")),
    )
    with op.batch_alter_table("segment_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_snapshots_segment_id"), ["segment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("segment_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_snapshots_segment_id"))

    op.drop_table("segment_snapshots")
    with op.batch_alter_table("segment_sizes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_sizes_segment_id"))

    op.drop_table("segment_sizes")
    op.drop_table("segments")
