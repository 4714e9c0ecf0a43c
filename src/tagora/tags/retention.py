"""The ``prune_history`` verb: how long run snapshots are kept, and what a run that died left behind.

Every run writes a snapshot (tens of millions of rows a full run, see ``tags.models``). Each tag keeps
the snapshots of the runs published within ``keep_days`` and, whatever their age, its last
``KEEP_FULL_RUNS`` runs over everyone: the current values and the run before them, which drift compares.
Manual and model writes (``tag_edits``) are kept: they are the record of who set what.

A run whose process ended between writing its snapshot and publishing it left rows no reader sees. Those
of a run that is no longer running, or has been "running" for longer than ``ABANDONED_AFTER`` (which is
then recorded as failed), are removed too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import func, select

from tagora.core import audit
from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import transaction
from tagora.core.stores import Stores
from tagora.core.warehouse import atomic, delete_matching, scratch
from tagora.tags.logic import allow
from tagora.tags.models import PUBLISHED, SNAPSHOTS, TagRun

KEEP_FULL_RUNS = 2
ABANDONED_AFTER = timedelta(hours=24)
ABANDONED = "abandoned: still running after 24 h (its process ended)"


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
        raise ValueError(f"keep_days must be at least 1, not {keep_days}")
    now = now or utcnow()
    abandoned, running, last = _runs(stores, now)
    con = stores.warehouse
    expired = _expired(con, now - timedelta(days=keep_days))
    gone = pa.concat_tables([expired, _unpublished(con, running, last)])
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


def _runs(stores: Stores, now: datetime) -> tuple[list[int], list[int], int]:
    """Runs "running" since before ``ABANDONED_AFTER`` (now recorded as failed), runs still running, and
    the newest run's id (a run that begins after this is running too)."""
    with transaction(stores.sessions) as session:
        last = session.scalar(select(func.max(TagRun.id))) or 0
        found = list(session.scalars(select(TagRun).where(TagRun.status == "running")))
        abandoned = [r for r in found if now - r.started_at > ABANDONED_AFTER]
        for r in abandoned:
            r.status, r.errors, r.finished_at = "failed", {"run": ABANDONED}, now
        return [r.id for r in abandoned], [r.id for r in found if r not in abandoned], last


def _expired(con: BaseBackend, cutoff: datetime) -> pa.Table:
    """(run_id, tag) of published snapshots older than ``cutoff``, but for each tag's last full runs."""
    p = con.table(PUBLISHED)
    everyone = p.filter(p.everyone)
    rank = ibis.row_number().over(group_by=everyone.tag, order_by=everyone.run_id.desc())
    kept = everyone.mutate(rank=rank).filter(rank < KEEP_FULL_RUNS).select("run_id", "tag")
    old = p.filter(p.computed_at < ibis.literal(cutoff, "timestamp('UTC')")).select("run_id", "tag")
    return _keys(old.anti_join(kept, ["run_id", "tag"]).to_pyarrow())


def _unpublished(con: BaseBackend, running: list[int], last: int) -> pa.Table:
    """(run_id, tag) in the snapshots but never published, except those of runs still running."""
    s = con.table(SNAPSHOTS)
    pairs = s.filter(s.run_id <= last).select("run_id", "tag").distinct()
    if running:
        pairs = pairs.filter(~pairs.run_id.isin(running))
    return _keys(pairs.anti_join(con.table(PUBLISHED), ["run_id", "tag"]).to_pyarrow())


def _keys(table: pa.Table) -> pa.Table:
    return table.select(["run_id", "tag"]).cast(pa.schema([("run_id", pa.int64()), ("tag", pa.string())]))
