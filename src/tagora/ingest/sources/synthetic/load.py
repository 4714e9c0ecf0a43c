"""Cleaning rules for the demo data set folder written by ``tagora generate`` (Ibis expressions, vectorized).

Each function takes the file's rows as strings plus ``row_idx`` and returns parsed columns and ``reason``
(NULL for a loaded row, else the first rule the row breaks).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tagora.profiles.facade import CANCELLATION, INTERACTION_KINDS, MONEY, PURCHASE, UTC_TS

SOURCE = "dataset"
# The data set format: one CSV per entry, with exactly these header columns (``tagora generate`` writes it).
FILES: dict[str, tuple[str, ...]] = {
    "customers": (
        "customer_key", "name", "gender", "birthday", "phone", "email", "country", "province", "city",
        "registered_at", "source_channel", "member_tier",
    ),
    "products": ("sku", "name", "category_path", "brand", "price"),
    "order_lines": (
        "order_id", "customer_key", "ordered_at", "channel", "sku", "quantity", "unit_price", "kind",
    ),
    "events": (
        "event_id", "customer_key", "anonymous_id", "event", "occurred_at", "channel", "sku", "properties",
    ),
    "interactions": ("customer_key", "kind", "body", "author", "occurred_at"),
}  # fmt: skip


def text(col: ir.StringValue) -> ir.StringValue:
    return col.strip().nullif("")


def _reason(*rules: tuple[ir.BooleanValue, str]) -> ir.StringValue:
    return ibis.cases(*((cond.fill_null(False), name) for cond, name in rules), else_=ibis.null("string"))


def _bad(raw: ir.StringValue, parsed: ir.Value) -> ir.BooleanValue:
    """A value was given but does not parse."""
    return text(raw).notnull() & parsed.isnull()


def customers(raw: ir.Table) -> ir.Table:
    birthday = text(raw.birthday).try_cast("date")
    registered_at = text(raw.registered_at).try_cast(UTC_TS)
    fields = {f: text(raw[f]) for f in FILES["customers"] if f not in ("birthday", "registered_at")}
    return raw.select(
        "row_idx",
        **fields,
        birthday=birthday,
        registered_at=registered_at,
        reason=_reason(
            (fields["customer_key"].isnull(), "missing_customer_key"),
            (_bad(raw.birthday, birthday), "bad_birthday"),
            (_bad(raw.registered_at, registered_at), "bad_registered_at"),
        ),
    )


def products(raw: ir.Table) -> ir.Table:
    price = text(raw.price).try_cast(MONEY)
    return raw.select(
        "row_idx",
        sku=text(raw.sku),
        name=text(raw.name).fill_null(""),
        category_path=text(raw.category_path).fill_null(""),
        brand=text(raw.brand),
        price=price,
        reason=_reason(
            (text(raw.sku).isnull(), "missing_sku"),
            (_bad(raw.price, price), "bad_price"),
            (price < 0, "negative_price"),
        ),
    )


def order_lines(raw: ir.Table, uids: ir.Table) -> ir.Table:
    """Cancellation lines are stored with a negative quantity (and amount), whatever sign the file uses."""
    order_id = text(raw.order_id)
    quantity = text(raw.quantity).try_cast("int64")
    unit_price = text(raw.unit_price).try_cast(MONEY)
    ordered_at = text(raw.ordered_at).try_cast(UTC_TS)
    kind = text(raw.kind).lower()
    joined = raw.mutate(customer_key=text(raw.customer_key)).left_join(uids, "customer_key")
    sign = ibis.ifelse(kind == CANCELLATION, -1, 1)
    parsed = joined.select(
        "row_idx",
        order_id=order_id,
        source=ibis.literal(SOURCE),
        line_no=ibis.row_number().over(group_by=order_id, order_by=raw.row_idx) + 1,
        kind=kind,
        uid=joined.uid,
        origin_uid=joined.origin_uid,
        ordered_at=ordered_at,
        channel=text(raw.channel),
        sku=text(raw.sku),
        quantity=quantity.abs() * sign,
        unit_price=unit_price,
        country=ibis.null("string"),
        reason=_reason(
            (order_id.isnull(), "missing_order_id"),
            (text(raw.customer_key).isnull(), "missing_customer_key"),
            (joined.uid.isnull(), "unknown_customer"),
            (ordered_at.isnull(), "bad_ordered_at"),
            (quantity.isnull(), "bad_quantity"),
            (unit_price.isnull(), "bad_unit_price"),
            (~kind.isin([PURCHASE, CANCELLATION]), "bad_kind"),
            (text(raw.sku).isnull(), "missing_sku"),
            (quantity == 0, "zero_quantity"),
            (unit_price <= 0, "non_positive_unit_price"),
        ),
    )
    return parsed.mutate(amount=(parsed.quantity * parsed.unit_price).cast(MONEY))


def orders(lines: ir.Table) -> ir.Table:
    t = lines
    return t.group_by(["order_id", "source", "kind"]).aggregate(
        uid=t.uid.min(),
        origin_uid=t.origin_uid.min(),
        ordered_at=t.ordered_at.min(),
        channel=t.channel.argmin(t.line_no),
        country=t.country.min(),
        line_count=t.count(),
        amount=t.amount.sum().cast(MONEY),
    )


def events(raw: ir.Table, uids: ir.Table) -> ir.Table:
    occurred_at = text(raw.occurred_at).try_cast(UTC_TS)
    properties = text(raw.properties).fill_null("{}")
    joined = raw.mutate(customer_key=text(raw.customer_key)).left_join(uids, "customer_key")
    return joined.select(
        "row_idx",
        event_id=text(raw.event_id),
        uid=joined.uid,
        origin_uid=joined.origin_uid,
        anonymous_id=text(raw.anonymous_id),
        event=text(raw.event),
        occurred_at=occurred_at,
        channel=text(raw.channel),
        sku=text(raw.sku),
        properties=properties,
        reason=_reason(
            (text(raw.event_id).isnull(), "missing_event_id"),
            (
                ibis.row_number().over(group_by=text(raw.event_id), order_by=raw.row_idx) > 0,
                "duplicate_event_id",
            ),
            (text(raw.event).isnull(), "missing_event"),
            (occurred_at.isnull(), "bad_occurred_at"),
            (text(raw.customer_key).isnull() & text(raw.anonymous_id).isnull(), "missing_identity"),
            (text(raw.customer_key).notnull() & joined.uid.isnull(), "unknown_customer"),
            (properties.try_cast("json").isnull(), "bad_properties"),
        ),
    )


def interactions(raw: ir.Table, uids: ir.Table) -> ir.Table:
    occurred_at = text(raw.occurred_at).try_cast(UTC_TS)
    kind = text(raw.kind).lower()
    joined = raw.mutate(customer_key=text(raw.customer_key)).left_join(uids, "customer_key")
    return joined.select(
        "row_idx",
        uid=joined.uid,
        origin_uid=joined.origin_uid,
        kind=kind,
        body=raw.body.fill_null(""),
        author=text(raw.author).fill_null(""),
        occurred_at=occurred_at,
        reason=_reason(
            (joined.uid.isnull(), "unknown_customer"),
            (~kind.isin(INTERACTION_KINDS), "bad_kind"),
            (occurred_at.isnull(), "bad_occurred_at"),
        ),
    )
