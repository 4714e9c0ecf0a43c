"""Analytical store: an Ibis backend (DuckDB file by default) holding the high-volume facts.

Tables are declared as Ibis schemas by the areas that own them and created here if missing, so the
same definitions work on any Ibis backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
from ibis.backends import BaseBackend
from ibis.backends.sql.datatypes import SqlglotType

from tagora.core.errors import AppError, CoreErrorCode


def connect_warehouse(url: str) -> BaseBackend:
    if url.startswith("duckdb://"):
        path = url.removeprefix("duckdb://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return ibis.connect(url)
    except Exception as exc:
        # An embedded DuckDB file is locked by the one process that has it open (e.g. ``tagora serve``).
        if "lock" in str(exc).lower():
            raise AppError(
                CoreErrorCode.CONFLICT,
                f"the warehouse {url} is in use by another Tagora process; stop it (or use its API)",
                409,
                {"warehouse": url},
            ) from exc
        raise


@contextmanager
def atomic(con: BaseBackend) -> Iterator[None]:
    """One warehouse transaction around several statements on ``con`` (rolled back if one fails)."""
    con.raw_sql("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.raw_sql("ROLLBACK")
        raise
    con.raw_sql("COMMIT")


def thread_connection(warehouse: BaseBackend) -> BaseBackend:
    """A connection for a background thread: a DuckDB connection must not be shared between threads (and
    its temporary tables are per connection), so the thread gets its own cursor on the same database."""
    con = getattr(warehouse, "con", None)
    if warehouse.name == "duckdb" and con is not None:
        return ibis.duckdb.from_connection(con.cursor())
    return warehouse


def ensure_tables(con: BaseBackend, schemas: dict[str, ibis.Schema]) -> None:
    """Create missing tables; add columns a newer release declares to tables an older one created."""
    existing = set(con.list_tables())
    for name, schema in schemas.items():
        if name not in existing:
            con.create_table(name, schema=schema)
            continue
        present = set(con.get_schema(name).names)
        for column, dtype in schema.items():
            if column not in present:
                _add_column(con, name, column, dtype)


def ensure_views(con: BaseBackend, views: dict[str, Callable[[BaseBackend], ir.Table]]) -> None:
    """(Re)create each view from its definition over ``con``'s tables (so a newer release's applies)."""
    for name, definition in views.items():
        con.create_view(name, definition(con), overwrite=True)


def delete_where(con: BaseBackend, table: str, condition: sg.exp.Expression) -> None:
    """``DELETE FROM table WHERE condition``, the condition built with sqlglot (which quotes literals)."""
    con.raw_sql(sg.delete(table, where=condition).sql(_dialect(con)))


def _dialect(con: BaseBackend) -> str:
    return getattr(con, "dialect", None) or con.name


def _add_column(con: BaseBackend, table: str, column: str, dtype: dt.DataType) -> None:
    # Table, column and type all come from the declared schemas, never from user input.
    dialect = _dialect(con)
    statement = sg.exp.Alter(
        this=sg.table(table, quoted=True),
        kind="TABLE",
        actions=[
            sg.exp.ColumnDef(
                this=sg.to_identifier(column, quoted=True),
                kind=SqlglotType.from_ibis(dtype),
            )
        ],
    )
    con.raw_sql(statement.sql(dialect))


def remap_uids(con: BaseBackend, table: str, remap: dict[int, int]) -> None:
    """Point the facts of each record at its person: ``uid = remap[origin_uid]`` (a merge or unmerge)."""
    values = {
        "origin_uid": pa.array(list(remap), pa.int64()),
        "uid": pa.array(list(remap.values()), pa.int64()),
    }
    update_from(con, table, pa.table(values), key="origin_uid")


@contextmanager
def scratch(con: BaseBackend, data: pa.Table) -> Iterator[ir.Table]:
    """``data`` as an Ibis table for one step, unregistered afterwards.

    Ibis keeps every memtable registered until the process exits, so a long streamed import that
    makes some per chunk would hold every chunk's data; this lets each one go when its step is done.
    """
    table = ibis.memtable(data)
    try:
        yield table
    finally:
        with suppress(Exception):  # never registered (the step failed first) or already gone
            _forget_memtable(con, table.op().name)


def _forget_memtable(con: BaseBackend, name: str) -> None:
    if con.name == "duckdb":
        con.con.unregister(name)  # DuckDB registered it as a view, which a DROP TABLE would miss
    elif (finalizer := con._make_memtable_finalizer(name)) is not None:
        finalizer()


def update_from(
    con: BaseBackend, table: str, values: pa.Table, key: str | Sequence[str], only_null: str | None = None
) -> None:
    """``UPDATE table SET <other columns> = values.<...> WHERE table.key = values.key`` in one statement.

    ``key`` is one column or several (a composite key: every one must match).

    With ``only_null``, rows whose ``only_null`` column is already set are left alone. Names come from
    the caller's code; the values travel in a scratch table, never inside the SQL text.
    """
    if not values.num_rows:
        return
    keys = [key] if isinstance(key, str) else list(key)
    with _matched(con, table, values, keys, "_update_") as (source, condition):
        if only_null is not None:
            condition = condition.and_(sg.column(only_null, table=table, quoted=True).is_(sg.exp.null()))
        statement = sg.exp.Update(
            this=sg.table(table, quoted=True),
            expressions=[
                sg.exp.EQ(this=sg.column(c, quoted=True), expression=sg.column(c, table="m", quoted=True))
                for c in values.column_names
                if c not in keys
            ],
            from_=sg.exp.From(this=source),
            where=sg.exp.Where(this=condition),
        )
        con.raw_sql(statement.sql(_dialect(con)))


def delete_matching(con: BaseBackend, table: str, keys: pa.Table) -> None:
    """``DELETE FROM table`` every row whose columns named by ``keys`` equal one of its rows."""
    if not keys.num_rows:
        return
    with _matched(con, table, keys, keys.column_names, "_delete_") as (source, condition):
        match = sg.exp.Exists(this=sg.select("1").from_(source).where(condition))
        con.raw_sql(sg.delete(table, where=match).sql(_dialect(con)))


@contextmanager
def _matched(
    con: BaseBackend, table: str, values: pa.Table, keys: list[str], prefix: str
) -> Iterator[tuple[sg.exp.Expression, sg.exp.Expression]]:
    """``values`` in a scratch table aliased ``m``, and the condition that a row of ``table`` matches one
    of its rows on every one of ``keys``; the scratch table is dropped afterwards."""
    scratch_name = f"{prefix}{table}"
    with scratch(con, values) as data:
        con.create_table(scratch_name, data, temp=True, overwrite=True)
    condition: sg.exp.Expression = sg.exp.and_(
        *(sg.column(k, table=table, quoted=True).eq(sg.column(k, table="m", quoted=True)) for k in keys)
    )
    try:
        yield sg.table(scratch_name, quoted=True).as_("m"), condition
    finally:
        con.drop_table(scratch_name, force=True)
