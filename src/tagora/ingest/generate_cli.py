"""``tagora generate``: write the seeded synthetic data set (customers, products, orders, events, CRM)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tagora.core.cli_support import console, print_json, print_table
from tagora.ingest.sources.synthetic import DEFAULT_END, DEFAULT_START

_DATE = ["%Y-%m-%d"]


def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the CSV files into.")] = Path(
        "./tagora-data/demo-dataset"
    ),
    customers: Annotated[int, typer.Option(min=0, help="Number of customers.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same files.")] = 42,
    start: Annotated[
        datetime, typer.Option(formats=_DATE, help="First day of orders and events.")
    ] = datetime(DEFAULT_START.year, DEFAULT_START.month, DEFAULT_START.day),
    end: Annotated[datetime, typer.Option(formats=_DATE, help="Last day of orders and events.")] = datetime(
        DEFAULT_END.year, DEFAULT_END.month, DEFAULT_END.day
    ),
    json: Annotated[bool, typer.Option("--json", help="Print the row counts as JSON.")] = False,
) -> None:
    """Generate a realistic synthetic data set (seeded, deterministic) as CSV files."""
    from tagora.ingest.sources.synthetic.generate import generate_dataset

    if start.date() > end.date():
        console.print(f"[red]error:[/red] --start {start.date()} is after --end {end.date()}")
        raise typer.Exit(2)
    columns = (TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TextColumn("customers"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=json) as bar:
        task = bar.add_task("generate", total=max(customers, 1))

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1))

        counts = generate_dataset(out, customers, seed, start.date(), end.date(), progress=advance)
    if json:
        print_json(counts)
    else:
        print_table(f"written to {out}", [{"file": name, "rows": rows} for name, rows in counts.items()])
