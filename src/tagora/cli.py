"""The ``tagora`` command. Each area contributes its own Typer commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tagora.audiences.cli import segments_app
from tagora.core.audit_cli import audit_app
from tagora.core.cli_argv import RecordingGroup
from tagora.core.cli_support import cli_stores, console, print_json
from tagora.core.migrate_cli import migrate
from tagora.core.users_cli import read_password, users_app
from tagora.identity.cli import identity_app
from tagora.ingest.cli import import_app
from tagora.ingest.generate_cli import generate
from tagora.ingest.tracking.cli import tracking_app
from tagora.jobs_cli import jobs_app
from tagora.profiles.cli import customers_app, stats
from tagora.recs.cli import recs_app
from tagora.scoring.cli import models_app
from tagora.tags.cli import tags_app

if TYPE_CHECKING:
    from tagora.core import jobs
    from tagora.core.stores import Stores

app = typer.Typer(
    help="Tagora: customer data platform and CRM for precision marketing.",
    no_args_is_help=True,
    cls=RecordingGroup,  # a command can hand itself to a running server's worker (core/cli_jobs.py)
)
app.add_typer(customers_app, name="customers")
app.add_typer(import_app, name="import")
app.add_typer(identity_app, name="identity")
app.add_typer(segments_app, name="segments")
app.add_typer(tracking_app, name="tracking")
app.add_typer(tags_app, name="tags")
app.add_typer(models_app, name="models")
app.add_typer(recs_app, name="recs")
app.add_typer(jobs_app, name="jobs")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.command("stats")(stats)
app.command("generate")(generate)
app.command("migrate")(migrate)


def _refuse_exposed_bind(host: str) -> None:
    """Before anything starts: a server other machines can reach must not sign sessions with a secret that
    was generated on the fly or is too short."""
    from tagora.settings import get_settings

    if problem := get_settings().exposed_bind_problem(host):
        raise typer.BadParameter(problem, param_hint="--host")


@app.command()
def demo(
    customers: int = 5000,
    seed: int = 42,
    host: str = "127.0.0.1",
    port: int = 8000,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the console afterwards.")] = True,
) -> None:
    """Generate a synthetic retail data set, import it, create a demo login and serve the console."""
    if serve:
        _refuse_exposed_bind(host)

    from tagora.demo import demo_login, load_demo_data

    with cli_stores(hand_off=False) as stores:
        settings = stores.settings
        with console.status(f"generating and importing {customers:,} demo customers ..."):
            report = load_demo_data(stores, customers, seed)  # a failed step raises: exit 2, no login
        if report is None:
            console.print(f"[dim]{settings.home} already holds data; not generating again[/dim]")
        else:
            console.print(
                f"imported {report.customers:,} customers, {report.orders:,} orders, "
                f"{report.order_lines:,} order lines in {report.seconds:.1f} s"
            )
        login = demo_login(stores)
        if serve:
            console.print(f"\n  Tagora console: [bold]http://{host}:{port}/[/bold]")
        console.print(f"  login: [bold]{login.username}[/bold]  password: [bold]{login.password}[/bold]\n")
        if serve:
            _serve_with_worker(stores, host, port, "warning")


def _serve_with_worker(stores: Stores, host: str, port: int, log_level: str) -> None:
    """The server, with a job worker in the same process (it holds the warehouse the jobs need)."""
    import uvicorn

    from tagora.app import create_app
    from tagora.core.job_runner import JobRunner, ensure_schedules
    from tagora.worker import SCHEDULES, WORKER

    _run_cli_jobs()
    ensure_schedules(stores.sessions, SCHEDULES)
    runner = JobRunner(stores, scheduler=WORKER, report=_report)
    runner.start()
    try:
        uvicorn.run(create_app(stores.settings, stores), host=host, port=port, log_level=log_level)
    finally:
        runner.stop()


def _run_cli_jobs() -> None:
    """This process runs jobs, among them ``tagora`` commands handed to it (core/cli_jobs.py). Registered
    here, not on import: ``tagora --help`` must not load the job queue (SQLAlchemy, the auth module)."""
    from tagora.core import cli_jobs

    cli_jobs.register(app)


def _report(job: jobs.JobPublic) -> None:
    took = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else 0.0
    detail = job.error if job.error else ", ".join(f"{k}: {v}" for k, v in (job.result or {}).items())
    if job.kind == "cli" and not job.error:  # the command, not its arguments (they may name customers)
        detail = "tagora " + " ".join(a for a in job.params.get("argv", [])[:2] if not a.startswith("-"))
    status = job.status
    if status == "queued":  # it failed and waits for its next attempt
        status = f"failed (attempt {job.attempts} of {job.max_attempts}), again at {job.not_before:%H:%M:%S}"
    console.print(f"{job.kind} (job {job.id}): {status} in {took:.1f} s — {detail}")


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option(help="Run what can run now (due schedules, queued jobs) and exit.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Queue every scheduled job now, due or not.")] = False,
    poll_s: Annotated[float, typer.Option(help="Seconds between looks at an empty queue.")] = 1.0,
    heartbeat_s: Annotated[float, typer.Option(help="Seconds between heartbeats.")] = 5.0,
    stale_after_s: Annotated[
        float, typer.Option(help="A running job unheard of this long is taken back (its worker died).")
    ] = 60.0,
) -> None:
    """Run the job queue: scheduled jobs when due (docs/jobs.md) and jobs queued by people and commands."""
    from contextlib import suppress
    from datetime import timedelta

    from tagora.core.job_runner import JobRunner, enqueue_due, ensure_schedules
    from tagora.worker import SCHEDULES, WORKER

    _run_cli_jobs()
    with cli_stores(hand_off=False) as stores:
        stores.opened_warehouse  # noqa: B018  # the jobs need it: refuse now if another process holds it
        ensure_schedules(stores.sessions, SCHEDULES)
        if force:
            enqueue_due(stores.sessions, WORKER, force=True)
        runner = JobRunner(
            stores,
            scheduler=WORKER,
            poll_s=poll_s,
            heartbeat_s=heartbeat_s,
            stale_after=timedelta(seconds=stale_after_s),
            report=_report,
        )
        runner.register()
        try:
            if once:
                done = runner.drain()
                if not done:
                    console.print("nothing to run: no schedule is due and no job is queued")
                if any(job.status == "failed" or job.error for job in done):
                    raise typer.Exit(1)  # a failure is visible to cron and scripts, retried or not
                return
            console.print(f"worker {runner.id}: running jobs (Ctrl-C stops)")
            with suppress(KeyboardInterrupt):  # Ctrl-C: stop after saying so in job_workers
                runner.run_forever()
        finally:
            runner.stop()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the console and the API, with a job worker in the same process."""
    _refuse_exposed_bind(host)
    # Opened here rather than in the app's start-up, so stores that are refused (a schema to migrate, a
    # warehouse that is not this database's or is held by another process) stop the command with their
    # message, not a traceback.
    with cli_stores(hand_off=False) as stores:
        stores.opened_warehouse  # noqa: B018
        _serve_with_worker(stores, host, port, "info")


@app.command()
def createuser(
    username: str,
    role: Annotated[str, typer.Option(help="admin, marketer, sales or analyst")] = "admin",
    password: Annotated[
        str | None,
        typer.Option(help="Asked for when left out; others may see a command line: prefer --password-stdin."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input's first line.")
    ] = False,
    locale: str = "en",
    token: Annotated[bool, typer.Option("--token", help="Also issue an API token and print it.")] = False,
    json: bool = False,
) -> None:
    """Create a console/API user (a script pipes the password to ``--password-stdin``)."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        secret = read_password(password, password_stdin)
        uid = logic.create_user(stores.sessions, CLI_OPERATOR, username, secret, role, locale=locale)
        out: dict[str, object] = {"id": uid, "username": username, "role": role}
        if token:
            out["token"] = logic.issue_api_token(stores.sessions, CLI_OPERATOR, username, "cli")
    if json:
        print_json(out)
    else:
        console.print(f"created user {username} ({role})" + (f"; API token: {out['token']}" if token else ""))


if __name__ == "__main__":  # pragma: no cover
    app()
