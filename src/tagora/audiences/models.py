"""Saved segments: a definition (dynamic) or a frozen member list (static), with a daily size history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))  # dynamic (follows its tags) | static (a snapshot)
    expression: Mapped[str] = mapped_column(Text)  # the JSON form
    owner: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SegmentSnapshot(Base):
    """The members of a static segment when it was frozen, as a serialized Roaring bitmap of uids."""

    __tablename__ = "segment_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    members: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SegmentSize(Base):
    __tablename__ = "segment_sizes"
    __table_args__ = (UniqueConstraint("segment_id", "day", name="uq_segment_sizes_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    size: Mapped[int] = mapped_column(Integer)
