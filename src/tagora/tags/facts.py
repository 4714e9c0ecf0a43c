"""The fact tables a statistical tag reads, as Ibis expressions with their derived columns and filters."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from tagora.tags.specs import TIME_FIELD, Filter, Measure, Window

PRODUCTS = "_tag_products"  # sku -> top-level category, copied from the catalogue for each run
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class AsOf:
    """Facts up to the end of ``day`` (UTC) count; windows end there too."""

    day: date

    @property
    def end(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(0), tzinfo=UTC)

    def start_of(self, window: Window) -> datetime:
        if window.last_days is not None:
            return self.end - timedelta(days=window.last_days)
        day = self.day
        if window.period == "month":
            first = day.replace(day=1)
        elif window.period == "quarter":
            first = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        else:
            first = day.replace(month=1, day=1)
        return datetime.combine(first, time(0), tzinfo=UTC)


def source_table(
    con: BaseBackend, source: str, as_of: AsOf, needed: set[str], scope: ir.Table | None
) -> ir.Table:
    """Facts of ``source`` up to the as-of date with the derived columns in ``needed``, for ``scope``."""
    t = con.table(source)
    when = t[TIME_FIELD[source]]
    t = t.filter(when < ibis.literal(as_of.end), t.uid.notnull())
    if "relative_price" in needed:
        # Against the SKU's average over everyone's purchases, so a subset run gives the same answer.
        usual = t.unit_price.cast("float64").mean().over(group_by=t.sku)
        t = t.mutate(relative_price=t.unit_price.cast("float64") / usual.nullif(0))
    if scope is not None:
        t = t.semi_join(scope, "uid")
    derived: dict[str, ir.Value] = {}
    if "weekday" in needed:
        derived["weekday"] = t[TIME_FIELD[source]].day_of_week.index()
    if "hour" in needed:
        derived["hour"] = t[TIME_FIELD[source]].hour()
    if derived:
        t = t.mutate(**derived)
    if "category" in needed:
        products = con.table(PRODUCTS)
        t = t.left_join(products, "sku").drop("sku_right")
    return t


def condition(t: ir.Table, filters: list[Filter]) -> ir.BooleanValue | None:
    parts = []
    for f in filters:
        column = t[f.field]
        if f.op == "in":
            parts.append(column.isin(f.value))
        elif f.op == "not in":
            parts.append(~column.isin(f.value))
        else:
            parts.append(_OPS[f.op](column, f.value))
    return reduce(operator.and_, parts) if parts else None


def window_condition(t: ir.Table, source: str, as_of: AsOf, window: Window | None) -> ir.BooleanValue | None:
    if window is None:
        return None
    result: ir.BooleanValue = t[TIME_FIELD[source]] >= ibis.literal(as_of.start_of(window))
    return result


def both(a: ir.BooleanValue | None, b: ir.BooleanValue | None) -> ir.BooleanValue | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


NUMERIC_AGGREGATES = {"sum": "sum", "avg": "mean", "min": "min", "max": "max"}  # measure fn -> Ibis method


def aggregate(t: ir.Table, source: str, measure: Measure, where: ir.BooleanValue | None) -> ir.Scalar:
    """One per-customer aggregate; ``days_since*`` give the last/first time, turned into days later."""
    when = t[TIME_FIELD[source]]
    fn = measure.fn
    if fn == "count":
        return t.uid.count(where=where)
    if fn == "days_since":
        return when.max(where=where)
    if fn == "days_since_first":
        return when.min(where=where)
    column = t[measure.field or ""]
    if fn in NUMERIC_AGGREGATES:
        value = getattr(column, NUMERIC_AGGREGATES[fn])(where=where)
        # Money is decimal: summed as such it is exact in any order. Summed as floats its last bits
        # followed the order the rows happened to be stored in, which differed between two imports of
        # the same file, and a total on a bucket's edge could land on either side.
        return value.cast("float64") if column.type().is_decimal() else value
    if fn == "distinct_count":
        return column.nunique(where=where)
    if fn == "first":
        return column.argmin(when, where=where)
    if fn == "last":
        return column.argmax(when, where=where)
    return column.mode(where=where)


def fields_needed(measures: list[Measure]) -> set[str]:
    names: set[str] = set()
    for m in measures:
        names |= {f.field for f in m.filters} | ({m.field} if m.field else set())
    return names
