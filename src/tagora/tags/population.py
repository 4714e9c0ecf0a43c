"""The customers a run computes tags for, with their profile attributes, and the product categories.

Both are read from the metadata database and handed to the warehouse as temporary tables, so every
tag is one Ibis expression over one backend.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session

from tagora.core.db import UTCDateTime
from tagora.tags.facts import PRODUCTS

PROFILES = "_tag_profiles"
ATTRIBUTES = ("gender", "country", "province", "city", "member_tier", "source_channel")
CHUNK = 100_000

# profiles.facade offers no bulk read of attributes yet, so the two tables are described here by name
# (read only). Keep in step with tagora.profiles.models.
_meta = MetaData()
_customers = Table(
    "customers",
    _meta,
    Column("uid", Integer),
    *(Column(name, String) for name in ATTRIBUTES),
    Column("birthday", Date),
    Column("registered_at", UTCDateTime),
    Column("merged_into", Integer),
)
_products = Table("products", _meta, Column("sku", String), Column("category_path", String))


def load_profiles(session: Session, con: BaseBackend, uids: Collection[int] | None) -> int:
    """Write ``_tag_profiles`` (uid, p__<attribute>..., p__birthday, p__registered_at); returns its size."""
    columns = [_customers.c.uid, *(_customers.c[a] for a in ATTRIBUTES)]
    columns += [_customers.c.birthday, _customers.c.registered_at]
    # A record merged into another person is not a person of its own: its facts count for the survivor.
    query = select(*columns).where(_customers.c.merged_into.is_(None)).order_by(_customers.c.uid)
    batches: list[pa.RecordBatch] = []
    wanted = sorted(set(uids)) if uids is not None else None
    parts = (
        [query] if wanted is None
        else [query.where(_customers.c.uid.in_(wanted[i : i + 1000])) for i in range(0, len(wanted), 1000)]
    )  # fmt: skip
    schema = pa.schema(
        [("uid", pa.int64())]
        + [(f"p__{a}", pa.string()) for a in ATTRIBUTES]
        + [("p__birthday", pa.date32()), ("p__registered_at", pa.timestamp("us", tz="UTC"))]
    )
    for part in parts:
        result = session.execute(part.execution_options(yield_per=CHUNK))
        for rows in result.partitions(CHUNK):
            arrays: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
            batches.append(
                pa.RecordBatch.from_arrays(
                    [pa.array(a, f.type) for a, f in zip(arrays, schema, strict=True)], schema=schema
                )
            )
    table = pa.Table.from_batches(batches, schema=schema)
    con.create_table(PROFILES, table, temp=True, overwrite=True)
    return table.num_rows


def load_products(session: Session, con: BaseBackend) -> None:
    """``_tag_products``: sku -> top level of its category path (``服装/女装/连衣裙`` -> ``服装``)."""
    rows = session.execute(select(_products.c.sku, _products.c.category_path)).all()
    skus = [r[0] for r in rows]
    tops = [(r[1] or "").split("/")[0].strip() or None for r in rows]
    table = pa.table({"sku": pa.array(skus, pa.string()), "category": pa.array(tops, pa.string())})
    con.create_table(PRODUCTS, table, temp=True, overwrite=True)
