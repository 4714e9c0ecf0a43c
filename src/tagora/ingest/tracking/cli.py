"""``tagora tracking keys create|list|revoke`` and ``tagora tracking load``."""

from __future__ import annotations

from typing import Annotated

import typer

from tagora.core.cli_support import cli_stores, console, print_json, print_table

tracking_app = typer.Typer(help="The Segment-compatible tracking API.", no_args_is_help=True)
keys_app = typer.Typer(help="Write keys that SDKs send as the HTTP Basic username.", no_args_is_help=True)
tracking_app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create_key(name: str, json: bool = False) -> None:
    """Create a write key and print it (only its hash is stored)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.ingest.tracking import logic

    with cli_stores() as stores:
        key = logic.create_write_key(stores.sessions, CLI_OPERATOR, name)
    if json:
        print_json({"name": name, "write_key": key})
    else:
        console.print(f"write key {name}: [bold]{key}[/bold]  (shown once; store it now)")


@keys_app.command("list")
def list_keys(json: bool = False) -> None:
    """List write keys (names only; the keys themselves are not stored)."""
    from tagora.ingest.tracking import logic

    with cli_stores() as stores:
        keys = logic.list_write_keys(stores.sessions)
    if json:
        print_json(keys)
    else:
        print_table("write keys", [k.model_dump() for k in keys])


@keys_app.command("revoke")
def revoke_key(name: str) -> None:
    """Revoke a write key: calls with it are refused from now on."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.ingest.tracking import logic

    with cli_stores() as stores:
        logic.revoke_write_key(stores.sessions, CLI_OPERATOR, name)
    console.print(f"revoked write key {name}")


@tracking_app.command("load")
def load(
    batch_size: Annotated[int, typer.Option(min=1)] = 20_000,
    keep_days: Annotated[
        float,
        typer.Option(min=0, help="Then delete inbox rows loaded more than this many days ago (0: keep)."),
    ] = 0,
    json: bool = False,
) -> None:
    """Move acknowledged events from the inbox to the warehouse (the server also does this every second)."""
    from tagora.ingest.tracking.loader import load_inbox, prune_inbox

    with cli_stores() as stores:
        report = load_inbox(stores, batch_size)
        if keep_days > 0:
            prune_inbox(stores, keep_days)
    if json:
        print_json(report)
    else:
        console.print(
            f"loaded {report.loaded:,} events in {report.batches} batches ({report.seconds:.2f} s); "
            f"{report.already_in_warehouse:,} were already in the warehouse"
        )


@tracking_app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8001,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes; one per core is right.")] = 2,
) -> None:
    """Serve only the /v1 tracking API, in several processes (the loader runs in `tagora serve`)."""
    from tagora.core.db import make_engine
    from tagora.core.errors import AppError
    from tagora.core.stores import ensure_schema
    from tagora.ingest.tracking.gateway import serve as serve_gateway
    from tagora.settings import get_settings

    # Once here, not in every worker: workers starting together would race to create the tables.
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        ensure_schema(engine, settings)
    except AppError as exc:  # in production, a schema to migrate first: its message says so
        console.print(f"[red]error ({exc.code}):[/red] {exc.message}")
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    serve_gateway("tagora.ingest.tracking.gateway:create_gateway", host, port, workers)


@tracking_app.command("dead-letters")
def dead_letters(limit: Annotated[int, typer.Option(min=1)] = 20, json: bool = False) -> None:
    """The newest events the API refused, with the field, the reason and the payload as sent."""
    from tagora.ingest.tracking import logic

    with cli_stores() as stores:
        rows = logic.dead_letters(stores.sessions, limit)
    if json:
        print_json(rows)
    else:
        print_table("dead letters", [{**r, "payload": r["payload"][:60]} for r in rows])
