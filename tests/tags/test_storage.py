"""Where tag values are stored: a warehouse from a release that kept them in two plain tables is upgraded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import ibis
import pyarrow as pa

from tagora.core.stores import prepare_warehouse
from tagora.tags.models import CURRENT, HISTORY, TAG_VALUES, WAREHOUSE_TABLES

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _rows(*rows: tuple[int, str, str | None, float | None, int, str]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.table(
        {
            "uid": pa.array(columns[0], pa.int64()),
            "tag": pa.array(columns[1], pa.string()),
            "value": pa.array(columns[2], pa.string()),
            "number": pa.array(columns[3], pa.float64()),
            "weight": pa.array([1.0] * len(rows), pa.float64()),
            "computed_at": pa.array([AT] * len(rows), pa.timestamp("us", tz="UTC")),
            "run_id": pa.array(columns[4], pa.int64()),
            "source": pa.array(columns[5], pa.string()),
            "origin_uid": pa.array(columns[0], pa.int64()),
        }
    )


def _read(con: ibis.BaseBackend, name: str) -> list[tuple[object, ...]]:
    rows = con.table(name).select("uid", "tag", "value", "number", "run_id", "source").to_pyarrow()
    return sorted(tuple(r.values()) for r in rows.to_pylist())


def test_values_in_the_old_tables_are_moved_and_read_the_same(tmp_path: Path) -> None:
    con = ibis.duckdb.connect(tmp_path / "warehouse.duckdb")
    current = _rows((1, "orders_30d", None, 2.0, 7, "run"), (1, "vip", "true", None, 0, "manual:sam"))
    history = pa.concat_tables([_rows((1, "orders_30d", None, 1.0, 3, "run")), current])
    con.create_table(CURRENT, schema=TAG_VALUES)
    con.create_table(HISTORY, schema=TAG_VALUES)
    con.insert(CURRENT, current)
    con.insert(HISTORY, history)
    before = {name: _read(con, name) for name in (CURRENT, HISTORY)}

    prepare_warehouse(con)

    assert {name: _read(con, name) for name in (CURRENT, HISTORY)} == before
    assert set(WAREHOUSE_TABLES) <= set(con.list_tables())
    prepare_warehouse(con)  # a second open changes nothing
    assert {name: _read(con, name) for name in (CURRENT, HISTORY)} == before
    snapshots = con.table("tag_snapshots")
    assert sorted(snapshots.run_id.to_pyarrow().to_pylist()) == [3, 7]
