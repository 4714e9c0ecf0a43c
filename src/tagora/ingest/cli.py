"""``tagora import online-retail PATH``, ``tagora import dataset DIR``; file imports from ``files.cli``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tagora.core.cli_support import cli_stores, console, print_json
from tagora.ingest.files import cli as files_cli

if TYPE_CHECKING:
    from tagora.ingest.schemas import ImportReport

import_app = typer.Typer(help="Import customers, products, orders and events.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print the import report as JSON.")]


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=1)

        def update(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=total)

        yield update


def summarize(report: ImportReport) -> None:
    console.print(
        f"[bold]{report.source}[/bold] {report.path}: read {report.rows_read:,} rows, "
        f"loaded {report.rows_loaded:,}, rejected {report.rows_rejected:,} in {report.seconds:.2f} s"
    )
    for reason, n in report.rejected_by_reason.items():
        console.print(f"  rejected {n:>8,}  {reason}")
    console.print(
        f"  new: {report.orders:,} orders, {report.cancellations:,} cancellations, "
        f"{report.order_lines:,} order lines, {report.events:,} events, {report.interactions:,} interactions"
    )
    console.print(f"  upserted: {report.customers:,} customers, {report.products:,} products")
    skipped = report.orders_skipped_existing + report.lines_skipped_existing + report.events_skipped_existing
    if skipped:
        console.print(
            f"  already present (skipped): {report.orders_skipped_existing:,} orders, "
            f"{report.lines_skipped_existing:,} lines, {report.events_skipped_existing:,} events"
        )


@import_app.command("online-retail")
def online_retail(
    path: Annotated[Path, typer.Argument(help="The UCI Online Retail CSV (optionally .gz).")],
    json: Json = False,
) -> None:
    """Import UCI Online Retail transaction lines (idempotent)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.ingest import logic

    with cli_stores() as stores, progress_bar() as update:
        report = logic.import_online_retail(stores, CLI_OPERATOR, path, update)
    print_json(report) if json else summarize(report)


@import_app.command("dataset")
def dataset(
    folder: Annotated[Path, typer.Argument(help="A folder written by `tagora generate`.")], json: Json = False
) -> None:
    """Import a generated demo data set folder (idempotent)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.ingest import logic

    with cli_stores() as stores, progress_bar() as update:
        report = logic.import_dataset(stores, CLI_OPERATOR, folder, update)
    print_json(report) if json else summarize(report)


import_app.command("customers")(files_cli.customers)
import_app.command("products")(files_cli.products)
import_app.command("vcard")(files_cli.vcard)
import_app.command("orders")(files_cli.orders)
import_app.command("events")(files_cli.events)
import_app.command("interactions")(files_cli.interactions)
