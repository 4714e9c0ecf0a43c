"""Tag definitions as data: the pydantic spec of each kind of tag, validated before it is stored.

A spec says *what* a tag is (a profile field, an aggregation over facts, a rule, ...); ``compute``
turns published specs into Ibis expressions. Nothing here touches a database.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TagType(StrEnum):
    ATTRIBUTE = "attribute"
    STATISTICAL = "statistical"
    RULE = "rule"
    MODEL = "model"
    MANUAL = "manual"


class TagValueType(StrEnum):
    BOOLEAN = "boolean"
    ENUM = "enum"
    NUMBER = "number"
    WEIGHTED = "weighted"


class Refresh(StrEnum):
    SCHEDULED = "scheduled"
    REALTIME = "realtime"
    MANUAL = "manual"


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Scalar = str | float | bool
Op = Literal["=", "!=", "in", "not in", "<", "<=", ">", ">="]

# The columns a statistical tag may read, per fact table. ``category`` (top level of the product's
# category path), ``relative_price`` (unit price / the SKU's average), ``weekday`` (0 = Monday) and
# ``hour`` are derived.
SOURCE_FIELDS: dict[str, frozenset[str]] = {
    "orders": frozenset(
        {"order_id", "kind", "channel", "country", "line_count", "amount", "ordered_at", "weekday", "hour"}
    ),
    "order_lines": frozenset(
        {"order_id", "kind", "sku", "quantity", "unit_price", "amount", "ordered_at", "weekday", "hour"}
        | {"category", "relative_price"}
    ),
    "events": frozenset({"event", "channel", "sku", "occurred_at", "weekday", "hour", "category"}),
}
TIME_FIELD = {"orders": "ordered_at", "order_lines": "ordered_at", "events": "occurred_at"}
Source = Literal["orders", "order_lines", "events"]


class Filter(_Spec):
    field: str
    op: Op = "="
    value: Scalar | list[Scalar]

    @model_validator(mode="after")
    def _list_for_in(self) -> Filter:
        if (self.op in ("in", "not in")) != isinstance(self.value, list):
            raise ValueError(
                f"filter on {self.field!r}: 'in'/'not in' take a list, other operators one value"
            )
        return self


class Window(_Spec):
    """``last_days`` before the as-of date, or the calendar ``period`` that contains it."""

    last_days: int | None = Field(None, ge=1, le=36500)
    period: Literal["month", "quarter", "year"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Window:
        if (self.last_days is None) == (self.period is None):
            raise ValueError("a window has either last_days or period")
        return self


MeasureFn = Literal[
    "count", "sum", "avg", "min", "max", "distinct_count", "first", "last", "mode",
    "days_since", "days_since_first",
]  # fmt: skip
_NEEDS_FIELD = {"sum", "avg", "min", "max", "distinct_count", "first", "last", "mode"}


class Measure(_Spec):
    fn: MeasureFn
    field: str | None = None
    filters: list[Filter] = []

    @model_validator(mode="after")
    def _field(self) -> Measure:
        if self.fn in _NEEDS_FIELD and not self.field:
            raise ValueError(f"measure {self.fn!r} needs a field")
        return self


class Bucket(_Spec):
    """Numbers below ``below`` (the first bucket that fits) get ``value``; no ``below`` takes the rest."""

    value: str
    below: float | None = None


class AttributeSpec(_Spec):
    kind: Literal["attribute"] = "attribute"
    field: Literal[
        "gender", "age", "country", "province", "city", "member_tier", "source_channel", "registered_days"
    ]
    mapping: dict[str, str] = {}
    buckets: list[Bucket] = []


class StatisticalSpec(_Spec):
    kind: Literal["statistical"] = "statistical"
    source: Source
    measure: Measure
    per: Measure | None = None  # a ratio: measure / per
    window: Window | None = None
    buckets: list[Bucket] = []
    default: float | None = None  # the value of a customer without facts (0 for counts and sums)

    @model_validator(mode="after")
    def _fields_exist(self) -> StatisticalSpec:
        allowed = SOURCE_FIELDS[self.source]
        for measure in (self.measure, self.per):
            if measure is None:
                continue
            names = [measure.field] if measure.field else []
            for name in names + [f.field for f in measure.filters]:
                if name not in allowed:
                    raise ValueError(
                        f"{self.source} has no field {name!r} (one of: {', '.join(sorted(allowed))})"
                    )
        return self


class Signal(_Spec):
    """One behaviour feeding a weighted tag, e.g. a purchase (weight 3) or a product view (weight 1)."""

    source: Source
    filters: list[Filter] = []
    weight: float = Field(1.0, gt=0)


class WeightedSpec(_Spec):
    """Weight of value v = Σ signal weight × 0.5 ** (age in days / half-life) over facts whose field is v."""

    kind: Literal["weighted"] = "weighted"
    field: Literal["category", "sku", "channel"]
    signals: list[Signal] = Field(min_length=1)
    half_life_days: float = Field(30.0, gt=0)
    window: Window | None = None
    top: int = Field(5, ge=1, le=50)


class Case(_Spec):
    when: str
    value: str


class RuleSpec(_Spec):
    """A boolean ``rule``, or ``cases`` tried in order giving an enum value (``otherwise`` if none holds)."""

    kind: Literal["rule"] = "rule"
    rule: str | None = None
    cases: list[Case] = []
    otherwise: str | None = None

    @model_validator(mode="after")
    def _one(self) -> RuleSpec:
        if (self.rule is None) == (not self.cases):
            raise ValueError("a rule tag has either a rule or cases")
        return self

    def texts(self) -> list[str]:
        return [self.rule] if self.rule is not None else [c.when for c in self.cases]


class ModelSpec(_Spec):
    kind: Literal["model"] = "model"
    model_name: str
    model_version: str = ""


class ManualSpec(_Spec):
    kind: Literal["manual"] = "manual"


Spec = Annotated[
    AttributeSpec | StatisticalSpec | WeightedSpec | RuleSpec | ModelSpec | ManualSpec,
    Field(discriminator="kind"),
]
SPEC_KINDS: dict[TagType, tuple[str, ...]] = {
    TagType.ATTRIBUTE: ("attribute",),
    TagType.STATISTICAL: ("statistical", "weighted"),
    TagType.RULE: ("rule",),
    TagType.MODEL: ("model",),
    TagType.MANUAL: ("manual",),
}


def spec_values(spec: BaseModel) -> list[str]:
    """The enum values a spec itself can produce (buckets, mapping targets, cases)."""
    out: list[str] = []
    if isinstance(spec, AttributeSpec | StatisticalSpec):
        out += [b.value for b in spec.buckets]
    if isinstance(spec, AttributeSpec):
        out += list(spec.mapping.values())
    if isinstance(spec, RuleSpec):
        out += [c.value for c in spec.cases] + ([spec.otherwise] if spec.otherwise else [])
    return list(dict.fromkeys(out))
