"""The ``tagora`` command. Each area contributes its own Typer commands."""

from __future__ import annotations

from typing import Annotated

import typer

from tagora.audiences.cli import segments_app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.cli_support import cli_stores, console, print_json
from tagora.core.migrate_cli import migrate
from tagora.identity.cli import identity_app
from tagora.ingest.cli import import_app
from tagora.ingest.generate_cli import generate
from tagora.ingest.tracking.cli import tracking_app
from tagora.profiles.cli import customers_app, stats
from tagora.recs.cli import recs_app
from tagora.scoring.cli import models_app
from tagora.tags.cli import tags_app

app = typer.Typer(
    help="Tagora: customer data platform and CRM for precision marketing.", no_args_is_help=True
)
app.add_typer(customers_app, name="customers")
app.add_typer(import_app, name="import")
app.add_typer(identity_app, name="identity")
app.add_typer(segments_app, name="segments")
app.add_typer(tracking_app, name="tracking")
app.add_typer(tags_app, name="tags")
app.add_typer(models_app, name="models")
app.add_typer(recs_app, name="recs")
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
    import uvicorn

    if serve:
        _refuse_exposed_bind(host)

    from tagora.app import create_app
    from tagora.demo import demo_login, load_demo_data

    with cli_stores() as stores:
        settings = stores.settings
        with console.status(f"generating and importing {customers:,} demo customers ..."):
            report = load_demo_data(stores, customers, seed)
        if report is None:
            console.print(f"[dim]{settings.home} already holds data; not generating again[/dim]")
        else:
            console.print(
                f"imported {report.customers:,} customers, {report.orders:,} orders, "
                f"{report.order_lines:,} order lines in {report.seconds:.1f} s"
            )
        login = demo_login(stores)
        console.print(f"\n  Tagora console: [bold]http://{host}:{port}/[/bold]")
        console.print(f"  login: [bold]{login.username}[/bold]  password: [bold]{login.password}[/bold]\n")
        if serve:
            uvicorn.run(create_app(settings, stores), host=host, port=port, log_level="warning")


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Run what is due once and exit.")] = False,
    force: Annotated[bool, typer.Option(help="Run every job now, due or not.")] = False,
    every_hours: Annotated[float, typer.Option(help="Hours between full tag runs.")] = 24.0,
    poll_s: Annotated[float, typer.Option(help="Seconds between checks for due jobs.")] = 60.0,
) -> None:
    """Run the scheduled jobs (full tag run, then segment re-counts) when they are due."""
    from datetime import timedelta

    from tagora.worker import JobResult, run_due, run_worker

    def report(result: JobResult) -> None:
        console.print(f"{result.job}: {result.status} in {result.seconds:.1f} s — {result.detail}")

    every = timedelta(hours=every_hours)
    with cli_stores() as stores:
        if once or force:
            for result in run_due(stores, every, force=force):
                report(result)
            return
        console.print(
            f"worker: a full tag run every {every_hours:g} h; checking every {poll_s:g} s (Ctrl-C stops)"
        )
        run_worker(stores, every, poll_s, report)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the console and the API."""
    import uvicorn

    _refuse_exposed_bind(host)

    from tagora.app import create_app

    # Opened here rather than in the app's start-up, so stores that are refused (a schema to migrate, a
    # warehouse that is not this database's) stop the command with their message, not a traceback.
    with cli_stores() as stores:
        uvicorn.run(create_app(stores.settings, stores), host=host, port=port, log_level="info")


@app.command()
def createuser(
    username: str,
    role: Annotated[str, typer.Option(help="admin, marketer, sales or analyst")] = "admin",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
    locale: str = "en",
    token: Annotated[bool, typer.Option("--token", help="Also issue an API token and print it.")] = False,
    json: bool = False,
) -> None:
    """Create a console/API user."""
    from tagora.core import logic

    with cli_stores() as stores:
        uid = logic.create_user(stores.sessions, CLI_OPERATOR, username, password, role, locale=locale)
        out: dict[str, object] = {"id": uid, "username": username, "role": role}
        if token:
            out["token"] = logic.issue_api_token(stores.sessions, CLI_OPERATOR, username, "cli")
    if json:
        print_json(out)
    else:
        console.print(f"created user {username} ({role})" + (f"; API token: {out['token']}" if token else ""))


if __name__ == "__main__":  # pragma: no cover
    app()
