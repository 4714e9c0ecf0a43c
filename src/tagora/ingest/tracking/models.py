"""Tracking tables: hashed write keys, the durable inbox (one row per call) and the dead letters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime


class WriteKey(Base):
    __tablename__ = "tracking_write_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxCall(Base):
    """The accepted events of one acknowledged call, as sent; ``loaded_at`` is set once they are loaded.

    One row per call, not per event: the request path only checks events and commits them; the loader
    shapes them into warehouse rows and keeps each ``messageId`` once.
    """

    __tablename__ = "tracking_inbox_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    write_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracking_write_keys.id", ondelete="SET NULL")
    )
    kind: Mapped[str | None] = mapped_column(String(16))  # the endpoint's type; None for a batch
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a batch's own sentAt
    ip: Mapped[str | None] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # the accepted events: a JSON array, packed
    loaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class InboxEvent(Base):
    """The inbox before migration 0007: one shaped row per event; the loader drains rows left from then."""

    __tablename__ = "tracking_inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    write_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracking_write_keys.id", ondelete="SET NULL")
    )
    type: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(256))
    user_id: Mapped[str | None] = mapped_column(String(128))
    anonymous_id: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(32))
    sku: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    properties: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class DeadLetter(Base):
    """An event that could not be accepted, with why and exactly what was sent."""

    __tablename__ = "tracking_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str | None] = mapped_column(String(128))
    write_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracking_write_keys.id", ondelete="SET NULL")
    )
    field: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
