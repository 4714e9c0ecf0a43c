"""Tag evaluation: coverage, value distribution, drift between runs, usage, last run, and a catalogue report.

Figures come from the warehouse (``tag_values`` now, ``tag_value_history`` per run) and the run log.
Drift compares the last two *full* successful runs that computed the tag (a run for a few customers
is not a population). Segments live in another area that reads tags, so who uses a tag in a segment
is handed in by the caller (``segment_users``); this module never imports the audiences area.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import ibis.expr.types as ir
from ibis.backends import BaseBackend
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tagora.core.clock import utcnow
from tagora.core.stores import Stores
from tagora.tags import catalogue
from tagora.tags.models import CURRENT, HISTORY, PUBLISHED, TagRun
from tagora.tags.population import _customers
from tagora.tags.rules import RuleError, parse, references
from tagora.tags.schemas import (
    Distribution,
    Drift,
    HistogramBin,
    LastRun,
    ReportRow,
    RunPoint,
    ShareChange,
    TagEvaluation,
    TagUsage,
    ValueReport,
    ValueShare,
)
from tagora.tags.specs import Refresh, TagType, TagValueType

SegmentUsers = Callable[[str], list[str]]
# A scheduled tag is refreshed daily; a day and a half without a value means the schedule missed it.
STALE_AFTER: dict[Refresh, timedelta | None] = {
    Refresh.SCHEDULED: timedelta(hours=36),
    Refresh.REALTIME: timedelta(hours=36),
    Refresh.MANUAL: None,
}
BINS = 10
TOP_VALUES = 20
HISTORY_RUNS = 12
CHART_VALUES = 6  # values drawn in the history chart; the rest are left out
NO_VALUE = "(no value)"
EPSILON = 1e-4  # the share an empty bucket gets so the PSI stays finite
RUN_SCAN = 2000  # recent runs searched for a tag's last run


def no_segments(_code: str) -> list[str]:
    return []


def live_customers(session: Session) -> int:
    c = _customers.c
    return int(
        session.scalar(select(func.count()).select_from(_customers).where(c.merged_into.is_(None))) or 0
    )


# ---- runs ---------------------------------------------------------------------------------------


def _runs_with(session: Session, code: str, full_only: bool, limit: int) -> list[TagRun]:
    """Newest first: runs that computed ``code`` (``full_only``: successful runs over everyone)."""
    query = select(TagRun).order_by(TagRun.id.desc()).limit(RUN_SCAN)
    if full_only:
        query = query.where(TagRun.status == "succeeded", TagRun.scope == "all")
    found = [r for r in session.scalars(query) if code in (r.tags or [])]
    return found[:limit]


def _last_run(run: TagRun | None, code: str) -> LastRun | None:
    if run is None:
        return None
    errors = dict(run.errors or {})
    error = errors.get(code) or errors.get("run")
    return LastRun(id=run.id, status=run.status, as_of=run.as_of, finished_at=run.finished_at, error=error)


def _failing(last: LastRun | None) -> bool:
    return last is not None and (last.status == "failed" or last.error is not None)


# ---- distributions --------------------------------------------------------------------------------


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _edges(low: float, high: float) -> list[float]:
    if high <= low:
        return [low, high]
    width = (high - low) / BINS
    return [low + i * width for i in range(BINS)] + [high]


def _integer_edges(low: float, high: float) -> list[float]:
    """Bins of a whole width for whole numbers (orders, days): 0..5 gives six bins of one number each."""
    span = high - low + 1
    width = math.ceil(span / BINS)
    return [low + i * width for i in range(math.ceil(span / width) + 1)]


def _bin_counts(t: ir.Table, edges: list[float], by: str | None = None) -> list[dict[str, Any]]:
    """Count numbers per equal-width bin (the last bin includes its upper edge)."""
    bins = len(edges) - 1
    low, width = edges[0], (edges[-1] - edges[0]) / bins if bins else 0.0
    if width > 0:
        index = ((t.number - low) / width).floor().cast("int64").clip(lower=0, upper=bins - 1)
    else:
        index = (t.number * 0).cast("int64")
    keys = [by, "bin"] if by else ["bin"]
    with_bin = t.filter(t.number.notnull()).mutate(bin=index)
    return _rows(with_bin.group_by(keys).aggregate(count=with_bin.count()))


def distribution(t: ir.Table, value_type: TagValueType) -> Distribution:
    """The distribution of one tag's rows ``t`` (already filtered to the tag and, if wanted, a run)."""
    customers = int(t.uid.nunique().execute())
    if value_type is TagValueType.NUMBER:
        fraction = (t.number - t.number.floor()).max()
        stats = _rows(
            t.aggregate(low=t.number.min(), high=t.number.max(), mean=t.number.mean(), fraction=fraction)
        )[0]
        if stats["low"] is None:
            return Distribution(customers=customers)
        low, high = float(stats["low"]), float(stats["high"])
        integers = stats["fraction"] == 0
        edges = _integer_edges(low, high) if integers else _edges(low, high)
        counts = {r["bin"]: int(r["count"]) for r in _bin_counts(t, edges)}
        bins = [
            # whole numbers: a bin shows the last number it holds (0–4, 5–9), not the next bin's first
            HistogramBin(
                low=edges[i], high=edges[i + 1] - 1 if integers else edges[i + 1], count=counts.get(i, 0)
            )
            for i in range(len(edges) - 1)
        ]
        return Distribution(customers=customers, bins=bins, mean=float(stats["mean"]), integers=integers)
    counted = t.group_by("value").aggregate(count=t.uid.nunique())
    top = _rows(counted.order_by([counted["count"].desc(), counted.value]).limit(TOP_VALUES))
    values = [
        ValueShare(
            value=str(r["value"]), count=int(r["count"]), share=r["count"] / customers if customers else 0
        )
        for r in top
    ]
    return Distribution(customers=customers, values=values)


# ---- drift and history ------------------------------------------------------------------------------


def psi(expected: dict[str, float], actual: dict[str, float]) -> float:
    """Population stability index: Σ (a - e) · ln(a / e) over buckets (shares, each summing to 1)."""
    total = 0.0
    for bucket in set(expected) | set(actual):
        e = max(expected.get(bucket, 0.0), EPSILON)
        a = max(actual.get(bucket, 0.0), EPSILON)
        total += (a - e) * math.log(a / e)
    return total


def drift_level(value: float) -> str:
    return "stable" if value < 0.1 else "moderate" if value < 0.25 else "major"


def _shares(counts: dict[str, int], population: int, weighted: bool) -> dict[str, float]:
    """Shares of a run's population, with those without a value as a bucket of their own."""
    if weighted:  # a customer has several values: shares of all value mentions
        total = sum(counts.values())
        return {k: v / total for k, v in counts.items()} if total else {}
    base = max(population, sum(counts.values()))
    if not base:
        return {}
    out = {k: v / base for k, v in counts.items()}
    missing = base - sum(counts.values())
    if missing:
        out[NO_VALUE] = missing / base
    return out


def _bucket_counts(
    history: ir.Table, runs: list[TagRun], value_type: TagValueType
) -> dict[int, dict[str, int]]:
    ids = [r.id for r in runs]
    t = history.filter(history.run_id.isin(ids))
    by_run: dict[int, dict[str, int]] = {i: {} for i in ids}
    if value_type is TagValueType.NUMBER:
        stats = _rows(t.aggregate(low=t.number.min(), high=t.number.max()))[0]
        if stats["low"] is None:
            return by_run
        edges = _edges(float(stats["low"]), float(stats["high"]))
        for r in _bin_counts(t, edges, by="run_id"):
            low, high = edges[r["bin"]], edges[min(r["bin"] + 1, len(edges) - 1)]
            by_run[r["run_id"]][f"{low:.6g} – {high:.6g}"] = int(r["count"])
        return by_run
    counted = t.group_by(["run_id", "value"]).aggregate(count=t.uid.nunique())
    for r in _rows(counted):
        by_run[r["run_id"]][str(r["value"])] = int(r["count"])
    return by_run


def drift(history: ir.Table, runs: list[TagRun], value_type: TagValueType) -> Drift | None:
    """Drift between the last two full runs (``runs`` newest first), or None before there are two."""
    if len(runs) < 2:
        return None
    latest, previous = runs[0], runs[1]
    counts = _bucket_counts(history, [latest, previous], value_type)
    weighted = value_type is TagValueType.WEIGHTED
    before = _shares(counts[previous.id], previous.customers, weighted)
    after = _shares(counts[latest.id], latest.customers, weighted)
    value = psi(before, after)
    changes = [
        ShareChange(bucket=b, before=before.get(b, 0.0), after=after.get(b, 0.0))
        for b in sorted(set(before) | set(after), key=lambda b: -abs(after.get(b, 0) - before.get(b, 0)))
    ]
    return Drift(
        run_id=latest.id, previous_run_id=previous.id, psi=round(value, 6), level=drift_level(value),
        changes=changes[:TOP_VALUES],
    )  # fmt: skip


def run_history(history: ir.Table, runs: list[TagRun], value_type: TagValueType) -> list[RunPoint]:
    """Oldest first: per full run, customers with a value and the shares of the main values (or mean)."""
    if not runs:
        return []
    t = history.filter(history.run_id.isin([r.id for r in runs]))
    totals = {
        r["run_id"]: r
        for r in _rows(
            t.group_by("run_id").aggregate(
                customers=t.uid.nunique(), computed_at=t.computed_at.max(), mean=t.number.mean()
            )
        )
    }
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if value_type is not TagValueType.NUMBER:
        for r in _rows(t.group_by(["run_id", "value"]).aggregate(count=t.uid.nunique())):
            counts[r["run_id"]][str(r["value"])] = int(r["count"])
    overall: dict[str, int] = defaultdict(int)
    for per_run in counts.values():
        for value, n in per_run.items():
            overall[value] += n
    main = sorted(overall, key=lambda v: (-overall[v], v))[:CHART_VALUES]
    points = []
    for run in reversed(runs):
        total = totals.get(run.id, {})
        customers = int(total.get("customers") or 0)
        shares = {v: counts[run.id].get(v, 0) / customers for v in main} if customers else {}
        mean = total.get("mean") if value_type is TagValueType.NUMBER else None
        points.append(
            RunPoint(
                run_id=run.id,
                as_of=run.as_of,
                computed_at=total.get("computed_at"),
                customers=customers,
                shares=shares,
                mean=mean,
            )
        )
    return points


# ---- usage, staleness, the whole tag --------------------------------------------------------------


def rule_readers(session: Session) -> dict[str, list[str]]:
    """tag code -> the (non-retired) rule tags whose rules read it."""
    readers: dict[str, set[str]] = defaultdict(set)
    for tag in catalogue.current_versions(session):
        spec = tag.spec or {}
        if spec.get("kind") != "rule":
            continue
        texts = [spec["rule"]] if spec.get("rule") is not None else [c["when"] for c in spec.get("cases", [])]
        for text in texts:
            try:
                names = references(parse(text))
            except RuleError:
                continue  # a draft that does not parse reads nothing yet
            for name in names - {tag.code}:
                readers[name].add(tag.code)
    return {k: sorted(v) for k, v in readers.items()}


def _refreshed(values_at: datetime | None, run: TagRun | None) -> datetime | None:
    """When a tag was last brought up to date: its newest value, or a full run that left none."""
    times = [t for t in (values_at, run.finished_at if run else None) if t is not None]
    return max(times) if times else None


def is_stale(kind: str, refresh: str, last_computed_at: datetime | None, now: datetime) -> bool:
    """A computed tag not refreshed within its refresh policy (never computed counts as stale)."""
    if kind in (TagType.MODEL.value, TagType.MANUAL.value):
        return False  # written by a model or by staff, not by runs
    limit = STALE_AFTER[Refresh(refresh)]
    if limit is None:
        return False
    return last_computed_at is None or now - last_computed_at > limit


def _current(warehouse: BaseBackend, code: str) -> tuple[ir.Table, int, datetime | None]:
    t = warehouse.table(CURRENT)
    t = t.filter(t.tag == code)
    row = _rows(t.aggregate(customers=t.uid.nunique(), last=t.computed_at.max()))[0]
    return t, int(row["customers"] or 0), row["last"]


def _kept(warehouse: BaseBackend, code: str, runs: list[TagRun]) -> list[TagRun]:
    """Those of ``runs`` whose snapshot of ``code`` is still kept (see tags.retention)."""
    p = warehouse.table(PUBLISHED)
    ids = set(p.filter((p.tag == code) & p.run_id.isin([r.id for r in runs])).run_id.to_pyarrow().to_pylist())
    return [r for r in runs if r.id in ids]


def evaluate_tag(
    stores: Stores, code: str, segment_users: SegmentUsers = no_segments, now: datetime | None = None
) -> TagEvaluation:
    """Everything the tag detail page and ``tagora tags show`` report about one tag."""
    with stores.sessions() as session:
        public = catalogue.current(session, code)
        population = live_customers(session)
        full = _runs_with(session, code, True, HISTORY_RUNS)
        last_any = _runs_with(session, code, False, 1)
        last = _last_run(last_any[0] if last_any else None, code)
        readers = rule_readers(session).get(code, [])
    value_type = public.value_type
    current, with_value, last_at = _current(stores.warehouse, code)
    kept = _kept(stores.warehouse, code, full)
    history = stores.warehouse.table(HISTORY)
    history = history.filter(history.tag == code)
    live = public.status.value in catalogue.LIVE
    refreshed = _refreshed(last_at, full[0] if full else None)
    return TagEvaluation(
        code=code, status=public.status, value_type=value_type, live_customers=population,
        customers_with_value=with_value, coverage=with_value / population if population else None,
        last_computed_at=last_at, distribution=distribution(current, value_type),
        drift=drift(history, kept, value_type), history=run_history(history, kept, value_type),
        usage=TagUsage(segments=segment_users(code), rule_tags=readers), last_run=last,
        stale=live and is_stale(public.type.value, public.refresh.value, refreshed, now or utcnow()),
        failing=_failing(last),
    )  # fmt: skip


def _last_runs(session: Session, codes: Iterable[str]) -> tuple[dict[str, TagRun], dict[str, TagRun]]:
    """Per code: its last run (any), and its last successful run over everyone."""
    wanted, last, full = set(codes), dict[str, TagRun](), dict[str, TagRun]()
    for run in session.scalars(select(TagRun).order_by(TagRun.id.desc()).limit(RUN_SCAN)):
        mine = set(run.tags or []) & wanted
        for code in mine - set(last):
            last[code] = run
        if run.status == "succeeded" and run.scope == "all":
            for code in mine - set(full):
                full[code] = run
    return last, full


def _current_figures(warehouse: BaseBackend, weighted: list[str]) -> dict[str, dict[str, Any]]:
    """Per tag: customers with a value and the newest computed_at.

    A tag has one current row per customer (runs and manual writes replace a customer's value), so rows
    are counted; only weighted tags, with several values each, need the far dearer distinct count.
    """
    t = warehouse.table(CURRENT)
    figures = {
        r["tag"]: r for r in _rows(t.group_by("tag").aggregate(customers=t.count(), last=t.computed_at.max()))
    }
    if weighted:
        w = t.filter(t.tag.isin(weighted))
        for r in _rows(w.group_by("tag").aggregate(customers=w.uid.nunique())):
            figures[r["tag"]]["customers"] = r["customers"]
    return figures


def value_report(
    stores: Stores, segment_users: SegmentUsers = no_segments, now: datetime | None = None
) -> ValueReport:
    """Every live tag with its coverage, freshness, last run and users; the unused, stale and failing."""
    moment = now or utcnow()
    with stores.sessions() as session:
        tags = catalogue.live_tags(session)
        population = live_customers(session)
        readers = rule_readers(session)
        last_runs, full_runs = _last_runs(session, [t.code for t in tags])
        session.expunge_all()
    figures = _current_figures(
        stores.warehouse, [t.code for t in tags if t.value_type == TagValueType.WEIGHTED]
    )
    rows = []
    for tag in sorted(tags, key=lambda x: x.code):
        figure = figures.get(tag.code, {})
        last = _last_run(last_runs.get(tag.code), tag.code)
        segments, rule_tags = segment_users(tag.code), readers.get(tag.code, [])
        customers = int(figure.get("customers") or 0)
        rows.append(
            ReportRow(
                code=tag.code,
                name_zh=tag.name_zh,
                name_en=tag.name_en,
                status=tag.status,
                refresh=tag.refresh,
                coverage=customers / population if population else None,
                last_computed_at=figure.get("last"),
                last_run_status=last.status if last else None,
                segments=segments,
                rule_tags=rule_tags,
                unused=not segments and not rule_tags,
                stale=is_stale(
                    tag.type, tag.refresh, _refreshed(figure.get("last"), full_runs.get(tag.code)), moment
                ),
                failing=_failing(last),
            )
        )
    return ValueReport(
        generated_at=moment, live_customers=population, tags=rows,
        unused=[r.code for r in rows if r.unused], stale=[r.code for r in rows if r.stale],
        failing=[r.code for r in rows if r.failing],
    )  # fmt: skip
