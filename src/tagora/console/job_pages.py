"""Console: the Jobs page — what runs in the background, its progress (the rows refresh while any job is
queued or running), one job's parameters, result or error, and cancelling it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tagora.console.pages import StoresDep, check_csrf, console_user, show
from tagora.core import jobs
from tagora.core.auth import Permission, Principal, ensure
from tagora.core.deps import RowId
from tagora.core.job_runner import list_schedules

router = APIRouter(include_in_schema=False)


def job_reader(principal: Annotated[Principal, Depends(console_user)]) -> Principal:
    # a job's parameters can name customers (a handed-over ``customers show``): the audit readers' view
    ensure(principal, Permission.AUDIT_READ)
    return principal


Reader = Annotated[Principal, Depends(job_reader)]


def _rows(stores: StoresDep, status: str | None) -> dict[str, Any]:
    found = jobs.list_jobs(stores.sessions, status or None, limit=100)
    return {"jobs": found, "status": status or "", "live": any(not j.finished for j in found)}


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, stores: StoresDep, principal: Reader, status: str | None = None) -> Response:
    schedules = list_schedules(stores.sessions)
    context = _rows(stores, status)
    return show(request, "jobs.html", principal, 200, statuses=jobs.STATUSES, schedules=schedules, **context)


@router.get("/partials/jobs", response_class=HTMLResponse)
def job_rows(request: Request, stores: StoresDep, principal: Reader, status: str | None = None) -> Response:
    return show(request, "_job_rows.html", principal, 200, **_rows(stores, status))


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, stores: StoresDep, principal: Reader, job_id: RowId) -> Response:
    return show(request, "job.html", principal, job=jobs.get_job(stores.sessions, job_id))


@router.post("/jobs/{job_id}/cancel")
def cancel_job(
    request: Request, stores: StoresDep, principal: Reader, job_id: RowId, csrf: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf)
    jobs.cancel(stores.sessions, principal, job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
