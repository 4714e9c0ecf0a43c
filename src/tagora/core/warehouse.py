"""Analytical store: an Ibis backend (DuckDB file by default) holding the high-volume facts.

Tables are declared as Ibis schemas by the areas that own them and created here if missing, so the
same definitions work on any Ibis backend.
"""

from __future__ import annotations

from pathlib import Path

import ibis
from ibis.backends import BaseBackend

from tagora.core.errors import AppError, CoreErrorCode


def connect_warehouse(url: str) -> BaseBackend:
    if url.startswith("duckdb://"):
        path = url.removeprefix("duckdb://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return ibis.connect(url)
    except Exception as exc:
        # An embedded DuckDB file is locked by the one process that has it open (e.g. ``tagora serve``).
        if "lock" in str(exc).lower():
            raise AppError(
                CoreErrorCode.CONFLICT,
                f"the warehouse {url} is in use by another Tagora process; stop it (or use its API)",
                409,
                {"warehouse": url},
            ) from exc
        raise


def ensure_tables(con: BaseBackend, schemas: dict[str, ibis.Schema]) -> None:
    existing = set(con.list_tables())
    for name, schema in schemas.items():
        if name not in existing:
            con.create_table(name, schema=schema)
