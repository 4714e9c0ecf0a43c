"""Read queries of the profiles area; other areas reach them through ``facade``."""

from __future__ import annotations

import heapq
import json
from collections.abc import Collection
from decimal import Decimal
from typing import Any

import ibis
from ibis.backends import BaseBackend
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tagora.core.clock import as_utc
from tagora.core.errors import AppError, CoreErrorCode, not_found
from tagora.identity import facade as identity
from tagora.privacy.facade import mask_email, mask_phone, mask_text
from tagora.profiles.models import CANCELLATION, PURCHASE, Customer, Interaction, Product
from tagora.profiles.schemas import (
    CustomerPublic,
    CustomerSummary,
    OrderSummary,
    Page,
    TimelineItem,
)

MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000  # past it an offset overflows SQLite's integers (a 500 before)


def present(customer: Customer, masked: bool) -> CustomerPublic:
    return CustomerPublic(
        uid=customer.uid,
        customer_key=mask_key(customer.customer_key) if masked else customer.customer_key,
        name=customer.name,
        phone=mask_phone(customer.phone) if masked else customer.phone,
        email=mask_email(customer.email) if masked else customer.email,
        country=customer.country,
        city=customer.city,
        member_tier=customer.member_tier,
        gender=customer.gender,
        birthday=customer.birthday,
        province=customer.province,
        registered_at=customer.registered_at,
        source_channel=customer.source_channel,
        owner_id=customer.owner_id,
    )


def mask_key(key: str) -> str:
    """A customer key made of an e-mail, a phone or an ID number (a tracking ``userId``, say) is personal
    data: masked like the fields it copies. Other keys are shown as they are."""
    return mask_text(key) or key


def summarize(customer: Customer, masked: bool) -> CustomerSummary:
    return CustomerSummary.model_validate(
        present(customer, masked).model_dump(include=set(CustomerSummary.model_fields))
    )


def clamp_page(page: int, page_size: int) -> tuple[int, int]:
    if page > MAX_PAGE:
        message = f"page: at most {MAX_PAGE:,}"
        raise AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": "page", "max": MAX_PAGE})
    return max(page, 1), min(max(page_size, 1), MAX_PAGE_SIZE)


def escape_like(text: str) -> str:
    """``text`` for a LIKE pattern (with ``ESCAPE '\\'``): its ``%`` and ``_`` match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_customers(
    session: Session,
    q: str,
    page: int = 1,
    page_size: int = 20,
    masked: bool = True,
    people: Collection[int] = (),
) -> Page[CustomerSummary]:
    """Match a name (case-insensitive part of it, wildcards taken literally), a customer key (exactly) or
    ``people``: those an exact phone, e-mail or ID number found (identity's blind index). Phones and
    e-mails are never matched in part, so a search shows no more of them than their mask does."""
    page, page_size = clamp_page(page, page_size)
    query = select(Customer).where(Customer.merged_into.is_(None))
    q = q.strip()
    if q:
        conditions = [
            func.lower(Customer.name).like(f"%{escape_like(q.lower())}%", escape="\\"),
            Customer.customer_key == q,
        ]
        if people:
            conditions.append(Customer.uid.in_(sorted(people)))
        query = query.where(or_(*conditions))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Customer.uid).offset((page - 1) * page_size).limit(page_size))
    return Page(items=[summarize(c, masked) for c in rows], total=total, page=page, page_size=page_size)


def find_customer(session: Session, key: str) -> Customer:
    """By external key, else by numeric uid; a record merged into another person gives that person."""
    customer = session.scalar(select(Customer).where(Customer.customer_key == key))
    if customer is None and key.isascii() and key.isdigit() and len(key) < 19:  # a uid fits in 64 bits
        customer = session.get(Customer, int(key))
    if customer is None:
        raise not_found("customer", key)
    if customer.merged_into is not None:
        return session.get_one(Customer, customer.merged_into)
    return customer


def _money(value: Any) -> Decimal:
    return Decimal("0") if value is None or value != value else Decimal(str(value)).quantize(Decimal("0.01"))


def order_summary(warehouse: BaseBackend, uid: int) -> OrderSummary:
    orders = warehouse.table("orders")
    mine = orders.filter(orders.uid == uid)
    is_purchase = mine.kind == PURCHASE
    row = (
        mine.aggregate(
            order_count=is_purchase.sum(),
            total_spend=mine.amount.sum(where=is_purchase),
            first_order_at=mine.ordered_at.min(where=is_purchase),
            last_order_at=mine.ordered_at.max(where=is_purchase),
            cancellation_count=(mine.kind == CANCELLATION).sum(),
            cancelled_amount=mine.amount.sum(where=mine.kind == CANCELLATION),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    count = int(row["order_count"] or 0)
    spend = _money(row["total_spend"])
    return OrderSummary(
        order_count=count,
        total_spend=spend,
        first_order_at=row["first_order_at"],
        last_order_at=row["last_order_at"],
        average_order_value=(spend / count).quantize(Decimal("0.01")) if count else None,
        cancellation_count=int(row["cancellation_count"] or 0),
        cancelled_amount=_money(row["cancelled_amount"]),
    )


def _latest(table: ibis.Table, time_col: str, limit: int) -> list[dict[str, Any]]:
    return table.order_by(ibis.desc(time_col)).limit(limit).to_pyarrow().to_pylist()


def timeline(
    session: Session, warehouse: BaseBackend, uid: int, page: int = 1, page_size: int = 20
) -> Page[TimelineItem]:
    """Orders, cancellations, events and interactions, newest first, merged across both stores."""
    page, page_size = clamp_page(page, page_size)
    need = page * page_size
    orders = warehouse.table("orders").filter(lambda t: t.uid == uid)
    events = warehouse.table("events").filter(lambda t: t.uid == uid)
    total = int(orders.count().execute()) + int(events.count().execute())
    total += session.scalar(select(func.count()).where(Interaction.uid == uid)) or 0

    order_items = [
        TimelineItem(
            at=as_utc(o["ordered_at"]),
            kind="order" if o["kind"] == PURCHASE else "cancellation",
            title=o["order_id"],
            detail={"amount": str(_money(o["amount"])), "lines": o["line_count"], "channel": o["channel"]},
        )
        for o in _latest(orders, "ordered_at", need)
    ]
    event_items = [
        TimelineItem(
            at=as_utc(e["occurred_at"]),
            kind="event",
            title=e["event"],
            detail={
                "channel": e["channel"],
                "sku": e["sku"],
                "properties": json.loads(e["properties"] or "{}"),
            },
        )
        for e in _latest(events, "occurred_at", need)
    ]
    notes = session.scalars(
        select(Interaction).where(Interaction.uid == uid).order_by(Interaction.occurred_at.desc()).limit(need)
    )
    note_items = [
        TimelineItem(
            at=n.occurred_at, kind="interaction", title=n.kind, detail={"body": n.body, "author": n.author}
        )
        for n in notes
    ]
    merged = list(heapq.merge(order_items, event_items, note_items, key=lambda i: i.at, reverse=True))
    return Page(items=merged[need - page_size : need], total=total, page=page, page_size=page_size)


def monthly_revenue(warehouse: BaseBackend) -> list[dict[str, Any]]:
    orders = warehouse.table("orders")
    purchases = orders.filter(orders.kind == PURCHASE)
    month = purchases.ordered_at.truncate("M").name("month")
    rows = (
        purchases.group_by(month)
        .aggregate(orders=purchases.count(), revenue=purchases.amount.sum())
        .order_by("month")
        .to_pyarrow()
        .to_pylist()
    )
    return [
        {
            "month": r["month"].strftime("%Y-%m"),
            "orders": int(r["orders"]),
            "revenue": float(_money(r["revenue"])),
        }
        for r in rows
    ]


def store_counts(session: Session, warehouse: BaseBackend) -> dict[str, int | float]:
    orders = warehouse.table("orders")
    purchases = orders.filter(orders.kind == PURCHASE)
    return {
        "customers": session.scalar(select(func.count()).where(Customer.merged_into.is_(None))) or 0,
        "merged_records": session.scalar(select(func.count()).where(Customer.merged_into.isnot(None))) or 0,
        "identities": identity.count_identities(session),
        "products": session.scalar(select(func.count()).select_from(Product)) or 0,
        "interactions": session.scalar(select(func.count()).select_from(Interaction)) or 0,
        "orders": int(purchases.count().execute()),
        "cancellations": int(orders.filter(orders.kind == CANCELLATION).count().execute()),
        "order_lines": int(warehouse.table("order_lines").count().execute()),
        "events": int(warehouse.table("events").count().execute()),
        "revenue": float(_money(purchases.amount.sum().execute())),
    }


def known_skus(session: Session, skus: list[str]) -> set[str]:
    """Those of ``skus`` that the product catalogue has."""
    found: set[str] = set()
    for start in range(0, len(skus), 500):
        found.update(session.scalars(select(Product.sku).where(Product.sku.in_(skus[start : start + 500]))))
    return found


def customer_keys_to_uids(session: Session, keys: list[str]) -> dict[str, int]:
    """Each known key's own record uid."""
    return {key: origin for key, (_, origin) in key_uids(session, keys).items()}


def key_uids(session: Session, keys: list[str]) -> dict[str, tuple[int, int]]:
    """Each known key -> (uid of the person now, uid of its own record): a fact's ``uid, origin_uid``."""
    out: dict[str, tuple[int, int]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = session.execute(
            select(Customer.customer_key, Customer.uid, Customer.merged_into).where(
                Customer.customer_key.in_(chunk)
            )
        )
        out.update({key: (merged_into or uid, uid) for key, uid, merged_into in rows})
    return out


def merged_records(session: Session, uid: int) -> list[Customer]:
    """The records resolved into the person ``uid`` (not the surviving record itself)."""
    return list(session.scalars(select(Customer).where(Customer.merged_into == uid).order_by(Customer.uid)))


def person_uid(session: Session, key: str) -> int:
    """The uid of the person a customer key (or uid) names, following merges."""
    return find_customer(session, key).uid


def summaries_for(session: Session, uids: list[int], masked: bool) -> list[CustomerSummary]:
    """Customers by uid, in the order given (unknown uids are skipped)."""
    found: dict[int, CustomerSummary] = {}
    for start in range(0, len(uids), 500):
        chunk = uids[start : start + 500]
        for customer in session.scalars(select(Customer).where(Customer.uid.in_(chunk))):
            found[customer.uid] = summarize(customer, masked)
    return [found[u] for u in uids if u in found]


def live_uids(session: Session) -> list[int]:
    """Every person's uid (records merged into another person are not people of their own)."""
    return list(
        session.scalars(select(Customer.uid).where(Customer.merged_into.is_(None)).order_by(Customer.uid))
    )


def population_version(session: Session) -> str:
    """Changes when people are added, merged or unmerged; cheap (indexed) at any size."""
    top = session.scalar(select(func.max(Customer.uid)))
    merged = Customer.merged_into.isnot(None)
    n, into = session.execute(select(func.count(), func.sum(Customer.merged_into)).where(merged)).one()
    return f"{top}:{n}:{into}"


def skus_in_category(session: Session, category: str) -> list[str]:
    """Products whose category path is ``category`` or below it (``服装`` covers ``服装/女装``)."""
    rows = session.scalars(
        select(Product.sku).where(
            or_(Product.category_path == category, Product.category_path.like(f"{category}/%"))
        )
    )
    return list(rows)


def buyers(warehouse: BaseBackend, skus: list[str]) -> list[int]:
    """The people who bought any of ``skus`` (purchases, not cancellations)."""
    lines = warehouse.table("order_lines")
    bought = lines.filter(lines.sku.isin(skus), lines.kind == PURCHASE, lines.uid.notnull())
    return [int(u) for u in bought.select("uid").distinct().to_pyarrow()["uid"].to_pylist()]


def product_catalogue(session: Session) -> list[dict[str, Any]]:
    """Every product's ``sku, name, category_path, brand, price`` (price a float or None)."""
    rows = session.execute(
        select(Product.sku, Product.name, Product.category_path, Product.brand, Product.price).order_by(
            Product.sku
        )
    )
    return [
        {
            "sku": sku,
            "name": name,
            "category_path": cat or "",
            "brand": brand,
            "price": None if p is None else float(p),
        }
        for sku, name, cat, brand, p in rows
    ]


def customer_keys(session: Session, uids: list[int], masked: bool = False) -> dict[int, str]:
    """Each known uid's external key (``masked``: as a viewer without ``pii:view`` may see it)."""
    out: dict[int, str] = {}
    for start in range(0, len(uids), 500):
        chunk = [int(u) for u in uids[start : start + 500]]
        rows = session.execute(select(Customer.uid, Customer.customer_key).where(Customer.uid.in_(chunk)))
        out.update({uid: mask_key(key) if masked else key for uid, key in rows})
    return out
