"""Weighted multi-value tags (e.g. category interests): Σ behaviour weight × exponential time decay."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from tagora.tags import facts
from tagora.tags.facts import AsOf
from tagora.tags.specs import TIME_FIELD, WeightedSpec

SECONDS_PER_DAY = 86_400.0


def weighted_values(
    con: BaseBackend,
    code: str,
    spec: WeightedSpec,
    as_of: AsOf,
    scope: ir.Table | None,
) -> ir.Table:
    """Long rows of one weighted tag: each customer's ``top`` values by decayed weight."""
    end = as_of.end.timestamp()
    parts = []
    for signal in spec.signals:
        needed = {spec.field} | {f.field for f in signal.filters}
        t = facts.source_table(con, signal.source, as_of, needed, scope)
        where = facts.both(
            facts.condition(t, signal.filters), facts.window_condition(t, signal.source, as_of, spec.window)
        )
        if where is not None:
            t = t.filter(where)
        age_days = (ibis.literal(end) - t[TIME_FIELD[signal.source]].epoch_seconds()) / SECONDS_PER_DAY
        decay = (ibis.literal(0.5) ** (age_days / spec.half_life_days)) * signal.weight
        parts.append(t.filter(t[spec.field].notnull()).select(uid=t.uid, value=t[spec.field], w=decay))
    signals = parts[0] if len(parts) == 1 else ibis.union(*parts)
    summed = signals.group_by(["uid", "value"]).aggregate(weight=signals.w.sum())
    rank = ibis.row_number().over(group_by=summed.uid, order_by=[ibis.desc(summed.weight), summed.value])
    top = summed.mutate(rank=rank).filter(lambda s: s["rank"] < spec.top)
    return top.select(
        uid=top.uid,
        tag=ibis.literal(code),
        value=top.value.cast("string"),
        number=ibis.null("float64"),
        weight=top.weight.round(6),
    )
