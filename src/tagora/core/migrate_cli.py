"""``tagora migrate``: the operator's step that brings both stores to this release (docs/deploy.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from tagora.core.cli_support import cli_stores, console, print_json


def migrate(
    adopt_warehouse: Annotated[
        bool,
        typer.Option(
            "--adopt-warehouse",
            help="Pair the metadata database with this warehouse although it was not its own "
            "(only after moving the data on purpose).",
        ),
    ] = False,
    json: bool = False,
) -> None:
    """Upgrade the metadata database's schema and the warehouse's tables, under a lock (run it once per
    release, before the new release's servers start; processes that run it at once wait for each other)."""
    from tagora.core.db import redact
    from tagora.core.stores import SCHEMA_BEFORE, STORE_ID, schema_revisions

    with cli_stores(upgrade=True, adopt_warehouse=adopt_warehouse) as stores:
        before = [str(revision) for revision in stores.extras[SCHEMA_BEFORE]]  # type: ignore[attr-defined]
        after = sorted(schema_revisions(stores.engine)[0])
        out = {
            "database": redact(stores.settings.resolved_database_url),
            "warehouse": redact(stores.settings.resolved_warehouse_url),
            "before": before,
            "after": after,
            "upgraded": before != after,
            "store_id": stores.extras[STORE_ID],
        }
    if json:
        print_json(out)
        return
    was = ", ".join(before) or "empty"
    state = f"{was} -> {', '.join(after)}" if before != after else f"already at {', '.join(after)}"
    console.print(f"metadata database {out['database']}: {state}")
    console.print(f"warehouse {out['warehouse']}: store {out['store_id']}")
