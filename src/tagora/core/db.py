"""Metadata/operational store: SQLAlchemy engine, declarative base and a UTC-aware datetime type."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    MetaData,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    make_url,
    select,
    tuple_,
)
from sqlalchemy import update as sa_update
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tagora.core.clock import as_utc

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware datetime, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


# pg_advisory_lock key of schema changes (migrations, pairing the warehouse): any 64-bit number that no
# other application on the same database uses; this one is "tagora" in ASCII.
SCHEMA_LOCK_KEY = 0x7461676F7261
SCHEMA_LOCK_WAIT_S = 600
UPSERT_CHUNK = 500  # keys per existence query (SQLite's bound parameters are limited)


def normalise_url(url: str) -> str:
    """``postgres://`` (as Heroku, Render and libpq tools write it) is ``postgresql://``: psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def redact(url: str) -> str:
    """A store's URL as it may be shown: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL at all: show only its scheme
        return url.partition("://")[0] + "://..."


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Held while one process migrates the schema or pairs the stores; the others wait their turn.

    PostgreSQL: a session-level advisory lock, on a connection of its own (the migration runs on another).
    SQLite: an exclusive transaction on a lock file beside the database; the database itself cannot be
    used, as it would lock out the migration's own connection. An in-memory database has one user.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(select(func.pg_advisory_lock(SCHEMA_LOCK_KEY)))
            conn.commit()
            try:
                yield
            finally:
                conn.execute(select(func.pg_advisory_unlock(SCHEMA_LOCK_KEY)))
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".schema-lock")
    with closing(sqlite3.connect(lock_path, timeout=SCHEMA_LOCK_WAIT_S, isolation_level=None)) as lock:
        lock.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            lock.execute("ROLLBACK")


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls everything back on any error."""
    with sessions() as session, session.begin():
        yield session


def upsert(
    session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str], update: list[str] | None = None
) -> None:
    """Insert rows; on a key conflict fill in the ``update`` columns that the new row has (never blank them).

    Uses the dialect's native ``ON CONFLICT`` (SQLite and PostgreSQL) with executemany, in the caller's
    transaction. In a table whose rows are numbered (an autoincrement key, like ``customers.uid``) rows
    whose key is already stored, or repeats a row before it, are updated by their key instead: PostgreSQL
    draws a number from the sequence for every row an ``INSERT ... ON CONFLICT`` proposes, inserted or
    not, which left gaps that SQLite does not leave, so the same input numbered its rows differently.
    """
    if not rows:
        return
    again: list[dict[str, Any]] = []
    if table.autoincrement_column is not None and table.autoincrement_column.name not in keys:
        rows, again = _new_rows(session, table, rows, keys)
    if rows:
        _insert_or_update(session, table, rows, keys, update)
    if again and update:  # after the insert: a row may repeat one it inserted
        _update_by_key(session, table, again, keys, update)


def _new_rows(
    session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows to insert: each new key's first row, in order; rows that update a stored or earlier row)."""
    columns = [table.c[k] for k in keys]
    wanted = list(dict.fromkeys(tuple(r[k] for k in keys) for r in rows))
    stored: set[tuple[Any, ...]] = set()
    for start in range(0, len(wanted), UPSERT_CHUNK):
        chunk = wanted[start : start + UPSERT_CHUNK]
        where = columns[0].in_(list(dict.fromkeys(k[0] for k in chunk)))
        if len(keys) > 1:  # the first column's IN lets SQLite search the key's index (a row-value IN scans)
            where = and_(where, tuple_(*columns).in_(chunk))
        stored.update(tuple(row) for row in session.execute(select(*columns).where(where)))
    new: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    for row in rows:
        key = tuple(row[k] for k in keys)
        (again if key in stored else new).append(row)
        stored.add(key)
    return new, again


def _update_by_key(
    session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str], update: list[str]
) -> None:
    # Bound as k_<key> and v_<column> (a parameter may not be named like a column the statement sets), with
    # the column's type, whose conversions (decimals, UTC times) the values need.
    statement = (
        sa_update(table)
        .where(*(table.c[k] == bindparam(f"k_{k}", type_=table.c[k].type) for k in keys))
        .values({c: func.coalesce(bindparam(f"v_{c}", type_=table.c[c].type), table.c[c]) for c in update})
    )
    params = [{**{f"k_{k}": r[k] for k in keys}, **{f"v_{c}": r.get(c) for c in update}} for r in rows]
    session.execute(statement, params)


def _insert_or_update(
    session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str], update: list[str] | None
) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - other dialects are not supported for the metadata store
        raise NotImplementedError(dialect)

    # One compiled statement executed with many parameter sets (DBAPI executemany) rather than a
    # giant multi-row VALUES: compiling that costs far more than running it.
    stmt = insert(table)
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: func.coalesce(stmt.excluded[c], table.c[c]) for c in update},
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    session.execute(stmt, rows)
