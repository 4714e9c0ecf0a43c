"""The ``tagora`` command. Each area contributes its own Typer commands."""

from __future__ import annotations

from typing import Annotated

import typer

from tagora.core.auth import CLI_OPERATOR
from tagora.core.cli_support import cli_stores, console, print_json
from tagora.ingest.cli import import_app
from tagora.ingest.generate_cli import generate
from tagora.profiles.cli import customers_app, stats

app = typer.Typer(help="Tagora: customer data platform and CRM for precision marketing.", no_args_is_help=True)
app.add_typer(customers_app, name="customers")
app.add_typer(import_app, name="import")
app.command("stats")(stats)
app.command("generate")(generate)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the console and the API."""
    import uvicorn

    from tagora.app import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="info")


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
