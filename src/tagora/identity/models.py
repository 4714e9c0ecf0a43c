"""Identities: every (type, value) a system knows a person by, pointing at one profile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("type", "value", name="uq_identities_type_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(256))
    source_system: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
