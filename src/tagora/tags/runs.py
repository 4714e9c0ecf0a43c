"""The ``compute_tags`` verb: one audited run that recomputes tags (for everyone or some uids)."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import date, datetime

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
from ibis.backends import BaseBackend
from sqlalchemy import select

from tagora.core import audit
from tagora.core.auth import CLI_OPERATOR, Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import transaction
from tagora.core.errors import AppError, not_found
from tagora.core.stores import Stores
from tagora.core.warehouse import atomic, delete_where, scratch
from tagora.tags import catalogue
from tagora.tags.compute import COMPUTED_KINDS, WIDE, needs_products, value_rows, with_dependencies
from tagora.tags.facts import AsOf
from tagora.tags.logic import allow, as_draft, validate_draft
from tagora.tags.models import OVERRIDES, PUBLISHED, SNAPSHOTS, TagRun, run_values
from tagora.tags.population import PROFILES, load_products, load_profiles
from tagora.tags.schemas import RunPublic, TagDraft
from tagora.tags.specs import TagValueType

SCOPE = "_tag_scope"
log = logging.getLogger(__name__)


def live_drafts(stores: Stores) -> dict[str, TagDraft]:
    with stores.sessions() as session:
        return {t.code: validate_draft(as_draft(t, session)) for t in catalogue.live_tags(session)}


def split(drafts: dict[str, TagDraft]) -> tuple[dict[str, TagDraft], dict[str, TagValueType]]:
    """Tags a run computes, and those written by others (manual, model) that rules may read."""
    computed = {c: d for c, d in drafts.items() if d.spec.kind in COMPUTED_KINDS}
    external = {c: d.value_type for c, d in drafts.items() if d.spec.kind not in COMPUTED_KINDS}
    return computed, external


def compute_tags(
    stores: Stores,
    actor: Principal = CLI_OPERATOR,
    tags: Collection[str] | None = None,
    uids: Collection[int] | None = None,
    as_of: date | None = None,
    warehouse: BaseBackend | None = None,
    touch: bool = True,
) -> RunPublic:
    """Compute ``tags`` (default: every live tag; plus what their rules read) for ``uids`` (default: all).

    A thread other than the one that opened the stores passes its own ``warehouse`` connection. With
    ``touch`` the audience index is rebuilt before its next use; real-time runs leave it to its periodic
    check, so a stream of events does not rebuild it every second.
    """
    allow(actor, Permission.TAGS_COMPUTE)
    live, external = split(live_drafts(stores))
    drafts = with_dependencies(live, tags if tags is not None else list(live), set(external))
    day = as_of or utcnow().date()
    with transaction(stores.sessions) as session:
        run = TagRun(
            status="running", actor=actor.username, as_of=day, tags=sorted(drafts),
            scope="all" if uids is None else "uids", errors={},
        )  # fmt: skip
        session.add(run)
        session.flush()
        run_id = run.id
    started = time.perf_counter()
    status, errors, customers, written = "succeeded", {}, 0, 0
    try:
        customers, written = _execute(
            stores, warehouse or stores.warehouse, drafts, external, AsOf(day), uids, run_id
        )
    except AppError:
        raise
    except Exception as exc:  # a failing run is recorded with its error, never left "running"
        status, errors = "failed", {"run": f"{type(exc).__name__}: {exc}"}
    with transaction(stores.sessions) as session:
        run = session.get_one(TagRun, run_id)
        run.status, run.errors, run.customers, run.values_written = status, errors, customers, written
        run.finished_at, run.duration_s = utcnow(), round(time.perf_counter() - started, 3)
        audit.record(
            session, actor.username, "tag.compute", "tag_run", run_id,
            status=status, tags=len(drafts), customers=customers, as_of=day.isoformat(),
        )  # fmt: skip
        done = present_run(run)
    if touch:
        stores.touch()
    return done


def _execute(
    stores: Stores,
    con: BaseBackend,
    drafts: dict[str, TagDraft],
    external: dict[str, TagValueType],
    as_of: AsOf,
    uids: Collection[int] | None,
    run_id: int,
) -> tuple[int, int]:
    with stores.sessions() as session:
        customers = load_profiles(session, con, uids)
        if needs_products(drafts):
            load_products(session, con)
    scope = con.table(PROFILES).select("uid") if uids is not None else None
    if uids is not None:
        # Every requested uid loses its old values, also one merged away since (it is nobody now).
        requested = pa.table({"uid": pa.array(sorted(set(uids)), pa.int64())})
        con.create_table(SCOPE, requested, temp=True, overwrite=True)

    def stage(wide: ir.Table) -> ir.Table:
        return con.create_table(WIDE, wide, temp=True, overwrite=True)

    rows = value_rows(con, drafts, as_of, scope, external, stage)
    codes = sorted(drafts)
    try:
        written = 0
        if rows is not None:
            # The values are written once, as the run's snapshot, on their own: no reader sees them until the
            # run is published, in one small transaction.
            con.insert(SNAPSHOTS, rows.mutate(run_id=ibis.literal(run_id, "int64"), origin_uid=rows.uid))
            s = con.table(SNAPSHOTS)
            written = int(s.filter(s.run_id == run_id).count().execute())
        with atomic(con):  # readers see the old values or the new ones, never none
            _publish(con, run_id, codes, uids is not None)
    except BaseException:
        _forget_snapshot(con, run_id)
        raise
    for name in (WIDE, PROFILES, SCOPE):
        con.drop_table(name, force=True)
    return customers, written


def _publish(con: BaseBackend, run_id: int, codes: list[str], scoped: bool) -> None:
    """Make the run's snapshot of ``codes`` current: everyone's, or the overrides of the scope's customers."""
    if not codes:
        return
    now = utcnow()
    published = pa.table(
        {
            "run_id": pa.array([run_id] * len(codes), pa.int64()),
            "tag": pa.array(codes, pa.string()),
            "computed_at": pa.array([now] * len(codes), pa.timestamp("us", tz="UTC")),
            "everyone": pa.array([not scoped] * len(codes), pa.bool_()),
        }
    )
    mine = sg.column("tag").isin(*codes).and_(sg.column("source").eq("run"))
    if not scoped:
        con.insert(PUBLISHED, published)
        delete_where(con, OVERRIDES, mine)  # a run over everyone replaces what runs over some computed
        return
    delete_where(con, OVERRIDES, mine.and_(sg.column("uid").isin(query=sg.select("uid").from_(SCOPE))))
    con.insert(PUBLISHED, published)
    s = con.table(SNAPSHOTS)
    values = s.filter(s.run_id == run_id)
    con.insert(OVERRIDES, _as_overrides(values, run_id, now))
    # A requested customer without a value now gets a row that says so: it hides the value of the last run
    # over everyone. It belongs to the uid, not to a record (no origin_uid): merges leave it where it is.
    with scratch(con, pa.table({"tag": pa.array(codes, pa.string())})) as tags:
        gone = con.table(SCOPE).cross_join(tags).anti_join(values, ["uid", "tag"])
        gone = gone.mutate(
            value=ibis.null("string"), number=ibis.null("float64"), weight=ibis.null("float64"),
            origin_uid=ibis.null("int64"),
        )  # fmt: skip
        con.insert(OVERRIDES, _as_overrides(gone, run_id, now))


def _as_overrides(rows: ir.Table, run_id: int, now: datetime) -> ir.Table:
    stamped = rows.mutate(
        computed_at=ibis.literal(now, "timestamp('UTC')"), run_id=ibis.literal(run_id, "int64")
    )
    return run_values(stamped)


def _forget_snapshot(con: BaseBackend, run_id: int) -> None:
    """A failed run leaves no snapshot: its values never became current (best effort: the run's error is
    what the caller records)."""
    try:
        delete_where(con, SNAPSHOTS, sg.column("run_id").eq(run_id))
    except Exception:
        log.exception("tags: removing the snapshot of failed run %d failed", run_id)


def present_run(run: TagRun) -> RunPublic:
    return RunPublic(
        id=run.id, status=run.status, actor=run.actor, as_of=run.as_of, tags=list(run.tags), scope=run.scope,
        customers=run.customers, values_written=run.values_written, errors=dict(run.errors),
        started_at=run.started_at, finished_at=run.finished_at, duration_s=run.duration_s,
    )  # fmt: skip


def runs(stores: Stores, limit: int = 20) -> list[RunPublic]:
    with stores.sessions() as session:
        rows = session.scalars(select(TagRun).order_by(TagRun.id.desc()).limit(limit))
        return [present_run(r) for r in rows]


def run(stores: Stores, run_id: int) -> RunPublic:
    with stores.sessions() as session:
        found = session.get(TagRun, run_id)
        if found is None:
            raise not_found("tag run", run_id)
        return present_run(found)
