"""The job queue on real SQLite and PostgreSQL: exclusive claims under concurrent workers, cancellation,
stale heartbeats (a killed worker), retries and their limit, schedules, and refused input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from tagora.core import cli_jobs, jobs
from tagora.core.auth import CLI_OPERATOR, Principal, Role
from tagora.core.clock import utcnow
from tagora.core.errors import AppError
from tagora.core.job_models import Job, JobSchedule, JobWorker
from tagora.core.job_runner import (
    JobRunner,
    enqueue_due,
    ensure_schedules,
    list_schedules,
    live_worker,
    set_schedule,
)
from tagora.core.stores import Stores

RAN: Counter[int] = Counter()
RAN_LOCK = threading.Lock()


def _count(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    with RAN_LOCK:
        RAN[params["n"]] += 1
    time.sleep(0.002)  # long enough for the other worker to try for the same row
    return {"n": params["n"], "by": actor.username}


def _slow(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    for step in range(params.get("steps", 600)):
        progress(step / 600, f"step {step}")
        time.sleep(0.05)
    return {}


def _broken(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    raise RuntimeError("the disk is full")


def _interrupted(
    stores: Stores, actor: Principal, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    raise KeyboardInterrupt  # Ctrl-C in ``tagora worker`` while it runs


def _dated(stores: Stores, actor: Principal, params: dict[str, Any], _p: jobs.Progress) -> dict[str, Any]:
    return {"at": utcnow(), "amount": Decimal("12.50")}


jobs.register("test.count", _count)
jobs.register("test.dated", _dated)
jobs.register("test.interrupted", _interrupted)
jobs.register("test.slow", _slow)
jobs.register("test.broken", _broken)


def _claims_are_exclusive(stores: Stores) -> None:
    RAN.clear()
    for n in range(60):
        jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.count", {"n": n})
    runners = [JobRunner(stores, holds_warehouse=False) for _ in range(2)]
    done: list[list[jobs.JobPublic]] = [[], []]

    def drain(i: int) -> None:
        done[i] = runners[i].drain()

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(range(60)) == RAN  # every job ran, and exactly once
    assert sorted(j.id for j in done[0] + done[1]) == sorted({j.id for j in done[0] + done[1]})
    assert done[0] and done[1]  # both workers took part
    assert all(j.status == "succeeded" and j.attempts == 1 for j in done[0] + done[1])


def test_two_workers_never_claim_the_same_job_on_sqlite(stores: Stores) -> None:
    _claims_are_exclusive(stores)


def test_two_workers_never_claim_the_same_job_on_postgresql(pg_stores: Stores) -> None:
    _claims_are_exclusive(pg_stores)


def test_a_queued_job_is_cancelled_at_once_and_a_running_one_at_its_next_progress_report(
    stores: Stores,
) -> None:
    waiting = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.count", {"n": -1})
    assert jobs.cancel(stores.sessions, CLI_OPERATOR, waiting.id).status == "cancelled"
    with pytest.raises(AppError) as again:
        jobs.cancel(stores.sessions, CLI_OPERATOR, waiting.id)
    assert again.value.status == 409

    slow = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.slow")
    runner = JobRunner(stores, holds_warehouse=False, poll_s=0.05)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while jobs.get_job(stores.sessions, slow.id).progress == 0.0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert jobs.cancel(stores.sessions, CLI_OPERATOR, slow.id).status == "running"
        while not (job := jobs.get_job(stores.sessions, slow.id)).finished:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        runner.stop()
    assert job.status == "cancelled" and job.progress < 1.0 and job.note.startswith("step ")
    assert RAN[-1] == 0  # the cancelled queued job never ran


def test_only_its_creator_or_an_admin_cancels_a_job(stores: Stores) -> None:
    job = jobs.enqueue(stores.sessions, Principal("ann", Role.MARKETER), "test.count", {"n": 1})
    with pytest.raises(AppError) as refused:
        jobs.cancel(stores.sessions, Principal("bob", Role.ANALYST), job.id)
    assert refused.value.status == 403
    assert jobs.cancel(stores.sessions, Principal("ann", Role.MARKETER), job.id).status == "cancelled"


def test_a_job_whose_worker_stopped_beating_is_queued_again_then_failed_after_its_attempts(
    stores: Stores,
) -> None:
    job = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.count", {"n": 5}, max_attempts=2)
    for attempt in (1, 2):
        claimed = jobs.claim(stores.sessions, f"killed-{attempt}")
        assert claimed is not None and claimed.id == job.id and claimed.attempts == attempt
        assert jobs.claim(stores.sessions, "other") is None  # held: nobody else may take it
        assert jobs.requeue_stale(stores.sessions, timedelta(seconds=30)) == []  # its heartbeat is fresh
        with stores.sessions.begin() as session:  # the worker was killed a minute ago
            old = utcnow() - timedelta(minutes=1)
            session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=old))
        assert jobs.requeue_stale(stores.sessions, timedelta(seconds=30)) == [job.id]
    after = jobs.get_job(stores.sessions, job.id)
    assert after.status == "failed" and "killed-2 stopped responding (attempt 2 of 2)" in (after.error or "")
    # the killed worker cannot record an ending over the one the queue gave it
    assert not jobs.finish(stores.sessions, job.id, "killed-2", "succeeded", {})


def test_a_failing_job_is_tried_again_after_a_wait_then_failed_with_its_error(stores: Stores) -> None:
    job = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.broken", max_attempts=2)
    runner = JobRunner(stores, holds_warehouse=False)
    first = runner.drain()
    assert [(j.status, j.attempts) for j in first] == [("queued", 1)]
    assert first[0].error == "RuntimeError: the disk is full" and first[0].not_before > first[0].created_at
    assert runner.drain() == []  # waiting for its next attempt
    with stores.sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job.id).values(not_before=Job.created_at))
    assert [(j.status, j.attempts) for j in runner.drain()] == [("failed", 2)]


def test_an_unknown_kind_and_a_bad_status_filter_are_refused_naming_the_field(stores: Stores) -> None:
    with pytest.raises(AppError) as kind:
        jobs.enqueue(stores.sessions, CLI_OPERATOR, "no.such.kind")
    assert kind.value.status == 422 and kind.value.data["field"] == "kind"
    with pytest.raises(AppError) as status:
        jobs.list_jobs(stores.sessions, status="done")
    assert status.value.status == 422 and status.value.data["field"] == "status"
    with pytest.raises(AppError) as missing:
        jobs.get_job(stores.sessions, 999)
    assert missing.value.status == 404


def test_a_schedule_queues_its_job_once_when_due_and_refuses_a_bad_cron(stores: Stores) -> None:
    ensure_schedules(stores.sessions, {"counting": ("test.count", "*/5 * * * *")})
    assert enqueue_due(stores.sessions, CLI_OPERATOR) == []  # not yet
    with stores.sessions.begin() as session:  # its time came
        session.execute(update(JobSchedule).values(next_run_at=utcnow() - timedelta(minutes=1)))
    (queued,) = enqueue_due(stores.sessions, CLI_OPERATOR)
    assert queued.kind == "test.count" and queued.schedule == "counting"
    assert enqueue_due(stores.sessions, CLI_OPERATOR) == []  # another worker looking now queues nothing
    assert enqueue_due(stores.sessions, CLI_OPERATOR, force=True) == []  # nor while its last job waits
    (schedule,) = list_schedules(stores.sessions)
    assert schedule.next_run_at > utcnow() and schedule.last_job_id == queued.id

    with pytest.raises(AppError) as bad:
        set_schedule(stores.sessions, CLI_OPERATOR, "counting", "every night", None)
    assert bad.value.status == 422 and bad.value.data["field"] == "cron"
    with pytest.raises(AppError) as forbidden:
        set_schedule(stores.sessions, Principal("ann", Role.MARKETER), "counting", "0 * * * *", None)
    assert forbidden.value.status == 403
    assert not set_schedule(stores.sessions, CLI_OPERATOR, "counting", None, False).enabled


def test_a_handed_over_command_runs_here_when_the_server_that_held_the_warehouse_is_gone(
    stores: Stores,
) -> None:
    from tagora.cli import app

    cli_jobs.register(app)  # as ``tagora`` does before it hands a command over
    warehouse = stores.settings.resolved_warehouse_url
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with stores.sessions.begin() as session:  # "killed" died a moment ago: its heartbeat is still fresh
        for worker_id, pid in (("killed", int(gone.stdout)), ("alive", os.getpid())):
            session.add(
                JobWorker(
                    id=worker_id,
                    host=socket.gethostname(),
                    pid=pid,
                    warehouse=warehouse,
                    started_at=utcnow(),
                    heartbeat_at=utcnow() - timedelta(seconds=int(worker_id == "alive")),
                )
            )
    assert live_worker(stores.sessions, warehouse) == "alive"
    with stores.sessions.begin() as session:
        session.execute(update(JobWorker).where(JobWorker.id == "alive").values(stopped_at=utcnow()))
    assert live_worker(stores.sessions, warehouse) is None  # a dead process is not a live worker

    job = jobs.enqueue(stores.sessions, CLI_OPERATOR, "cli", {"argv": ["jobs", "show", "1", "--json"]})
    done = cli_jobs.follow(stores, CLI_OPERATOR, job.id)
    assert done.status == "succeeded" and done.result is not None and done.result["exit_code"] == 0
    assert json.loads(done.result["stdout"])["kind"] == "cli"  # the command saw its own job, running

    failing = jobs.enqueue(stores.sessions, CLI_OPERATOR, "cli", {"argv": ["jobs", "show", "999"]})
    ended = cli_jobs.follow(stores, CLI_OPERATOR, failing.id)
    assert ended.status == "failed" and ended.attempts == 1  # a command that fails is not tried again
    assert ended.result is not None and ended.result["exit_code"] == 2
    assert "not found" in ended.result["stderr"] + ended.result["stdout"]


def test_a_worker_leaves_a_kind_it_does_not_run_to_a_worker_that_does(stores: Stores) -> None:
    with stores.sessions.begin() as session:  # queued by a process that knows a kind this one does not
        session.add(Job(kind="sends.deliver", params={}, created_by="cli", role="admin"))
    theirs = jobs.list_jobs(stores.sessions)[0]
    assert JobRunner(stores, holds_warehouse=False).drain() == []
    assert jobs.get_job(stores.sessions, theirs.id).status == "queued"


def test_a_job_interrupted_by_ctrl_c_goes_back_to_the_queue_at_once(stores: Stores) -> None:
    job = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.interrupted")
    with pytest.raises(KeyboardInterrupt):
        JobRunner(stores, holds_warehouse=False).drain()
    back = jobs.get_job(stores.sessions, job.id)
    assert back.status == "queued" and back.worker is None and "was stopped" in (back.error or "")


def test_a_result_with_dates_and_decimals_is_recorded_as_text(stores: Stores) -> None:
    job = jobs.enqueue(stores.sessions, CLI_OPERATOR, "test.dated")
    (done,) = JobRunner(stores, holds_warehouse=False).drain()
    assert done.id == job.id and done.status == "succeeded"
    assert done.result is not None and done.result["amount"] == "12.50" and done.result["at"][:2] == "20"
