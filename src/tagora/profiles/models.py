"""Customer, product and interaction tables; the order and event facts in the warehouse."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt
from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime


class Customer(Base):
    __tablename__ = "customers"

    # ``uid`` is dense (1, 2, 3, ...) so it can index Roaring bitmaps directly.
    uid: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_key: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(256), index=True)
    gender: Mapped[str | None] = mapped_column(String(16))
    birthday: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(256), index=True)
    country: Mapped[str | None] = mapped_column(String(64))
    province: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(64))
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_channel: Mapped[str | None] = mapped_column(String(64))
    member_tier: Mapped[str | None] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set when identity resolution found this record to be the same person as another (the survivor).
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("customers.uid"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    category_path: Mapped[str] = mapped_column(String(256), default="")
    brand: Mapped[str | None] = mapped_column(String(128))
    price: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Interaction(Base):
    """A CRM note, call, visit or message logged by staff about a customer."""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    # The record it was logged on; ``uid`` is the person that record belongs to now (see identity).
    origin_uid: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


MONEY = dt.Decimal(18, 4)
UTC_TS = dt.Timestamp(timezone="UTC")

# ``uid`` is the person a fact belongs to now, ``origin_uid`` the record its source named (identity
# merges rewrite ``uid`` from ``origin_uid``). ``kind`` keeps purchases ("purchase") apart from
# cancellations and returns ("cancellation").
ORDERS = ibis.schema(
    {
        "order_id": "string",
        "source": "string",
        "kind": "string",
        "uid": "int64",
        "origin_uid": "int64",
        "ordered_at": UTC_TS,
        "channel": "string",
        "country": "string",
        "line_count": "int64",
        "amount": MONEY,
    }
)
ORDER_LINES = ibis.schema(
    {
        "order_id": "string",
        "source": "string",
        "line_no": "int64",
        "kind": "string",
        "uid": "int64",
        "origin_uid": "int64",
        "ordered_at": UTC_TS,
        "sku": "string",
        "quantity": "int64",
        "unit_price": MONEY,
        "amount": MONEY,
    }
)
EVENTS = ibis.schema(
    {
        "event_id": "string",
        "uid": "int64",
        "origin_uid": "int64",
        "anonymous_id": "string",
        "event": "string",
        "occurred_at": UTC_TS,
        "channel": "string",
        "sku": "string",
        "properties": "string",
    }
)

WAREHOUSE_TABLES = {"orders": ORDERS, "order_lines": ORDER_LINES, "events": EVENTS}
PURCHASE = "purchase"
CANCELLATION = "cancellation"
