"""The model registry (metadata DB). Per-customer results are published as model tags (tags area)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime


class ModelRun(Base):
    """One training run of a named model: what it saw (data window), how it was set up, how it scored."""

    __tablename__ = "model_runs"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_runs_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data_start: Mapped[date | None] = mapped_column(Date)
    data_end: Mapped[date] = mapped_column(Date)  # the cutoff: the last day of data the run read
    horizon_days: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
