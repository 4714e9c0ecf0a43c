"""Writing tag values that do not come from a run (manual tags, model tags) to the warehouse."""

from __future__ import annotations

import pyarrow as pa
import sqlglot as sg
from ibis.backends import BaseBackend

from tagora.core.clock import utcnow
from tagora.core.warehouse import atomic, delete_where
from tagora.tags.models import EDITS, OVERRIDES

SCRATCH = "_tag_assign"


def write_values(
    con: BaseBackend, code: str, rows: list[tuple[int, str | None, float | None]], source: str
) -> None:
    """Replace the current value of ``code`` for each row's uid; the change also goes to the history."""
    uids = [r[0] for r in rows]
    table = pa.table(
        {
            "uid": pa.array(uids, pa.int64()),
            "tag": pa.array([code] * len(rows), pa.string()),
            "value": pa.array([r[1] for r in rows], pa.string()),
            "number": pa.array([r[2] for r in rows], pa.float64()),
            "weight": pa.array([1.0] * len(rows), pa.float64()),
            "computed_at": pa.array([utcnow()] * len(rows), pa.timestamp("us", tz="UTC")),
            "run_id": pa.array([0] * len(rows), pa.int64()),
            "source": pa.array([source] * len(rows), pa.string()),
            "origin_uid": pa.array(uids, pa.int64()),
        }
    )
    con.create_table(SCRATCH, table, temp=True, overwrite=True)
    try:
        mine = sg.column("uid").isin(query=sg.select("uid").from_(SCRATCH))
        with atomic(con):
            delete_where(con, OVERRIDES, sg.column("tag").eq(code).and_(mine))
            con.insert(OVERRIDES, con.table(SCRATCH))
            con.insert(EDITS, con.table(SCRATCH))
    finally:
        con.drop_table(SCRATCH, force=True)
