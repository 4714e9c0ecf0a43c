"""The customers a run computes tags for, with their profile attributes, and the product categories.

Both are read from the metadata database and handed to the warehouse as temporary tables, so every
tag is one Ibis expression over one backend.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend
from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from tagora.tags.facts import PRODUCTS

PROFILES = "_tag_profiles"
ATTRIBUTES = ("gender", "country", "province", "city", "member_tier", "source_channel")
CHUNK = 100_000

# profiles.facade offers no bulk read of attributes yet, so the two tables are named here (read only;
# keep in step with tagora.profiles.models). The columns are untyped on purpose: values come back as the
# driver gives them, without a Python conversion per value, and Arrow converts whole columns.
_customers = table(
    "customers",
    *(column(name) for name in ("uid", *ATTRIBUTES, "birthday", "registered_at", "merged_into")),
)
_products = table("products", column("sku"), column("category_path"))


def _dates(values: tuple[Any, ...]) -> pa.Array:
    array = pa.array(values)
    return array if pa.types.is_date32(array.type) else pc.cast(array.cast(pa.string()), pa.date32())


def _utc_times(values: tuple[Any, ...]) -> pa.Array:
    """SQLite hands back UTC text (naive or with "+00:00"), PostgreSQL aware datetimes: all become
    timestamp[UTC]. The first value says which text it is, so a column is cast once, not tried twice."""
    array = pa.array(values)
    if pa.types.is_string(array.type) or pa.types.is_null(array.type):
        text = array.cast(pa.string())
        first = next((v for v in values if v is not None), "")
        naive, aware = pa.timestamp("us"), pa.timestamp("us", tz="UTC")
        targets = (aware, naive) if _has_offset(str(first)) else (naive, aware)
        try:
            array = pc.cast(text, targets[0])
        except pa.ArrowInvalid:  # the column mixes both
            array = pc.cast(text, targets[1])
    if array.type.tz is None:
        array = pc.assume_timezone(array, "UTC")
    return array.cast(pa.timestamp("us", tz="UTC"))


def _has_offset(text: str) -> bool:
    clock = text[10:]  # after the date, whose "-" are not an offset
    return clock.endswith("Z") or "+" in clock or "-" in clock


def _batch(rows: list[Any]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(3 + len(ATTRIBUTES))]
    arrays = [pa.array(columns[0], pa.int64())]
    arrays += [pa.array(c, pa.string()) for c in columns[1 : 1 + len(ATTRIBUTES)]]
    arrays += [_dates(columns[-2]), _utc_times(columns[-1])]
    names = ["uid", *(f"p__{a}" for a in ATTRIBUTES), "p__birthday", "p__registered_at"]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def load_profiles(session: Session, con: BaseBackend, uids: Collection[int] | None) -> int:
    """Write ``_tag_profiles`` (uid, p__<attribute>..., p__birthday, p__registered_at); returns its size."""
    profiles = read_profiles(session, uids)
    con.create_table(PROFILES, profiles, temp=True, overwrite=True)
    return profiles.num_rows


def read_profiles(session: Session, uids: Collection[int] | None) -> pa.Table:
    """The rows of ``_tag_profiles``: every unmerged customer (or those of ``uids``) with attributes."""
    c = _customers.c
    columns = [c.uid, *(c[a] for a in ATTRIBUTES), c.birthday, c.registered_at]
    # A record merged into another person is not a person of its own: its facts count for the survivor.
    query = select(*columns).where(c.merged_into.is_(None)).order_by(c.uid)
    wanted = sorted(set(uids)) if uids is not None else None
    parts = (
        [query] if wanted is None
        else [query.where(c.uid.in_(wanted[i : i + 1000])) for i in range(0, len(wanted), 1000)]
    )  # fmt: skip
    batches = [_batch([])]
    # The driver's own cursor: SQLAlchemy rows cost more than reading them (literals are ints only).
    connection = session.connection()
    for part in parts:
        sql = str(part.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(CHUNK):
                batches.append(_batch(rows))
        finally:
            cursor.close()
    return pa.Table.from_batches(batches)


def load_products(session: Session, con: BaseBackend) -> None:
    """Write ``_tag_products``."""
    con.create_table(PRODUCTS, read_products(session), temp=True, overwrite=True)


def read_products(session: Session) -> pa.Table:
    """Rows of ``_tag_products``: sku -> top level of its category path (``服装/女装/连衣裙`` -> ``服装``)."""
    rows = session.execute(select(_products.c.sku, _products.c.category_path)).all()
    skus = [r[0] for r in rows]
    tops = [(r[1] or "").split("/")[0].strip() or None for r in rows]
    return pa.table({"sku": pa.array(skus, pa.string()), "category": pa.array(tops, pa.string())})
