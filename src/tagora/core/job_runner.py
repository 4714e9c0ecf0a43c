"""The worker that runs the job queue: in ``tagora worker``, inside ``tagora serve``/``demo``, or in a CLI
command that runs its own job when no worker holds the warehouse.

A worker registers itself in ``job_workers`` and beats there while it lives, so a CLI command can tell
that a running server holds the warehouse and hand its work over instead of failing on DuckDB's lock. One
beating thread also keeps the heartbeat of the job being run; the job's progress calls are where it stops
when cancelled. Recurring jobs come from ``job_schedules`` (cron expressions, croniter).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit, jobs
from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import redact, transaction, upsert
from tagora.core.errors import AppError, CoreErrorCode, not_found
from tagora.core.job_models import Job, JobSchedule, JobWorker
from tagora.core.stores import Stores

HEARTBEAT_S = 5.0
STALE_AFTER = timedelta(seconds=60)  # a running job unheard of this long is taken back
PROGRESS_EVERY_S = 0.5  # progress is written at most this often; the heartbeat carries cancellation too
WORKER_ALIVE = timedelta(seconds=20)  # a worker heard from within this holds its warehouse


class ScheduleInfo(BaseModel):
    name: str
    kind: str
    params: dict[str, Any]
    cron: str
    enabled: bool
    next_run_at: datetime
    last_job_id: int | None


def live_worker(sessions: sessionmaker[Session], warehouse: str) -> str | None:
    """The id of a running worker that holds ``warehouse`` (heard from recently), if there is one.

    A worker on this machine whose process is gone (killed before it could say it stopped) is not live,
    however fresh its last heartbeat. Warehouses are named without their password."""
    warehouse = redact(warehouse)
    with sessions() as session:
        rows = session.execute(
            select(JobWorker.id, JobWorker.host, JobWorker.pid)
            .where(
                JobWorker.warehouse == warehouse,
                JobWorker.stopped_at.is_(None),
                JobWorker.heartbeat_at >= utcnow() - WORKER_ALIVE,
            )
            .order_by(JobWorker.heartbeat_at.desc())
        ).all()
    here = socket.gethostname()
    return next((id_ for id_, host, pid in rows if host != here or _alive(pid)), None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _next_run(cron: str, after: datetime) -> datetime:
    return croniter(cron, after).get_next(datetime)


def _check_cron(cron: str) -> None:
    if not croniter.is_valid(cron):
        raise AppError(
            CoreErrorCode.INVALID_INPUT,
            f"{cron!r} is not a cron expression (minute hour day month weekday)",
            422,
            {"field": "cron", "value": cron},
        )


def ensure_schedules(sessions: sessionmaker[Session], defaults: dict[str, tuple[str, str]]) -> None:
    """Add the built-in schedules (name -> (kind, cron)) that are missing; never change an edited one.
    (``ON CONFLICT DO NOTHING``: workers that start together add each one once.)"""
    rows = [
        {
            "name": name,
            "kind": kind,
            "params": {},
            "cron": cron,
            "enabled": True,
            "next_run_at": _next_run(cron, utcnow()),
        }
        for name, (kind, cron) in defaults.items()
    ]
    with transaction(sessions) as session:
        upsert(session, JobSchedule.__table__, rows, keys=["name"])


def set_schedule(
    sessions: sessionmaker[Session], actor: Principal, name: str, cron: str | None, enabled: bool | None
) -> ScheduleInfo:
    if not actor.can(Permission.USERS_MANAGE):
        raise AppError(CoreErrorCode.FORBIDDEN, "only an admin may change job schedules", 403)
    if cron is not None:
        _check_cron(cron)
    with transaction(sessions) as session:
        schedule = session.get(JobSchedule, name)
        if schedule is None:
            raise not_found("schedule", name)
        if cron is not None:
            schedule.cron, schedule.next_run_at = cron, _next_run(cron, utcnow())
        if enabled is not None:
            schedule.enabled = enabled
        audit.record(
            session, actor.username, "job.schedule", "job_schedule", name, cron=cron, enabled=enabled
        )
        session.flush()
        return ScheduleInfo.model_validate(schedule, from_attributes=True)


def list_schedules(sessions: sessionmaker[Session]) -> list[ScheduleInfo]:
    with sessions() as session:
        rows = session.scalars(select(JobSchedule).order_by(JobSchedule.name))
        return [ScheduleInfo.model_validate(s, from_attributes=True) for s in rows]


def enqueue_due(
    sessions: sessionmaker[Session], actor: Principal, force: bool = False
) -> list[jobs.JobPublic]:
    """Queue each enabled schedule whose time came (each one, with ``force``), unless its last job is still
    queued or running. The schedule moves on in the same conditional update, so two workers checking at
    once queue it once."""
    now = utcnow()
    queued = []
    for schedule in sorted(list_schedules(sessions), key=lambda s: (s.next_run_at, s.name)):
        if not schedule.enabled or (schedule.next_run_at > now and not force):
            continue
        with transaction(sessions) as session:
            moved = session.execute(
                update(JobSchedule)
                .where(JobSchedule.name == schedule.name, JobSchedule.next_run_at == schedule.next_run_at)
                .values(next_run_at=_next_run(schedule.cron, now))
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                continue
            last = None if schedule.last_job_id is None else session.get(Job, schedule.last_job_id)
            if last is not None and last.status in (jobs.QUEUED, jobs.RUNNING):
                continue
        job = jobs.enqueue(sessions, actor, schedule.kind, schedule.params, schedule=schedule.name)
        with transaction(sessions) as session:
            session.get_one(JobSchedule, schedule.name).last_job_id = job.id
        queued.append(job)
    return queued


class JobRunner:
    """Claims queued jobs and runs them, one at a time, beating for itself and for the job it runs."""

    def __init__(
        self,
        stores: Stores,
        *,
        holds_warehouse: bool = True,
        scheduler: Principal | None = None,
        poll_s: float = 1.0,
        heartbeat_s: float = HEARTBEAT_S,
        stale_after: timedelta = STALE_AFTER,
        report: Callable[[jobs.JobPublic], None] | None = None,
    ) -> None:
        self.stores = stores
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holds_warehouse = holds_warehouse
        self.scheduler = scheduler  # who queues the scheduled jobs; None: this runner queues none
        self.poll_s, self.heartbeat_s, self.stale_after = poll_s, heartbeat_s, stale_after
        self.report = report
        self._stop = threading.Event()
        self._current: int | None = None
        self._reported = 0.0  # when the current job's progress was last written (time.monotonic)
        self._flag: type[Exception] | None = None  # what the beating thread learnt about the current job
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # -- life cycle -----------------------------------------------------------------------------------
    def register(self) -> None:
        warehouse = redact(self.stores.settings.resolved_warehouse_url) if self.holds_warehouse else ""
        with transaction(self.stores.sessions) as session:
            session.add(
                JobWorker(
                    id=self.id,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    warehouse=warehouse,
                    started_at=utcnow(),
                    heartbeat_at=utcnow(),
                )
            )
        beat = threading.Thread(target=self._beat_loop, name="tagora-job-heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)

    def start(self) -> None:
        """Run the queue in a background thread until :meth:`stop`."""
        self.register()
        loop = threading.Thread(target=self.run_forever, name="tagora-jobs", daemon=True)
        loop.start()
        self._threads.append(loop)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        with transaction(self.stores.sessions) as session:
            session.execute(update(JobWorker).where(JobWorker.id == self.id).values(stopped_at=utcnow()))

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.tick()
            except Exception:  # recording an ending failed (the database went away): the worker carries on
                traceback.print_exc()
                ran = None
            if ran is None:
                self._stop.wait(self.poll_s)

    def tick(self) -> jobs.JobPublic | None:
        """Queue what is due, take back stale jobs, run one job; None when there was nothing to run."""
        try:
            if self.scheduler is not None:
                enqueue_due(self.stores.sessions, self.scheduler)
            jobs.requeue_stale(self.stores.sessions, self.stale_after)
            job = jobs.claim(self.stores.sessions, self.id)
        except Exception:  # the metadata database was briefly unreachable: try again next poll
            traceback.print_exc()
            return None
        return None if job is None else self.run(job)

    def drain(self) -> list[jobs.JobPublic]:
        """Run every job that can run now, then return how each ended (``tagora worker --once``)."""
        done = []
        while (job := self.tick()) is not None:
            done.append(job)
        return done

    # -- one job --------------------------------------------------------------------------------------
    def run_claimed(self, job_id: int) -> jobs.JobPublic | None:
        """Claim job ``job_id`` and run it here (a CLI command running its own job); None if taken."""
        job = jobs.claim(self.stores.sessions, self.id, only=job_id)
        if job is None:
            return None
        beating = not self._threads
        if beating:
            self.register()  # the beating thread keeps the claim while the job is silent
        try:
            return self.run(job)
        finally:
            if beating:
                self.stop()

    def run(self, job: jobs.JobPublic) -> jobs.JobPublic:
        sessions = self.stores.sessions
        with self._lock:
            self._current, self._flag, self._reported = job.id, None, 0.0
        try:
            result = jobs.function_of(job.kind)(self.stores, job.actor(), dict(job.params), self._progress)
        except jobs.JobCancelled:
            jobs.finish(sessions, job.id, self.id, jobs.CANCELLED, error="cancelled")
        except jobs.JobFailed as exc:
            jobs.finish(sessions, job.id, self.id, jobs.FAILED, result=exc.result, error=str(exc))
        except jobs.JobLost:
            pass  # a worker took it back after our heartbeat went stale; it is theirs now
        except AppError as exc:  # bad input or a refused step: trying again would not help
            jobs.finish(sessions, job.id, self.id, jobs.FAILED, error=f"{exc.code}: {exc.message}")
        except Exception as exc:
            jobs.retry_or_fail(sessions, job.id, self.id, f"{type(exc).__name__}: {exc}")
        except BaseException:  # Ctrl-C in ``tagora worker``: the job goes back to the queue at once
            jobs.release(sessions, job.id, self.id, f"its worker {self.id} was stopped")
            raise
        else:  # JSON-safe, so recording the result cannot fail on a date or a Decimal
            jobs.finish(
                sessions, job.id, self.id, jobs.SUCCEEDED, result=json.loads(json.dumps(result, default=str))
            )
        finally:
            with self._lock:
                self._current = None
        done = jobs.get_job(sessions, job.id)
        if self.report is not None:
            self.report(done)
        return done

    def _progress(self, fraction: float, note: str = "") -> None:
        with self._lock:
            flag, job_id = self._flag, self._current
        if flag is not None:
            raise flag(f"job {job_id}")
        now = time.monotonic()
        if job_id is None or now - self._reported < PROGRESS_EVERY_S:  # a job may report in a tight loop
            return
        self._reported = now
        jobs.heartbeat(self.stores.sessions, job_id, self.id, fraction, note)

    def _beat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            self.beat()

    def beat(self) -> None:
        try:
            with transaction(self.stores.sessions) as session:
                session.execute(
                    update(JobWorker).where(JobWorker.id == self.id).values(heartbeat_at=utcnow())
                )
            with self._lock:
                job_id = self._current
            if job_id is not None:
                jobs.heartbeat(self.stores.sessions, job_id, self.id)
        except (jobs.JobCancelled, jobs.JobLost) as exc:
            with self._lock:
                if self._current == job_id:  # not a job that has just ended
                    self._flag = type(exc)
        except Exception:  # a missed beat is retried on the next one
            traceback.print_exc()
