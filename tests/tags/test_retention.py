"""How long run snapshots are kept, and the leftovers of runs that died before publishing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from tagora.core.auth import CLI_OPERATOR, Principal, Role
from tagora.core.clock import utcnow
from tagora.core.errors import AppError
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores
from tagora.tags.evaluation import evaluate_tag
from tagora.tags.models import SNAPSHOTS, TagRun
from tagora.tags.queries import tag_history
from tagora.tags.retention import ABANDONED, prune_history
from tagora.tags.runs import compute_tags
from tests.conftest import run_cli
from tests.tags.conftest import AS_OF
from tests.tags.test_compute import tag_values

LATER = timedelta(days=100)


def _snapshot_runs(stores: Stores) -> dict[int, int]:
    s = stores.warehouse.table(SNAPSHOTS)
    rows = s.group_by("run_id").aggregate(n=s.count()).to_pyarrow().to_pylist()
    return {r["run_id"]: r["n"] for r in rows}


def _values(stores: Stores) -> list[dict[str, object]]:
    return [tag_values(stores, uid) for uid in (1, 2, 3)]


def test_old_snapshots_go_but_each_tag_keeps_its_current_and_previous_full_run(shop: Stores) -> None:
    first = compute_tags(shop, tags=["orders_30d", "gender"], as_of=AS_OF)
    second = compute_tags(shop, tags=["orders_30d"], as_of=AS_OF + timedelta(days=1))
    third = compute_tags(shop, tags=["orders_30d"], as_of=AS_OF + timedelta(days=2))
    scoped = compute_tags(shop, tags=["orders_30d"], uids=[1], as_of=AS_OF + timedelta(days=2))
    current = _values(shop)

    recent = prune_history(shop, CLI_OPERATOR, keep_days=90)
    assert (recent.snapshots, recent.values, recent.abandoned_runs) == (0, 0, 0)

    pruned = prune_history(shop, CLI_OPERATOR, keep_days=90, now=utcnow() + LATER)
    # orders_30d of the first run (its third-newest full run) and of the run over one customer; the first
    # run's gender is that tag's current run and stays.
    assert (pruned.snapshots, pruned.values) == (2, 3 + 1)
    assert _values(shop) == current
    assert [v.run_id for v in tag_history(shop.warehouse, 1, "orders_30d")] == [second.id, third.id]
    assert [v.run_id for v in tag_history(shop.warehouse, 1, "gender")] == [first.id]
    evaluation = evaluate_tag(shop, "orders_30d")
    assert [p.run_id for p in evaluation.history] == [second.id, third.id]
    assert evaluation.drift is not None and evaluation.drift.previous_run_id == second.id
    assert scoped.id not in _snapshot_runs(shop)

    again = prune_history(shop, CLI_OPERATOR, keep_days=90, now=utcnow() + LATER)
    assert again.snapshots == 0 and _values(shop) == current


def _leftover(stores: Stores, status: str, started_ago: timedelta) -> int:
    """A run that wrote its snapshot and never published it."""
    with stores.sessions() as session, session.begin():
        run = TagRun(
            status=status, actor="t", as_of=AS_OF, tags=["orders_30d"], scope="all", errors={},
            started_at=utcnow() - started_ago,
        )  # fmt: skip
        session.add(run)
        session.flush()
        run_id = run.id
    rows = {
        "uid": pa.array([1, 2], pa.int64()),
        "tag": pa.array(["orders_30d"] * 2),
        "value": pa.nulls(2, pa.string()),
        "number": pa.array([5.0, 6.0]),
        "weight": pa.array([1.0, 1.0]),
        "run_id": pa.array([run_id] * 2, pa.int64()),
        "origin_uid": pa.array([1, 2], pa.int64()),
    }
    stores.warehouse.insert(SNAPSHOTS, pa.table(rows))
    return run_id


def test_what_runs_that_died_left_is_removed_but_not_what_a_running_run_is_writing(shop: Stores) -> None:
    done = compute_tags(shop, tags=["orders_30d"], as_of=AS_OF)
    current = _values(shop)
    failed = _leftover(shop, "failed", timedelta(minutes=5))
    dead = _leftover(shop, "running", timedelta(days=2))
    running = _leftover(shop, "running", timedelta(seconds=5))

    pruned = prune_history(shop, CLI_OPERATOR, keep_days=90)
    assert (pruned.snapshots, pruned.values, pruned.abandoned_runs) == (2, 4, 1)
    assert set(_snapshot_runs(shop)) == {done.id, running}
    assert _values(shop) == current
    with shop.sessions() as session:
        marked = session.get_one(TagRun, dead)
        assert (marked.status, marked.errors, marked.finished_at is not None) == (
            "failed",
            {"run": ABANDONED},
            True,
        )
        assert session.get_one(TagRun, running).status == "running"
        assert session.get_one(TagRun, failed).status == "failed"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "tag.prune")).one()
        assert entry.actor == CLI_OPERATOR.username and entry.detail["snapshots"] == 2


def test_pruning_needs_the_compute_permission_and_a_positive_number_of_days(shop: Stores) -> None:
    with pytest.raises(AppError) as caught:
        prune_history(shop, Principal("mia", Role.MARKETER), keep_days=90)
    assert caught.value.status == 403
    with pytest.raises(AppError, match="keep_days must be at least 1") as refused:
        prune_history(shop, CLI_OPERATOR, keep_days=0)
    assert (refused.value.status, refused.value.data) == (422, {"field": "keep_days"})


def test_the_cli_prunes(cli_home: Path) -> None:
    run_cli("tags", "install-library")
    run_cli("tags", "compute")
    assert json.loads(run_cli("tags", "prune", "--keep-days", "30", "--json")) == {
        "snapshots": 0, "values": 0, "abandoned_runs": 0,
    }  # fmt: skip
    assert "removed 0 tag snapshots" in run_cli("tags", "prune")
