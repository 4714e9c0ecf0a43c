"""``tagora audit export``: the audit log as a file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from tagora.core.cli_support import cli_stores, console

audit_app = typer.Typer(help="The audit log: who did what, when.", no_args_is_help=True)


@audit_app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="A .csv or .xlsx file.")],
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. customer.export.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only entries from this time (UTC) on.")] = None,
) -> None:
    """Write the audit log, oldest first, to CSV or Excel (the export is itself audited)."""
    from tagora.core.audit_export import export_audit
    from tagora.core.auth import CLI_OPERATOR

    fmt = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    with cli_stores(warehouse=False) as stores:
        output.write_bytes(export_audit(stores, CLI_OPERATOR, fmt, action, since))
    console.print(f"wrote {output}")
