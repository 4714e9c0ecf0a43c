"""``/api/jobs``: the job queue for scripts and dashboards — list, show and cancel (``docs/jobs.md``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from tagora.core import jobs
from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import get_stores
from tagora.core.stores import Stores

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

StoresDep = Annotated[Stores, Depends(get_stores)]
# a job's parameters can name customers (a handed-over ``customers show``): the audit readers' view
Reader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
JobId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("", response_model=list[jobs.JobPublic])
def list_jobs(
    stores: StoresDep,
    principal: Reader,
    status: Annotated[str | None, Query(description="queued, running, succeeded, failed, cancelled")] = None,
    kind: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[jobs.JobPublic]:
    """The newest jobs first."""
    return jobs.list_jobs(stores.sessions, status, kind, limit)


@router.get("/{job_id}", response_model=jobs.JobPublic)
def show_job(job_id: JobId, stores: StoresDep, principal: Reader) -> jobs.JobPublic:
    return jobs.get_job(stores.sessions, job_id)


@router.post("/{job_id}/cancel", response_model=jobs.JobPublic)
def cancel_job(job_id: JobId, stores: StoresDep, principal: Reader) -> jobs.JobPublic:
    """A queued job is cancelled at once; a running one stops at its next progress report."""
    return jobs.cancel(stores.sessions, principal, job_id)
