"""Analytical store: an Ibis backend (DuckDB file by default) holding the high-volume facts.

Tables are declared as Ibis schemas by the areas that own them and created here if missing, so the
same definitions work on any Ibis backend.
"""

from __future__ import annotations

from pathlib import Path

import ibis
from ibis.backends import BaseBackend


def connect_warehouse(url: str) -> BaseBackend:
    if url.startswith("duckdb://"):
        path = url.removeprefix("duckdb://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return ibis.connect(url)


def ensure_tables(con: BaseBackend, schemas: dict[str, ibis.Schema]) -> None:
    existing = set(con.list_tables())
    for name, schema in schemas.items():
        if name not in existing:
            con.create_table(name, schema=schema)
