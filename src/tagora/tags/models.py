"""Tag catalogue tables (metadata DB) and tag value tables (warehouse)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend
from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime
from tagora.core.warehouse import atomic


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


# Warehouse. What readers see, as two views with the same columns: ``tag_values`` (every customer's current
# values) and ``tag_value_history`` (each published run's snapshot, and every manual or model write). One
# row per (customer, tag, value): ``value`` holds enum/boolean/weighted values as text, ``number`` the
# value of a number tag; ``weight`` is 1 except for weighted multi-value tags; ``source`` says who set
# it: ``run``, ``manual:<user>`` or ``model:<name>@<version>``.
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
# Where they are stored. A run writes its values once, to ``tag_snapshots``, without the columns that
# are the same for the whole run (tens of millions of rows a run: each column costs seconds). Publishing
# the run adds a row per tag to ``tag_snapshot_runs`` (with computed_at): a run over everyone then
# becomes each of its tags' current values. Values that supersede those, for some customers, are in
# ``tag_overrides``: manual and model writes, runs over some customers (real-time tags, identity
# changes), and for the customers of such a run, a row without value or number where a tag now has none.
# ``tag_edits`` keeps every manual and model write for the history.
SNAPSHOT_ROWS = ibis.schema(
    {
        "uid": "int64",
        "tag": "string",
        "value": "string",
        "number": "float64",
        "weight": "float64",
        "run_id": "int64",
        "origin_uid": "int64",
    }
)
SNAPSHOT_RUNS = ibis.schema(
    {"run_id": "int64", "tag": "string", "computed_at": dt.Timestamp(timezone="UTC"), "everyone": "boolean"}
)
CURRENT = "tag_values"
HISTORY = "tag_value_history"
SNAPSHOTS = "tag_snapshots"
PUBLISHED = "tag_snapshot_runs"
OVERRIDES = "tag_overrides"
EDITS = "tag_edits"
WAREHOUSE_TABLES = {
    SNAPSHOTS: SNAPSHOT_ROWS, PUBLISHED: SNAPSHOT_RUNS, OVERRIDES: TAG_VALUES, EDITS: TAG_VALUES,
}  # fmt: skip


def run_values(rows: ir.Table) -> ir.Table:
    """Snapshot rows that carry their run's ``computed_at`` as rows of TAG_VALUES (source ``run``)."""
    return rows.mutate(source=ibis.literal("run")).select(*TAG_VALUES.names)


def _published_rows(con: BaseBackend, runs: ir.Table) -> ir.Table:
    """The snapshot rows of ``runs`` (run_id, tag, computed_at)."""
    return run_values(con.table(SNAPSHOTS).join(runs, ["run_id", "tag"]))


def current_view(con: BaseBackend) -> ir.Table:
    """Each tag's last run over everyone, except where an override says otherwise; and the overrides."""
    p = con.table(PUBLISHED)
    everyone = p.filter(p.everyone)
    latest = everyone.group_by("tag").aggregate(
        run_id=everyone.run_id.max(), computed_at=everyone.computed_at.argmax(everyone.run_id)
    )
    o = con.table(OVERRIDES)
    base = _published_rows(con, latest).anti_join(o, ["uid", "tag"])
    return base.union(o.filter(o.value.notnull() | o.number.notnull()))


def history_view(con: BaseBackend) -> ir.Table:
    """Every published run's snapshot, and every manual or model write."""
    p = con.table(PUBLISHED)
    return _published_rows(con, p.select("run_id", "tag", "computed_at")).union(con.table(EDITS))


WAREHOUSE_VIEWS = {CURRENT: current_view, HISTORY: history_view}


def upgrade_warehouse(con: BaseBackend) -> None:
    """Move tag values stored by a release that kept them in two plain tables to the tables above."""
    existing = set(con.list_tables())
    if SNAPSHOTS in existing or CURRENT not in existing:
        return
    old, history = (_with_origin(con.table(n)) for n in (CURRENT, HISTORY))
    runs = history.filter(history.run_id != 0)
    with atomic(con):
        for name, schema in WAREHOUSE_TABLES.items():
            con.create_table(name, schema=schema)
        con.insert(OVERRIDES, old.select(*TAG_VALUES.names))  # current until the next run replaces them
        con.insert(SNAPSHOTS, runs.select(*SNAPSHOT_ROWS.names))
        published = runs.group_by(["run_id", "tag"]).aggregate(computed_at=runs.computed_at.max())
        con.insert(PUBLISHED, published.mutate(everyone=ibis.literal(False)).select(*SNAPSHOT_RUNS.names))
        con.insert(EDITS, history.filter(history.run_id == 0).select(*TAG_VALUES.names))
        con.drop_table(CURRENT)
        con.drop_table(HISTORY)


def _with_origin(t: ir.Table) -> ir.Table:
    return t if "origin_uid" in t.columns else t.mutate(origin_uid=t.uid)


WAREHOUSE_UPGRADES = [upgrade_warehouse]  # run before missing tables are created
