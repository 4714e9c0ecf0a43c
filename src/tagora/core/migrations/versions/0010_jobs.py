"""core: the job queue, the workers that run it and the recurring schedules that feed it

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tagora.core.db

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=256), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_before", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_jobs_status_not_before", ["status", "not_before"], unique=False)
    op.create_table(
        "job_workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=256), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("warehouse", sa.String(length=1024), nullable=False),
        sa.Column("started_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_workers")),
    )
    with op.batch_alter_table("job_workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_workers_heartbeat_at"), ["heartbeat_at"], unique=False)
    op.create_table(
        "job_schedules",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("cron", sa.String(length=128), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_job_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_schedules")),
    )


def downgrade() -> None:
    op.drop_table("job_schedules")
    with op.batch_alter_table("job_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_workers_heartbeat_at"))
    op.drop_table("job_workers")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_not_before")
        batch_op.drop_index(batch_op.f("ix_jobs_kind"))
    op.drop_table("jobs")
