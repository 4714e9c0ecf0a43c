"""Tag catalogue tables (metadata DB) and tag value tables (warehouse)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.datatypes as dt
from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime


class TagCategory(Base):
    """A node of the category tree (人口属性 / 消费行为 / ...); ``parent_id`` makes the tree."""

    __tablename__ = "tag_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tag_categories.id", ondelete="RESTRICT"))


class TagDefinition(Base):
    """One version of a tag. A published version is never edited: a revision is a new row."""

    __tablename__ = "tag_definitions"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("tag_categories.id", ondelete="RESTRICT"))
    owner: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    value_type: Mapped[str] = mapped_column(String(16))
    values: Mapped[list[str]] = mapped_column(JSON, default=list)
    refresh: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TagRun(Base):
    """One batch computation: which tags, as of when, how long, and what failed."""

    __tablename__ = "tag_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(16), default="all")
    customers: Mapped[int] = mapped_column(Integer, default=0)
    values_written: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)


# Warehouse: one row per (customer, tag, value). ``value`` holds enum/boolean/weighted values as text,
# ``number`` the value of a number tag; ``weight`` is 1 except for weighted multi-value tags; ``source``
# says who set it: ``run``, ``manual:<user>`` or ``model:<name>@<version>``.
TAG_VALUES = ibis.schema(
    {
        "uid": "int64",
        "tag": "string",
        "value": "string",
        "number": "float64",
        "weight": "float64",
        "computed_at": dt.Timestamp(timezone="UTC"),
        "run_id": "int64",
        "source": "string",
        "origin_uid": "int64",  # the record the value was set on: identity merges move it like a fact
    }
)
WAREHOUSE_TABLES = {"tag_values": TAG_VALUES, "tag_value_history": TAG_VALUES}
CURRENT = "tag_values"
HISTORY = "tag_value_history"
