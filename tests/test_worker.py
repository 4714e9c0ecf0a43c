"""``tagora worker``: the nightly tag run, pruning and segment re-counts, run when due, with what each did."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from tagora.audiences import logic as audiences
from tagora.audiences.schemas import SegmentCreate
from tagora.cli import app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.demo import load_demo_data
from tagora.tags.runs import runs
from tagora.worker import run_due, tag_run_due

DAY = timedelta(hours=24)


def test_jobs_run_when_due_and_report_what_they_did(stores: Stores) -> None:
    load_demo_data(stores, 200, 3)  # imports, installs the library and computes it once
    expression = {"tag": "lifecycle", "op": "in", "value": ["active", "loyal", "new"]}
    segment = audiences.create_segment(
        stores, CLI_OPERATOR, SegmentCreate(code="engaged", name="Engaged", expression=expression)
    )
    assert not tag_run_due(stores, DAY)
    assert [r.status for r in run_due(stores, DAY)] == ["skipped"]
    assert tag_run_due(stores, timedelta(0))
    before = len(runs(stores))
    results = run_due(stores, timedelta(0))
    assert [(r.job, r.status) for r in results] == [
        ("tags.compute", "succeeded"),
        ("tags.prune", "succeeded"),
        ("segments.refresh", "succeeded"),
        ("recs.train", "succeeded"),
        ("models.publish", "succeeded"),
    ]
    assert "42 tags" in results[0].detail and "200 customers" in results[0].detail
    assert results[1].detail == "0 tag snapshots (0 values) removed"  # all within tag_history_days
    assert results[2].detail == "1 segments re-counted"
    assert results[3].detail.startswith("hybrid on ")
    assert results[4].detail.startswith("model_tags v1:")
    latest = runs(stores)[0]
    assert len(runs(stores)) == before + 1 and latest.actor == "worker" and latest.scope == "all"
    assert audiences.show_segment(stores, "engaged").size == audiences.count(stores, expression).count
    assert segment.code == "engaged"
    assert run_due(stores, timedelta(0))[4].detail.startswith("model_tags v2:")


def test_the_worker_command_runs_once(cli_home: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--customers", "100", "--no-serve"]).exit_code == 0
    out = runner.invoke(app, ["worker", "--once"])
    assert out.exit_code == 0, out.output
    assert "tags.compute: skipped" in out.output
    out = runner.invoke(app, ["worker", "--once", "--force"])
    assert out.exit_code == 0, out.output
    assert "tags.compute: succeeded" in out.output and "segments.refresh: succeeded" in out.output
