"""Shared loading steps: time zones, upserting customers/products, writing only new facts to the warehouse."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

Progress = Callable[[str, int, int], None]
UTC_ARROW = pa.timestamp("us", tz="UTC")


class Steps:
    """Reports ``(description, done, total)`` to an optional progress callback."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def __call__(self, description: str) -> None:
        if self.progress is not None:
            self.progress(description, self.done, self.total)
        self.done += 1

    def finish(self) -> None:
        if self.progress is not None:
            self.progress("done", self.total, self.total)


def local_to_utc(values: pa.ChunkedArray | pa.Array, zone: str) -> pa.ChunkedArray | pa.Array:
    """Naive wall-clock times in ``zone`` to UTC; DST gaps and repeats resolve to the earliest instant."""
    aware = pc.assume_timezone(values, timezone=zone, ambiguous="earliest", nonexistent="earliest")
    return aware.cast(UTC_ARROW)


def replace_column(table: pa.Table, name: str, values: Any) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def key_table(mapping: dict[str, tuple[int, int]], key: str = "customer_key") -> ir.Table:
    """``key -> (uid, origin_uid)`` as a table to join facts on: the person now, and the key's own record."""
    return ibis.memtable(
        pa.table(
            {
                key: pa.array(list(mapping), pa.string()),
                "uid": pa.array([u for u, _ in mapping.values()], pa.int64()),
                "origin_uid": pa.array([o for _, o in mapping.values()], pa.int64()),
            }
        )
    )


def insert_new(
    warehouse: BaseBackend,
    name: str,
    rows: ir.Table,
    keys: Sequence[str],
    source: str | None,
    schema: ibis.Schema,
) -> tuple[pa.Table, int]:
    """Append the rows whose keys the warehouse table does not hold yet; returns (inserted rows, skipped)."""
    table = rows.select(*schema.names).to_pyarrow().cast(schema.to_pyarrow())
    total = table.num_rows
    target = warehouse.table(name)
    if source is not None:
        target = target.filter(target.source == source)
    existing = target.select(*keys).distinct().to_pyarrow()
    if existing.num_rows and total:
        table = table.join(existing, list(keys), join_type="left anti").select(schema.names)
    if table.num_rows:
        warehouse.insert(name, table)
    return table, total - table.num_rows


def count_equal(table: pa.Table, column: str, value: str) -> int:
    return int(pc.sum(pc.equal(table[column], value)).as_py() or 0)


def count_reasons(table: ir.Table, column: str = "reason") -> dict[str, int]:
    rejected = table.filter(table[column].notnull())
    rows = rejected.group_by(column).aggregate(n=rejected.count()).to_pyarrow()
    return dict(sorted(zip(rows[column].to_pylist(), rows["n"].to_pylist(), strict=True)))
