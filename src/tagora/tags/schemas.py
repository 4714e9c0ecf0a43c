"""Request/response models of the tags area."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tagora.tags.specs import (
    SPEC_KINDS,
    AttributeSpec,
    Measure,
    Refresh,
    RuleSpec,
    Spec,
    StatisticalSpec,
    Status,
    TagType,
    TagValueType,
    WeightedSpec,
    spec_values,
)

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"


def _natural_value_type(spec: BaseModel) -> TagValueType:
    """The value type a spec produces; a definition must declare this one."""
    if isinstance(spec, WeightedSpec):
        return TagValueType.WEIGHTED
    if isinstance(spec, RuleSpec):
        return TagValueType.BOOLEAN if spec.rule is not None else TagValueType.ENUM
    if isinstance(spec, StatisticalSpec):
        if spec.buckets or _is_categorical(spec.measure):
            return TagValueType.ENUM
        return TagValueType.NUMBER
    if isinstance(spec, AttributeSpec):
        numeric = spec.field in ("age", "registered_days")
        return TagValueType.NUMBER if numeric and not spec.buckets else TagValueType.ENUM
    raise ValueError("no natural value type")  # model and manual tags declare theirs


def _is_categorical(measure: Measure) -> bool:
    numeric = {"amount", "quantity", "unit_price", "line_count", "relative_price", "weekday", "hour"}
    return measure.fn in ("mode", "first", "last") and measure.field not in numeric


class TagDraft(BaseModel):
    """Everything that defines a tag; checked as a whole (type, value type and spec must agree)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN)
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(min_length=1, max_length=128)
    description: str = ""
    category: str
    owner: str = ""
    type: TagType
    value_type: TagValueType
    refresh: Refresh = Refresh.SCHEDULED
    values: list[str] = []
    spec: Spec

    @model_validator(mode="after")
    def _consistent(self) -> TagDraft:
        if self.spec.kind not in SPEC_KINDS[self.type]:
            allowed = ", ".join(SPEC_KINDS[self.type])
            raise ValueError(
                f"a {self.type.value} tag needs a spec of kind {allowed}, not {self.spec.kind!r}"
            )
        if self.type not in (TagType.MODEL, TagType.MANUAL):
            natural = _natural_value_type(self.spec)
            if natural is not self.value_type:
                raise ValueError(
                    f"value_type is {self.value_type.value!r} but this spec gives {natural.value!r} values"
                )
        own = spec_values(self.spec)
        if own and self.values and set(own) - set(self.values):
            missing = ", ".join(sorted(set(own) - set(self.values)))
            raise ValueError(f"values does not list {missing}, which the spec produces")
        if not self.values:
            self.values = own
        return self


class TagRevision(BaseModel):
    """Fields to change; anything left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    name_zh: str | None = None
    name_en: str | None = None
    description: str | None = None
    category: str | None = None
    owner: str | None = None
    value_type: TagValueType | None = None
    refresh: Refresh | None = None
    values: list[str] | None = None
    spec: dict[str, Any] | None = None
    comment: str = Field("", max_length=2000, exclude=True)


class Comment(BaseModel):
    comment: str = Field("", max_length=2000)


class AssignRequest(BaseModel):
    """A manual tag put on customers: customer key -> value."""

    values: dict[str, str] = Field(min_length=1, max_length=100_000)
    comment: str = Field("", max_length=2000)


class CategoryPublic(BaseModel):
    code: str
    name_zh: str
    name_en: str
    parent: str | None


class TagPublic(BaseModel):
    code: str
    version: int
    name_zh: str
    name_en: str
    description: str
    category: str
    owner: str
    type: TagType
    value_type: TagValueType
    refresh: Refresh
    values: list[str]
    status: Status
    spec: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class TagValuePublic(BaseModel):
    tag: str
    value: str | float | None
    weight: float
    computed_at: datetime
    run_id: int
    source: str


class RunPublic(BaseModel):
    id: int
    status: str
    actor: str
    as_of: date
    tags: list[str]
    scope: str
    customers: int
    values_written: int
    errors: dict[str, str]
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None


class ComputeRequest(BaseModel):
    tags: list[str] | None = None
    as_of: date | None = None
    customers: list[str] | None = None


class HistoryEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    version: int | None
    comment: str


class ValueShare(BaseModel):
    value: str
    count: int
    share: float  # of the customers that have a value


class HistogramBin(BaseModel):
    low: float
    high: float
    count: int


class Distribution(BaseModel):
    """Enum, boolean and weighted tags count values; number tags get an equal-width histogram.

    With ``integers`` (every value a whole number) a bin holds ``low`` to ``high`` inclusive; otherwise
    ``low`` up to ``high`` (the last bin includes its ``high``).
    """

    customers: int
    values: list[ValueShare] = []
    bins: list[HistogramBin] = []
    mean: float | None = None
    integers: bool = False


class ShareChange(BaseModel):
    bucket: str
    before: float
    after: float


class Drift(BaseModel):
    """Population stability index between the last two full runs (< 0.1 stable, < 0.25 moderate)."""

    run_id: int
    previous_run_id: int
    psi: float
    level: str
    changes: list[ShareChange]


class RunPoint(BaseModel):
    """One full run's snapshot of a tag: how many had a value, and the shares (or mean) then."""

    run_id: int
    as_of: date
    computed_at: datetime | None
    customers: int
    shares: dict[str, float] = {}
    mean: float | None = None


class TagUsage(BaseModel):
    segments: list[str] = []
    rule_tags: list[str] = []

    @property
    def unused(self) -> bool:
        return not self.segments and not self.rule_tags


class LastRun(BaseModel):
    id: int
    status: str
    as_of: date
    finished_at: datetime | None
    error: str | None


class TagEvaluation(BaseModel):
    code: str
    status: Status
    value_type: TagValueType
    live_customers: int
    customers_with_value: int
    coverage: float | None
    last_computed_at: datetime | None
    distribution: Distribution
    drift: Drift | None
    history: list[RunPoint]
    usage: TagUsage
    last_run: LastRun | None
    stale: bool
    failing: bool


class ReportRow(BaseModel):
    code: str
    name_zh: str
    name_en: str
    status: Status
    refresh: Refresh
    coverage: float | None
    last_computed_at: datetime | None
    last_run_status: str | None
    segments: list[str]
    rule_tags: list[str]
    unused: bool
    stale: bool
    failing: bool


class ValueReport(BaseModel):
    """The catalogue's health: per tag, and the codes that are unused, stale or failing."""

    generated_at: datetime
    live_customers: int
    tags: list[ReportRow]
    unused: list[str]
    stale: list[str]
    failing: list[str]


class RuleCheck(BaseModel):
    """A rule checked against the catalogue: ``ok``, or the message and where (1-based line/column)."""

    ok: bool
    message: str = ""
    line: int | None = None
    column: int | None = None
    reads: list[str] = []


class RuleCheckRequest(BaseModel):
    rule: str = Field(max_length=100_000)
    code: str | None = None  # the tag being edited: it may not read itself


class SampleCustomer(BaseModel):
    """A customer in a preview; phone and email masked unless the viewer may see personal data."""

    uid: int
    customer_key: str
    name: str | None
    phone: str | None
    email: str | None
    value: str


class TagPreview(BaseModel):
    """A draft computed for a sample of customers before it is published: an estimate, not a run."""

    as_of: date
    sampled: int
    live_customers: int
    customers_with_value: int
    coverage: float | None
    distribution: Distribution
    samples: list[SampleCustomer]
    masked: bool
