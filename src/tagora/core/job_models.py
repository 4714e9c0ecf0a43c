"""Job tables: the persisted queue (``jobs``), the processes that run it (``job_workers``) and the
recurring entries that feed it (``job_schedules``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_not_before", "status", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # see jobs.STATUSES
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    note: Mapped[str] = mapped_column(String(256), default="")  # what the job is doing now
    created_by: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))  # the job runs with its creator's role
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # retries wait
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)  # who holds the claim
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class JobWorker(Base):
    """A process that runs jobs; a fresh heartbeat with ``warehouse`` set says it holds that warehouse."""

    __tablename__ = "job_workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(256))
    pid: Mapped[int] = mapped_column(Integer)
    warehouse: Mapped[str] = mapped_column(String(1024), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class JobSchedule(Base):
    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cron: Mapped[str] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
