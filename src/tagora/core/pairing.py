"""One store, one truth: the metadata database and the warehouse it was paired with carry the same store id.

A process that opened a metadata database with another warehouse (another home's DuckDB beside a shared
PostgreSQL, say) would answer from half the data and its loader would move events out of the shared inbox
into a warehouse nobody else reads. Both stores get a store id on first open, and a pairing that does not
match is refused before anything is written.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime, transaction
from tagora.core.errors import AppError, CoreErrorCode

WAREHOUSE_MARK = "tagora_store"
MARK_SCHEMA = ibis.schema({"store_id": "string", "paired_at": "timestamp('UTC')"})


class StoreMark(Base):
    """The metadata database's store id (one row)."""

    __tablename__ = "store_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36))
    paired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def warehouse_mark(warehouse: BaseBackend) -> str | None:
    if WAREHOUSE_MARK not in warehouse.list_tables():
        return None
    ids = warehouse.table(WAREHOUSE_MARK).store_id.to_pyarrow().to_pylist()
    return str(ids[0]) if ids else None


def metadata_mark(session: Session) -> str | None:
    return session.scalar(select(StoreMark.store_id).order_by(StoreMark.id).limit(1))


def pair_stores(
    sessions: sessionmaker[Session],
    warehouse: BaseBackend,
    database: str,
    warehouse_url: str,
    adopt: bool = False,
) -> str:
    """The store id both stores carry; marks them when neither has one yet. Run under ``db.schema_lock``.

    ``database`` and ``warehouse_url`` name the stores in the refusal (without their passwords).

    With ``adopt`` (``tagora migrate --adopt-warehouse``) an operator who moved the data on purpose
    makes the warehouse this metadata database's own.
    """
    with transaction(sessions) as session:
        in_metadata = metadata_mark(session)
        in_warehouse = warehouse_mark(warehouse)
        if in_metadata is not None and in_metadata == in_warehouse:
            return in_metadata
        if (in_metadata or in_warehouse) and not adopt:
            raise _split(database, warehouse_url, in_metadata, in_warehouse)
        store_id = in_metadata or in_warehouse or str(uuid.uuid4())
        # The warehouse first: should the process die in between, the metadata transaction rolls back.
        if in_warehouse != store_id:
            _mark_warehouse(warehouse, store_id)
        if in_metadata is None:
            session.add(StoreMark(id=1, store_id=store_id))
        return store_id


def _mark_warehouse(warehouse: BaseBackend, store_id: str) -> None:
    if WAREHOUSE_MARK in warehouse.list_tables():
        warehouse.drop_table(WAREHOUSE_MARK)
    row = pa.table({"store_id": [store_id], "paired_at": pa.array([utcnow()], pa.timestamp("us", "UTC"))})
    warehouse.create_table(WAREHOUSE_MARK, row, schema=MARK_SCHEMA)


def _split(database: str, warehouse_url: str, in_metadata: str | None, in_warehouse: str | None) -> AppError:
    return AppError(
        CoreErrorCode.CONFLICT,
        f"the metadata database {database} (store {in_metadata or 'not yet paired'}) and the warehouse "
        f"{warehouse_url} (store {in_warehouse or 'new, never paired'}) do not belong together: a process "
        "on them would split the data. Point TAGORA_DATABASE_URL and TAGORA_WAREHOUSE_URL at the stores "
        "that were opened together, or, if the data was moved on purpose, run "
        "`tagora migrate --adopt-warehouse`",
        409,
        {
            "database": database,
            "warehouse": warehouse_url,
            "metadata_store": in_metadata,
            "warehouse_store": in_warehouse,
        },
    )
