"""``tagora worker``: the scheduled jobs (the nightly tag run, then pruning and segment re-counts; models and
recommendations), run when due, with what each did; a failed run is visible and tried again."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from sqlalchemy import update
from typer.testing import CliRunner

from tagora.audiences import logic as audiences
from tagora.audiences.schemas import SegmentCreate
from tagora.cli import app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.job_models import Job
from tagora.core.job_runner import JobRunner, enqueue_due, ensure_schedules
from tagora.core.stores import Stores, open_stores
from tagora.demo import load_demo_data
from tagora.settings import get_settings
from tagora.tags.runs import runs
from tagora.worker import SCHEDULES, WORKER


def test_scheduled_jobs_run_when_due_and_report_what_they_did(stores: Stores) -> None:
    load_demo_data(stores, 200, 3)  # imports, installs the library and computes it once
    expression = {"tag": "lifecycle", "op": "in", "value": ["active", "loyal", "new"]}
    audiences.create_segment(
        stores, CLI_OPERATOR, SegmentCreate(code="engaged", name="Engaged", expression=expression)
    )
    ensure_schedules(stores.sessions, SCHEDULES)
    runner = JobRunner(stores, scheduler=WORKER)
    runner.register()
    try:
        assert runner.drain() == []  # the schedules are due tonight, not now
        before = len(runs(stores))
        assert len(enqueue_due(stores.sessions, WORKER, force=True)) == 3
        done = runner.drain()
    finally:
        runner.stop()
    by_kind = {j.kind: j for j in done}
    assert [j.kind for j in done][3:] == ["tags.prune", "segments.refresh"]  # queued by the tag run
    assert set(by_kind) == {"tags.compute", "recs.train", "models.publish", "tags.prune", "segments.refresh"}
    assert all(j.status == "succeeded" for j in done)
    compute, recs, models, prune, refresh = (
        by_kind[k].result or {}
        for k in ("tags.compute", "recs.train", "models.publish", "tags.prune", "segments.refresh")
    )
    assert compute["tags"] == 42 and compute["customers"] == 200
    assert recs["detail"].startswith("hybrid on ")
    assert models["detail"].startswith("model_tags v1:")
    assert prune == {"snapshots": 0, "values": 0, "abandoned_runs": 0}  # all within tag_history_days
    assert refresh == {"segments": 1}
    assert all(j.created_by == "worker" for j in done)
    latest = runs(stores)[0]
    assert len(runs(stores)) == before + 1 and latest.actor == "worker" and latest.scope == "all"
    assert audiences.show_segment(stores, "engaged").size == audiences.count(stores, expression).count


def test_the_worker_command_runs_once(cli_home: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--customers", "100", "--no-serve"]).exit_code == 0
    out = runner.invoke(app, ["worker", "--once"])
    assert out.exit_code == 0, out.output
    assert "nothing to run" in out.output
    out = runner.invoke(app, ["worker", "--once", "--force"])
    assert out.exit_code == 0, out.output
    assert re.search(r"tags\.compute \(job \d+\): succeeded", out.output)
    assert re.search(r"segments\.refresh \(job \d+\): succeeded", out.output)


def test_a_failed_tag_run_fails_the_worker_and_is_tried_again_not_taken_as_done(cli_home: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--customers", "100", "--no-serve"]).exit_code == 0
    warehouse = str(cli_home / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:  # the amounts the tag run sums are no longer numbers
        con.execute("CREATE TABLE orders_kept AS SELECT * FROM orders")
        con.execute("ALTER TABLE orders ALTER amount TYPE VARCHAR")
        con.execute("UPDATE orders SET amount = 'lots'")
    out = runner.invoke(app, ["worker", "--once", "--force"])
    assert out.exit_code == 1, out.output
    assert re.search(r"tags\.compute \(job \d+\): failed \(attempt 1 of 3\)", out.output)
    assert "segments.refresh" not in out.output  # no re-count from a failed run

    with duckdb.connect(warehouse) as con:
        con.execute("DROP TABLE orders")
        con.execute("ALTER TABLE orders_kept RENAME TO orders")
    stores = open_stores(get_settings())
    try:
        with stores.sessions.begin() as session:  # skip the back-off wait before the next attempt
            session.execute(update(Job).where(Job.status == "queued").values(not_before=Job.created_at))
    finally:
        stores.close()
    out = runner.invoke(app, ["worker", "--once"])
    assert out.exit_code == 0, out.output
    assert re.search(r"tags\.compute \(job \d+\): succeeded", out.output)
    assert re.search(r"segments\.refresh \(job \d+\): succeeded", out.output)
