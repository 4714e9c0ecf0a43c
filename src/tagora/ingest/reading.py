"""Read a CSV file as all-string columns through Ibis on an in-memory DuckDB, checking it first.

Everything here happens before anything is written, so a bad file fails the import cleanly.
"""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from tagora.core.errors import AppError
from tagora.ingest.errors import IngestErrorCode

ROW_INDEX = "row_idx"


def unreadable(path: Path, why: object) -> AppError:
    return AppError(IngestErrorCode.UNREADABLE_FILE, f"cannot read {path}: {why}", 400, {"file": str(path)})


def read_header(path: Path) -> list[str]:
    try:
        raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")  # noqa: SIM115
        with raw:
            first = raw.readline().decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from exc
    header = next(csv.reader(io.StringIO(first)), [])
    if not header:
        raise unreadable(path, "the file is empty (no header line)")
    return [h.strip() for h in header]


def require_columns(path: Path, header: Sequence[str], required: Sequence[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise AppError(
            IngestErrorCode.MISSING_COLUMN,
            f"{path.name}: required column {missing[0]!r} is missing"
            + (f" (also {', '.join(missing[1:])})" if len(missing) > 1 else ""),
            400,
            {"file": str(path), "column": missing[0], "missing": missing},
        )


def load_strings(con: BaseBackend, path: Path, required: Sequence[str], name: str) -> ir.Table:
    """The rows as strings in the scratch temp table ``name`` (header checked first), plus ``row_idx``.

    ``row_idx`` is DuckDB's ``rowid``, the 0-based line order in the file (the scratch database keeps
    insertion order). Loading straight into DuckDB avoids a round trip through Arrow.
    """
    if not name.isidentifier():
        raise ValueError(f"internal table name {name!r} must be an identifier")
    header = read_header(path)
    require_columns(path, header, required)
    columns = {column: "VARCHAR" for column in header}
    try:
        con.create_table(name, con.read_csv(str(path), columns=columns, header=True), temp=True)
    except Exception as exc:  # DuckDB raises several error types for malformed CSV
        raise unreadable(path, exc) from exc
    # ``rowid`` is not reachable through Ibis; the statement is constant apart from our own identifier.
    numbered = con.sql(f"SELECT rowid AS {ROW_INDEX}, * FROM {name}")  # noqa: S608
    return numbered.select(ROW_INDEX, *required)


SCRATCH_MEMORY = "1GB"


def connect_scratch() -> BaseBackend:
    """A private DuckDB for the cleaning work; nothing in it outlives the import.

    Its tables live in memory up to ``SCRATCH_MEMORY`` and spill to a temporary folder beyond (DuckDB
    creates the folder and deletes it on disconnect): a data set's raw files would otherwise all sit in
    memory at once, 6 GB of events alone for a million customers.
    """
    spill = Path(tempfile.gettempdir()) / f"tagora-scratch-{uuid.uuid4().hex}"
    return ibis.duckdb.connect(memory_limit=SCRATCH_MEMORY, temp_directory=str(spill))
