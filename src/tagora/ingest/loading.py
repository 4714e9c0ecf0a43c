"""Shared loading steps: time zones, writing only new facts to the warehouse, people for the facts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from tagora.core.auth import Principal
from tagora.core.stores import Stores
from tagora.core.warehouse import scratch
from tagora.identity import facade as identity
from tagora.profiles.facade import attribute_anonymous_events, key_uids

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
    rows: ir.Table | pa.Table,
    keys: Sequence[str],
    source: str | None,
    schema: ibis.Schema,
) -> tuple[pa.Table, int]:
    """Append the rows whose keys the warehouse table does not hold yet; returns (inserted rows, skipped)."""
    data = rows if isinstance(rows, pa.Table) else rows.select(*schema.names).to_pyarrow()
    table = data.select(schema.names).cast(schema.to_pyarrow())
    total = table.num_rows
    target = warehouse.table(name)
    if source is not None:
        target = target.filter(target.source == source)
    # only the keys this batch could collide with, so a large table is not read whole for a small batch
    with scratch(warehouse, table.select(list(keys))) as wanted:
        existing = target.select(*keys).semi_join(wanted, list(keys)).distinct().to_pyarrow()
    if existing.num_rows and total:
        table = table.join(existing, list(keys), join_type="left anti").select(schema.names)
    if table.num_rows:
        with scratch(warehouse, table) as new:
            warehouse.insert(name, new)
    return table, total - table.num_rows


def count_equal(table: pa.Table, column: str, value: str) -> int:
    return int(pc.sum(pc.equal(table[column], value)).as_py() or 0)


def count_reasons(table: ir.Table, column: str = "reason") -> dict[str, int]:
    rejected = table.filter(table[column].notnull())
    rows = rejected.group_by(column).aggregate(n=rejected.count()).to_pyarrow()
    return dict(sorted(zip(rows[column].to_pylist(), rows["n"].to_pylist(), strict=True)))


def people(stores: Stores, actor: Principal, records: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Resolve the imported records into people; key -> (person uid, record uid) for the facts."""
    identity.resolve_profiles(stores, actor, records.values())
    with stores.sessions() as session:
        return key_uids(session, list(records))


def link_devices(
    session: Session, pairs: Iterable[tuple[str, str]], records: dict[str, int], source: str
) -> list[int]:
    """An event with both a customer key and an anonymous id ties that device to the customer.

    Returns the records that got a device (resolve them into people afterwards).
    """
    links = [(records[k], "anonymous_id", a) for k, a in pairs if k in records]
    identity.link_identities(session, links, source)
    return sorted({r for r, _, _ in links})


def stitch_anonymous(stores: Stores, events: pa.Table) -> None:
    """Give anonymous-only events (these and earlier ones) to the person their device identified as."""
    anonymous = events.filter(pc.is_null(events["origin_uid"]))["anonymous_id"].drop_null().unique()
    if len(anonymous):
        with stores.sessions() as session:
            found = identity.people_for(session, "anonymous_id", anonymous.to_pylist())
        attribute_anonymous_events(stores.warehouse, found)
