"""``tagora jobs``: list, show and cancel jobs, and see or change the recurring schedules.

Every command here reads and writes only the metadata database, so it runs beside a server that holds the
warehouse.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tagora.core.cli_support import cli_stores, console, print_json, print_table

jobs_app = typer.Typer(help="Jobs: what runs in the background, its progress, and the schedules.")


def _row(job: Any) -> dict[str, object]:
    took = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": f"{job.progress:.0%}",
        "by": job.created_by,
        "created": job.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": None if took is None else round(took, 1),
        "attempts": f"{job.attempts}/{job.max_attempts}",
        "error": (job.error or "")[:80],
    }


@jobs_app.command("list")
def list_command(
    status: Annotated[
        str | None, typer.Option(help="queued, running, succeeded, failed or cancelled")
    ] = None,
    kind: str | None = None,
    limit: int = 20,
    json: bool = False,
) -> None:
    """The newest jobs first."""
    from tagora.core import jobs

    with cli_stores(warehouse=False) as stores:
        found = jobs.list_jobs(stores.sessions, status, kind, limit)
    if json:
        print_json([j.model_dump(mode="json") for j in found])
    else:
        print_table("jobs", [_row(j) for j in found])


@jobs_app.command("show")
def show_command(job_id: int, json: bool = False) -> None:
    """One job: its parameters, progress, result or error."""
    from tagora.core import jobs

    with cli_stores(warehouse=False) as stores:
        job = jobs.get_job(stores.sessions, job_id)
    if json:
        print_json(job.model_dump(mode="json"))
        return
    for key, value in job.model_dump(mode="json").items():
        console.print(f"[bold]{key}[/bold]: {value}")


@jobs_app.command("cancel")
def cancel_command(job_id: int, json: bool = False) -> None:
    """Cancel a queued job, or ask a running one to stop at its next progress report."""
    from tagora.core import jobs
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        job = jobs.cancel(stores.sessions, CLI_OPERATOR, job_id)
    if json:
        print_json(job.model_dump(mode="json"))
    elif job.status == jobs.CANCELLED:
        console.print(f"job {job_id} cancelled")
    else:
        console.print(f"job {job_id} is running; it stops at its next progress report")


@jobs_app.command("schedules")
def schedules_command(json: bool = False) -> None:
    """The recurring jobs, their cron expressions (UTC) and when each runs next."""
    from tagora.core.job_runner import ensure_schedules, list_schedules
    from tagora.worker import SCHEDULES

    with cli_stores(warehouse=False) as stores:
        ensure_schedules(stores.sessions, SCHEDULES)
        found = list_schedules(stores.sessions)
    if json:
        print_json([s.model_dump(mode="json") for s in found])
    else:
        print_table("schedules", [s.model_dump(exclude={"params"}) for s in found])


@jobs_app.command("schedule")
def schedule_command(
    name: str,
    cron: Annotated[str | None, typer.Option(help='A cron expression in UTC, e.g. "0 2 * * *".')] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    json: bool = False,
) -> None:
    """Change when a recurring job runs, or turn it off and on."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.core.job_runner import ensure_schedules, set_schedule
    from tagora.worker import SCHEDULES

    with cli_stores(warehouse=False) as stores:
        ensure_schedules(stores.sessions, SCHEDULES)
        found = set_schedule(stores.sessions, CLI_OPERATOR, name, cron, enabled)
    if json:
        print_json(found.model_dump(mode="json"))
    else:
        state = "enabled" if found.enabled else "disabled"
        console.print(f"{found.name}: {found.cron} ({state}), next at {found.next_run_at:%Y-%m-%d %H:%M} UTC")
