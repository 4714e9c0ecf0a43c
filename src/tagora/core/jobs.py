"""The persisted job queue: enqueue, claim, report progress, finish, cancel, and requeue what a dead worker
left behind.

A job is a row (kind, parameters, status, progress, who, when, error, attempts, result). A kind names a
function ``(stores, actor, params, progress) -> result`` registered with :func:`register`; the worker
(``core.job_runner``) claims a queued job, runs it and records how it ended. Claims are exclusive: on
PostgreSQL the claimer locks the row it picks with ``FOR UPDATE SKIP LOCKED``; on SQLite one conditional
``UPDATE`` (``WHERE status = 'queued'``) is the single atomic claimer, because SQLite runs one writer at a
time. A running job's worker writes a heartbeat; a job whose heartbeat went stale (the process was killed)
is queued again, or failed once it used its attempts — never lost, never run by two workers at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit
from tagora.core.auth import Permission, Principal, Role
from tagora.core.clock import utcnow
from tagora.core.db import transaction
from tagora.core.errors import AppError, CoreErrorCode, not_found
from tagora.core.job_models import Job

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINISHED = (SUCCEEDED, FAILED, CANCELLED)

Progress = Callable[[float, str], None]  # progress(fraction done 0..1, what it is doing now)
JobFunction = Callable[[Any, Principal, dict[str, Any], Progress], dict[str, Any]]

_KINDS: dict[str, JobFunction] = {}


class JobCancelled(Exception):
    """Raised inside a job (from its progress call) when someone asked to cancel it."""


class JobFailed(Exception):
    """Raised by a job that ran to its end but failed: recorded with its result, not tried again."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


class JobLost(Exception):
    """Raised inside a job when its claim was taken from it (its heartbeat went stale)."""


class JobPublic(BaseModel):
    id: int
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    note: str
    created_by: str
    created_at: datetime
    not_before: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker: str | None
    attempts: int
    max_attempts: int
    cancel_requested: bool
    schedule: str | None
    error: str | None
    result: dict[str, Any] | None
    role: str

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def actor(self) -> Principal:
        return Principal(username=self.created_by, role=Role(self.role))


def register(kind: str, function: JobFunction) -> None:
    """Make ``kind`` runnable; later issues add sends and journey timers the same way."""
    _KINDS[kind] = function


def function_of(kind: str) -> JobFunction:
    if kind not in _KINDS:
        raise AppError(
            CoreErrorCode.INVALID_INPUT, f"unknown job kind {kind!r}", 422, {"field": "kind", "kind": kind}
        )
    return _KINDS[kind]


def kinds() -> list[str]:
    return sorted(_KINDS)


def present(job: Job) -> JobPublic:
    return JobPublic.model_validate(job, from_attributes=True)


def enqueue(
    sessions: sessionmaker[Session],
    actor: Principal,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    max_attempts: int = 3,
    schedule: str | None = None,
) -> JobPublic:
    """Queue a job that will run as ``actor``; its own checks run then, with the actor's permissions."""
    function_of(kind)
    with transaction(sessions) as session:
        job = Job(
            kind=kind,
            params=params or {},
            status=QUEUED,
            progress=0.0,
            note="",
            created_by=actor.username,
            role=str(actor.role),
            created_at=utcnow(),
            not_before=utcnow(),
            attempts=0,
            max_attempts=max_attempts,
            cancel_requested=False,
            schedule=schedule,
        )
        session.add(job)
        session.flush()
        audit.record(session, actor.username, "job.enqueue", "job", job.id, kind=kind, schedule=schedule)
        return present(job)


def claim(sessions: sessionmaker[Session], worker: str, only: int | None = None) -> JobPublic | None:
    """Take the oldest queued job (or job ``only``) of a kind this process runs, for ``worker``; None when
    there is none to take (a kind registered only elsewhere waits for a worker that knows it).

    One ``UPDATE ... WHERE id = (SELECT ...)`` statement: on SQLite it takes the write lock before it
    reads, so two claimers queue up instead of both reading the same row; on PostgreSQL the sub-select
    skips rows another claimer has locked.
    """
    now = utcnow()
    pick = (
        select(Job.id)
        .where(Job.status == QUEUED, Job.not_before <= now, Job.kind.in_(kinds()))
        .order_by(Job.id)
        .limit(1)
    )
    if only is not None:
        pick = pick.where(Job.id == only)
    with transaction(sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        job_id = session.scalar(
            update(Job)
            .where(Job.id == pick.scalar_subquery(), Job.status == QUEUED)
            .values(
                status=RUNNING, worker=worker, started_at=now, heartbeat_at=now, attempts=Job.attempts + 1
            )
            .returning(Job.id)
        )
        return None if job_id is None else present(session.get_one(Job, job_id, populate_existing=True))


def heartbeat(
    sessions: sessionmaker[Session], job_id: int, worker: str, progress: float | None = None, note: str = ""
) -> None:
    """Say ``worker`` still runs the job (and how far it got); raises if it should stop."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values.update(progress=max(0.0, min(1.0, progress)), note=note[:256])
    with transaction(sessions) as session:
        mine = (Job.id == job_id, Job.worker == worker, Job.status == RUNNING)
        if session.execute(update(Job).where(*mine).values(**values)).rowcount != 1:  # type: ignore[attr-defined]
            raise JobLost(f"job {job_id} is no longer held by {worker}")
        if session.scalar(select(Job.cancel_requested).where(Job.id == job_id)):
            raise JobCancelled(f"job {job_id} was cancelled")


def finish(
    sessions: sessionmaker[Session],
    job_id: int,
    worker: str,
    status: str,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """Record how the job ended; False if the claim had already been taken from ``worker``."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "result": result, "error": error}
    if status == SUCCEEDED:
        values.update(progress=1.0)
    with transaction(sessions) as session:
        done = session.execute(
            update(Job).where(Job.id == job_id, Job.worker == worker, Job.status == RUNNING).values(**values)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            job = session.get_one(Job, job_id)
            audit.record(session, job.created_by, f"job.{status}", "job", job_id, kind=job.kind)
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def retry_or_fail(sessions: sessionmaker[Session], job_id: int, worker: str, error: str) -> None:
    """A job that raised: queue it again (after a growing wait) while it has attempts left, else fail it."""
    _end_attempt(sessions, job_id, worker, error, None, backoff=True)


def release(sessions: sessionmaker[Session], job_id: int, worker: str, why: str) -> None:
    """The worker stops (Ctrl-C) in the middle of the job: queue it again now, or fail it if that was its
    last attempt."""
    _end_attempt(sessions, job_id, worker, why, None, backoff=False)


def requeue_stale(sessions: sessionmaker[Session], stale_after: timedelta) -> list[int]:
    """Running jobs whose worker stopped beating (killed, machine lost): queue them again, or fail them
    once they used their attempts (cancel them if that was asked). Returns the ids it took back."""
    cutoff = utcnow() - stale_after
    with sessions() as session:
        stale = session.execute(
            select(Job.id, Job.worker, Job.attempts, Job.max_attempts).where(
                Job.status == RUNNING, Job.heartbeat_at < cutoff
            )
        ).all()
    taken = []
    for job_id, worker, attempts, max_attempts in stale:
        error = f"its worker {worker} stopped responding (attempt {attempts} of {max_attempts})"
        if worker is not None and _end_attempt(sessions, job_id, worker, error, cutoff, backoff=False):
            taken.append(job_id)
    return taken


def _end_attempt(
    sessions: sessionmaker[Session],
    job_id: int,
    worker: str,
    error: str,
    beat_before: datetime | None,
    backoff: bool,
) -> bool:
    """End the attempt of ``worker`` (whose last beat was before ``beat_before``, if given): the job is
    queued again, failed, or cancelled if that was asked. Its first statement is the conditional UPDATE,
    so on SQLite it holds the write lock before it reads anything."""
    now = utcnow()
    retry = and_(Job.attempts < Job.max_attempts, Job.cancel_requested.is_(False))
    mine = [Job.id == job_id, Job.worker == worker, Job.status == RUNNING]
    if beat_before is not None:
        mine.append(Job.heartbeat_at < beat_before)
    with transaction(sessions) as session:
        done = session.execute(
            update(Job)
            .where(*mine)
            .values(
                status=case((Job.cancel_requested, CANCELLED), (retry, QUEUED), else_=FAILED),
                worker=None,
                error=error,
                finished_at=case((retry, None), else_=now),
            )
            .returning(Job.status, Job.created_by, Job.kind, Job.attempts)
        ).first()
        if done is None:
            return False
        if backoff and done.status == QUEUED:  # 5 s, 10 s, 20 s ... before the next attempt
            wait = timedelta(seconds=5 * 2 ** (done.attempts - 1))
            session.execute(update(Job).where(Job.id == job_id).values(not_before=now + wait))
        if done.status != QUEUED:
            audit.record(session, done.created_by, f"job.{done.status}", "job", job_id, kind=done.kind)
        return True


def cancel(sessions: sessionmaker[Session], actor: Principal, job_id: int) -> JobPublic:
    """A queued job is cancelled at once; a running one stops at its next progress report."""
    may = true() if actor.can(Permission.USERS_MANAGE) else Job.created_by == actor.username
    with transaction(sessions) as session:
        # the write comes first: on SQLite the transaction then holds the lock while it reads
        done = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_((QUEUED, RUNNING)), may)
            .values(
                cancel_requested=True,
                status=case((Job.status == QUEUED, CANCELLED), else_=Job.status),
                finished_at=case((Job.status == QUEUED, utcnow()), else_=Job.finished_at),
            )
        )
        job = session.get(Job, job_id, populate_existing=True)
        if job is None:
            raise not_found("job", job_id)
        if done.rowcount != 1:  # type: ignore[attr-defined]
            if job.status in FINISHED:
                raise AppError(
                    CoreErrorCode.CONFLICT, f"job {job_id} already {job.status}", 409, {"status": job.status}
                )
            raise AppError(CoreErrorCode.FORBIDDEN, "only its creator or an admin may cancel a job", 403)
        audit.record(session, actor.username, "job.cancel", "job", job_id, kind=job.kind)
        return present(job)


def get_job(sessions: sessionmaker[Session], job_id: int) -> JobPublic:
    with sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise not_found("job", job_id)
        return present(job)


def list_jobs(
    sessions: sessionmaker[Session], status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[JobPublic]:
    if status is not None and status not in STATUSES:
        raise AppError(
            CoreErrorCode.INVALID_INPUT,
            f"status must be one of {', '.join(STATUSES)}",
            422,
            {"field": "status", "value": status},
        )
    query = select(Job).order_by(Job.id.desc()).limit(max(1, min(limit, 1000)))
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    with sessions() as session:
        return [present(j) for j in session.scalars(query)]
