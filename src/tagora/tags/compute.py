"""Batch computation: published definitions -> one Ibis expression per run -> tag values in the warehouse.

Statistical tags over the same fact table share one ``GROUP BY uid`` (each measure is a filtered
aggregate), attribute tags read the profile columns, rule tags are added in dependency order on top
(a DAG; a cycle is refused), and the result is materialized once and written as long rows
(uid, tag, value, number, weight): the run's snapshot (see ``tags.models``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from graphlib import CycleError, TopologicalSorter

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from tagora.core.errors import AppError
from tagora.tags import facts
from tagora.tags.errors import TagErrorCode
from tagora.tags.facts import AsOf
from tagora.tags.models import CURRENT
from tagora.tags.population import ATTRIBUTES, PROFILES, load_products, load_profiles
from tagora.tags.rule_compile import to_ibis
from tagora.tags.rules import parse, references
from tagora.tags.schemas import TagDraft
from tagora.tags.specs import (
    AttributeSpec,
    Bucket,
    RuleSpec,
    StatisticalSpec,
    TagValueType,
    WeightedSpec,
)
from tagora.tags.weights import weighted_values

WIDE = "_tag_wide"
COMPUTED_KINDS = ("attribute", "statistical", "weighted", "rule")
VALUE_COLUMNS = ("uid", "tag", "value", "number", "weight")


def dependencies(draft: TagDraft) -> set[str]:
    if not isinstance(draft.spec, RuleSpec):
        return set()
    return {name for text in draft.spec.texts() for name in references(parse(text))}


def order(drafts: dict[str, TagDraft]) -> list[str]:
    """Codes in an order where every rule tag comes after the tags it reads."""
    graph = {code: dependencies(d) & set(drafts) for code, d in drafts.items()}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise AppError(TagErrorCode.CYCLE, f"tags depend on each other: {cycle}", 422) from exc


def with_dependencies(
    drafts: dict[str, TagDraft], wanted: Collection[str], external: Collection[str] = ()
) -> dict[str, TagDraft]:
    """The wanted tags and every computed tag their rules read (``external`` ones are read, not computed)."""
    chosen: dict[str, TagDraft] = {}
    stack = list(wanted)
    while stack:
        code = stack.pop()
        if code in chosen or code in external:
            continue
        if code not in drafts:
            raise AppError(
                TagErrorCode.NOT_LIVE, f"tag {code!r} has no published version", 409, {"tag": code}
            )
        chosen[code] = drafts[code]
        stack += [d for d in dependencies(drafts[code]) if d in drafts]
    return chosen


def _bucketed(column: ir.Value, buckets: list[Bucket]) -> ir.Value:
    if not buckets:
        return column
    branches: list[tuple[ir.BooleanValue, str]] = []
    rest: str | None = None
    for bucket in buckets:
        if bucket.below is None:
            rest = bucket.value
            break
        branches.append((column < bucket.below, bucket.value))
    value = ibis.cases(*branches, else_=rest) if branches else ibis.literal(rest, "string")
    return ibis.ifelse(column.isnull(), ibis.null("string"), value)


def _statistical(
    con: BaseBackend, wide: ir.Table, tags: dict[str, StatisticalSpec], as_of: AsOf, scope: ir.Table | None
) -> ir.Table:
    by_source: dict[str, dict[str, StatisticalSpec]] = defaultdict(dict)
    for code, spec in tags.items():
        by_source[spec.source][code] = spec
    for source, specs in sorted(by_source.items()):
        measures = [m for s in specs.values() for m in (s.measure, s.per) if m is not None]
        t = facts.source_table(con, source, as_of, facts.fields_needed(measures), scope)
        aggregates: dict[str, ir.Scalar] = {}
        for code, spec in specs.items():
            window = facts.window_condition(t, source, as_of, spec.window)
            for suffix, measure in (("", spec.measure), ("__per", spec.per)):
                if measure is not None:
                    where = facts.both(facts.condition(t, measure.filters), window)
                    aggregates[f"{code}{suffix}"] = facts.aggregate(t, source, measure, where)
        grouped = t.group_by("uid").aggregate(**aggregates)
        wide = wide.left_join(grouped, "uid").drop("uid_right")
    return wide.mutate(**{code: _finish(wide, code, spec, as_of) for code, spec in tags.items()})


def _finish(wide: ir.Table, code: str, spec: StatisticalSpec, as_of: AsOf) -> ir.Value:
    column = wide[code]
    if spec.measure.fn in ("days_since", "days_since_first"):
        column = ibis.literal(as_of.day).delta(column.date(), unit="day")
    if spec.per is not None:
        column = column.cast("float64") / wide[f"{code}__per"].cast("float64").nullif(0)
    elif column.type().is_numeric():
        column = column.cast("float64")
    if spec.default is not None:
        column = column.fill_null(spec.default)
    return _bucketed(column, spec.buckets)


def _attribute(wide: ir.Table, spec: AttributeSpec, as_of: AsOf) -> ir.Value:
    if spec.field == "age":
        born = wide.p__birthday
        before_birthday = (born.month() > as_of.day.month) | (
            (born.month() == as_of.day.month) & (born.day() > as_of.day.day)
        )
        # ifelse, not a cast: PostgreSQL cannot cast a boolean to bigint
        column: ir.Value = (as_of.day.year - born.year() - before_birthday.ifelse(1, 0)).cast("float64")
    elif spec.field == "registered_days":
        column = ibis.literal(as_of.day).delta(wide.p__registered_at.date(), unit="day").cast("float64")
    else:
        column = wide[f"p__{spec.field}"]
        if spec.mapping:
            column = column.substitute(spec.mapping)
    return _bucketed(column, spec.buckets)


def _rules(wide: ir.Table, tags: dict[str, TagDraft], codes: list[str]) -> ir.Table:
    """Add rule tags one by one (in dependency order), each reading profile fields and earlier tags."""
    profile = {a: wide[f"p__{a}"] for a in ATTRIBUTES if a not in wide.columns}
    wide = wide.mutate(**profile)
    for code in codes:
        spec = tags[code].spec
        assert isinstance(spec, RuleSpec)
        if spec.rule is not None:
            value: ir.Value = to_ibis(parse(spec.rule), wide)
        else:
            branches = [(to_ibis(parse(c.when), wide), c.value) for c in spec.cases]
            value = ibis.cases(*branches, else_=spec.otherwise)
        wide = wide.mutate(**{code: value})
    return wide.drop(*profile)


def _external(con: BaseBackend, wide: ir.Table, external: dict[str, TagValueType]) -> ir.Table:
    """Current values of manual and model tags that rules read, as columns."""
    for code, value_type in sorted(external.items()):
        t = con.table(CURRENT)
        t = t.filter(t.tag == code)
        if value_type is TagValueType.NUMBER:
            column: ir.Value = t.number
        elif value_type is TagValueType.BOOLEAN:
            column = t.value == "true"
        else:
            column = t.value
        wide = wide.left_join(t.select(uid=t.uid, **{code: column}), "uid").drop("uid_right")
    return wide


def build_wide(
    con: BaseBackend,
    drafts: dict[str, TagDraft],
    as_of: AsOf,
    scope: ir.Table | None,
    external: dict[str, TagValueType] | None = None,
) -> ir.Table:
    """One row per customer, one column per computed (non-weighted) tag."""
    wide = con.table(PROFILES)
    read = {d for draft in drafts.values() for d in dependencies(draft)}
    wide = _external(con, wide, {c: v for c, v in (external or {}).items() if c in read})
    wide = wide.mutate(age=ibis.null("float64")) if "age" not in wide.columns else wide
    stats = {c: d.spec for c, d in drafts.items() if isinstance(d.spec, StatisticalSpec)}
    if stats:
        wide = _statistical(con, wide, stats, as_of, scope)
    attrs = {
        c: _attribute(wide, d.spec, as_of) for c, d in drafts.items() if isinstance(d.spec, AttributeSpec)
    }
    if attrs:
        wide = wide.mutate(**attrs)
    rule_codes = [c for c in order(drafts) if isinstance(drafts[c].spec, RuleSpec)]
    wide = _rules(wide, drafts, rule_codes)
    scalar = [c for c, d in drafts.items() if not isinstance(d.spec, WeightedSpec)]
    return wide.select("uid", *sorted(scalar))


def long_rows(wide: ir.Table, drafts: dict[str, TagDraft]) -> list[ir.Table]:
    """(uid, tag, value, number, weight) for every non-null value."""
    parts = []
    for code in wide.columns[1:]:
        column = wide[code]
        value_type = drafts[code].value_type
        if value_type is TagValueType.NUMBER:
            value, number = ibis.null("string"), column.cast("float64")
        elif value_type is TagValueType.BOOLEAN:
            value, number = ibis.ifelse(column, "true", "false"), ibis.null("float64")
        else:
            value, number = column.cast("string"), ibis.null("float64")
        parts.append(
            wide.filter(column.notnull()).select(
                uid=wide.uid,
                tag=ibis.literal(code),
                value=value,
                number=number,
                weight=ibis.literal(1.0),
            )
        )
    return parts


def value_rows(
    con: BaseBackend,
    drafts: dict[str, TagDraft],
    as_of: AsOf,
    scope: ir.Table | None,
    external: dict[str, TagValueType],
    stage: Callable[[ir.Table], ir.Table] | None = None,
) -> ir.Table | None:
    """Every value a run writes, as one Ibis expression over ``con``'s tables (None: nothing to compute).

    Any Ibis backend holding the facts, ``_tag_profiles`` and ``_tag_products`` runs it (DuckDB in a run,
    Spark in tests/tags/test_spark.py). Each tag's rows read the wide table: ``stage`` materializes it
    once (a run uses a temporary table) so it is not recomputed per tag.
    """
    wide = build_wide(con, drafts, as_of, scope, external)
    if stage is not None:
        wide = stage(wide)
    parts = long_rows(wide, drafts)
    parts += [
        weighted_values(con, code, d.spec, as_of, scope)
        for code, d in sorted(drafts.items())
        if isinstance(d.spec, WeightedSpec)
    ]
    if not parts:
        return None
    rows = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return rows.select(*VALUE_COLUMNS)


def needs_products(drafts: dict[str, TagDraft]) -> bool:
    for draft in drafts.values():
        spec = draft.spec
        if isinstance(spec, WeightedSpec) and spec.field == "category":
            return True
        if isinstance(spec, StatisticalSpec):
            measures = [m for m in (spec.measure, spec.per) if m is not None]
            if "category" in facts.fields_needed(measures):
                return True
    return False


__all__ = [
    "COMPUTED_KINDS",
    "VALUE_COLUMNS",
    "WIDE",
    "build_wide",
    "load_products",
    "load_profiles",
    "long_rows",
    "needs_products",
    "order",
    "value_rows",
    "weighted_values",
    "with_dependencies",
]
