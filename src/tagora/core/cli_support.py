"""Helpers every area's CLI uses: open the stores, print JSON or a rich table, turn AppError into exit 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from typer._click.globals import get_current_context  # Typer's own click, as cli_argv's

from tagora.core.errors import AppError

if TYPE_CHECKING:  # the stores pull in Ibis and more, which ``tagora --help`` must not wait for
    from tagora.core.stores import Stores

console = Console(stderr=True)


def _default(value: Any) -> Any:
    from pydantic import BaseModel  # here, as the settings below: ``tagora --help`` needs neither

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=_default, ensure_ascii=False, indent=2) + "\n")


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=title)
    if rows:
        for col in rows[0]:
            table.add_column(str(col))
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
    Console().print(table)


def fail(exc: AppError) -> NoReturn:
    """End a command on a user error, never a traceback: the message on stderr, or with ``--json`` the
    error as JSON on stdout (``{"error": {"code", "message", "data"}}``, as the API answers); exit 2."""
    context = get_current_context(silent=True)
    if context is not None and context.params.get("json"):
        print_json(exc.to_dict())
    else:
        console.print(f"[red]error ({exc.code}):[/red] {exc.message}")
    raise typer.Exit(2) from exc


@contextmanager
def cli_stores(warehouse: bool = True, hand_off: bool = True, **options: bool) -> Iterator[Stores]:
    """Open the stores for one command; a user error prints its message and exits 2, never a traceback.

    The warehouse opens on first use. A command that may use it (``warehouse``) is handed to the worker of a
    running server that holds it, when there is one, and ends there (``core/cli_jobs.py``); servers and
    workers themselves say ``hand_off=False``. ``options`` go to ``open_stores`` (``tagora migrate``'s).
    """
    from tagora.core import cli_jobs
    from tagora.core.auth import CLI_OPERATOR
    from tagora.core.stores import open_stores
    from tagora.settings import get_settings

    if (inherited := cli_jobs.job_stores()) is not None:  # run as a job by the worker that holds them
        try:
            yield inherited
        except AppError as exc:
            fail(exc)
        return
    try:
        stores = open_stores(get_settings(), lazy_warehouse=True, **options)
    except ValueError as exc:  # settings validation
        fail(AppError("invalid_settings", str(exc), 400))
    except AppError as exc:
        fail(exc)
    try:
        if warehouse and hand_off and not options:  # ``tagora migrate`` runs here, before servers start
            cli_jobs.hand_off(stores, CLI_OPERATOR)
        yield stores
    except AppError as exc:
        fail(exc)
    finally:
        stores.close()
