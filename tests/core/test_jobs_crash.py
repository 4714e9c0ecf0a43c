"""A job whose worker is killed with SIGKILL mid-way is run again after restart and completes exactly once:
a real ``tagora worker`` process, a real tag run, a real kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

import tagora.worker  # noqa: F401  # registers the job kinds
from tagora.cli import app
from tagora.core import jobs
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.settings import get_settings
from tagora.tags.runs import runs

CLI = [sys.executable, "-m", "tagora.cli"]


def _metadata() -> Stores:
    return open_stores(get_settings(), lazy_warehouse=True)  # never the warehouse the worker holds


def test_a_job_killed_mid_way_completes_exactly_once_after_restart(cli_home: Path) -> None:
    assert CliRunner().invoke(app, ["demo", "--customers", "1500", "--no-serve"]).exit_code == 0
    stores = _metadata()
    try:
        succeeded_before = sum(r.status == "succeeded" for r in runs(stores))
        job = jobs.enqueue(stores.sessions, CLI_OPERATOR, "tags.compute")
    finally:
        stores.close()

    worker = subprocess.Popen(
        [*CLI, "worker", "--poll-s", "0.1", "--heartbeat-s", "0.5"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stores = _metadata()
    try:
        deadline = time.monotonic() + 60
        while jobs.get_job(stores.sessions, job.id).status != "running":
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # into the tag run
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed = jobs.get_job(stores.sessions, job.id)
        assert killed.status == "running" and killed.attempts == 1  # killed mid-way, not after the end
        assert runs(stores)[0].status == "running"  # the killed attempt's tag run never finished
    finally:
        stores.close()

    time.sleep(1.5)  # the dead worker's heartbeat goes stale
    restarted = CliRunner().invoke(app, ["worker", "--once", "--stale-after-s", "1"])
    assert restarted.exit_code == 0, restarted.output
    stores = _metadata()
    try:
        done = jobs.get_job(stores.sessions, job.id)
        all_runs = runs(stores)
    finally:
        stores.close()
    assert done.status == "succeeded" and done.attempts == 2
    assert sum(r.status == "succeeded" for r in all_runs) == succeeded_before + 1  # exactly once
    assert done.result is not None and done.result["customers"] == 1500
