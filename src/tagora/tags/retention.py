"""The ``prune_history`` verb: how long run snapshots are kept, and what a run that died left behind.

Every run writes a snapshot (tens of millions of rows a full run, see ``tags.models``). Each tag keeps
the snapshots of the runs published within ``keep_days`` and, whatever their age, its last
``KEEP_FULL_RUNS`` runs over everyone: the current values and the run before them, which drift compares.
Manual and model writes (``tag_edits``) are kept: they are the record of who set what.

A run whose process ended between writing its snapshot and publishing it left rows no reader sees, and
stays "running": after ``ABANDONED_AFTER`` it is recorded as failed, and the snapshots of failed runs
are removed too (a failing run deletes its own, unless that fails as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import select

from tagora.core import audit
from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import transaction
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.stores import Stores
from tagora.core.warehouse import atomic, delete_matching, scratch
from tagora.tags.logic import allow
from tagora.tags.models import PUBLISHED, SNAPSHOTS, TagRun

KEEP_FULL_RUNS = 2
ABANDONED_AFTER = timedelta(hours=24)
ABANDONED = "abandoned: still running after 24 h (its process ended)"
KEYS = pa.schema([("run_id", pa.int64()), ("tag", pa.string())])  # a run's snapshot of one tag


@dataclass(frozen=True)
class Pruned:
    snapshots: int  # (run, tag) snapshots removed: expired ones, and those of runs that never published
    values: int  # their rows
    abandoned_runs: int  # runs found still "running" long after they began, now recorded as failed


def prune_history(stores: Stores, actor: Principal, keep_days: int, now: datetime | None = None) -> Pruned:
    """Remove snapshots older than ``keep_days`` (keeping each tag's current and previous full run) and
    snapshots no run will publish."""
    allow(actor, Permission.TAGS_COMPUTE)
    if keep_days < 1:
        message = f"keep_days must be at least 1, not {keep_days}"
        raise AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": "keep_days"})
    now = now or utcnow()
    abandoned, failed = _failed_runs(stores, now)
    con = stores.warehouse
    gone = pa.concat_tables([_expired(con, now - timedelta(days=keep_days)), _unpublished(con, failed)])
    values = 0
    if gone.num_rows:
        with scratch(con, gone) as key:
            values = int(con.table(SNAPSHOTS).semi_join(key, ["run_id", "tag"]).count().execute())
        with atomic(con):
            delete_matching(con, PUBLISHED, gone)
            delete_matching(con, SNAPSHOTS, gone)
    with transaction(stores.sessions) as session:
        audit.record(
            session, actor.username, "tag.prune", "tag_run", "",
            keep_days=keep_days, snapshots=gone.num_rows, values=values, abandoned_runs=len(abandoned),
        )  # fmt: skip
    return Pruned(snapshots=gone.num_rows, values=values, abandoned_runs=len(abandoned))


def _failed_runs(stores: Stores, now: datetime) -> tuple[list[int], list[int]]:
    """Runs "running" since before ``ABANDONED_AFTER``, now recorded as failed, and every failed run.

    Only those can have left a snapshot nobody published: a run that fails deletes its own, unless that
    fails too; a run whose process ended stays "running".
    """
    with transaction(stores.sessions) as session:
        since = now - ABANDONED_AFTER
        stuck = select(TagRun).where(TagRun.status == "running", TagRun.started_at < since)
        abandoned = list(session.scalars(stuck))
        for r in abandoned:
            r.status, r.errors, r.finished_at = "failed", {"run": ABANDONED}, now
        session.flush()
        failed = list(session.scalars(select(TagRun.id).where(TagRun.status == "failed")))
        return [r.id for r in abandoned], failed


def _expired(con: BaseBackend, cutoff: datetime) -> pa.Table:
    """(run_id, tag) of published snapshots older than ``cutoff``, but for each tag's last full runs."""
    p = con.table(PUBLISHED)
    everyone = p.filter(p.everyone)
    rank = ibis.row_number().over(group_by=everyone.tag, order_by=everyone.run_id.desc())
    kept = everyone.mutate(rank=rank).filter(rank < KEEP_FULL_RUNS).select("run_id", "tag")
    old = p.filter(p.computed_at < ibis.literal(cutoff, "timestamp('UTC')")).select("run_id", "tag")
    return _keys(old.anti_join(kept, ["run_id", "tag"]).to_pyarrow())


def _unpublished(con: BaseBackend, failed: list[int]) -> pa.Table:
    """(run_id, tag) of the snapshots of ``failed`` runs that are not published (none should be)."""
    if not failed:
        return KEYS.empty_table()
    s = con.table(SNAPSHOTS)
    pairs = s.filter(s.run_id.isin(failed)).select("run_id", "tag").distinct()
    return _keys(pairs.anti_join(con.table(PUBLISHED), ["run_id", "tag"]).to_pyarrow())


def _keys(table: pa.Table) -> pa.Table:
    return table.select(KEYS.names).cast(KEYS)
