"""Open both stores: migrate the metadata database with Alembic, pair it with its warehouse, create missing
warehouse tables (docs/deploy.md, Migrations)."""

from __future__ import annotations

import ast
import importlib
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
from ibis.backends import BaseBackend
from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from tagora.core.db import make_engine, redact, schema_lock
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.pairing import pair_stores
from tagora.core.warehouse import connect_warehouse, ensure_tables, ensure_views, thread_connection
from tagora.settings import Settings

# Every module that declares tables; Alembic and the warehouse read them from here.
MODEL_MODULES = (
    "tagora.core.models",
    "tagora.core.pairing",
    "tagora.core.job_models",
    "tagora.profiles.models",
    "tagora.identity.models",
    "tagora.ingest.tracking.models",
    "tagora.audiences.models",
    "tagora.tags.models",
    "tagora.scoring.models",
)
MIGRATIONS = Path(__file__).parent / "migrations"
VERSIONS = Table("alembic_version", MetaData(), Column("version_num", String(32)))  # Alembic's


def load_models() -> dict[str, ibis.Schema]:
    schemas: dict[str, ibis.Schema] = {}
    for name in MODEL_MODULES:
        schemas.update(getattr(importlib.import_module(name), "WAREHOUSE_TABLES", {}))
    return schemas


def prepare_warehouse(warehouse: BaseBackend) -> None:
    """Upgrade what an older release stored, create missing tables, then (re)create the views."""
    modules = [importlib.import_module(name) for name in MODEL_MODULES]
    for module in modules:
        for upgrade in getattr(module, "WAREHOUSE_UPGRADES", ()):
            upgrade(warehouse)
    ensure_tables(warehouse, load_models())
    for module in modules:
        ensure_views(warehouse, getattr(module, "WAREHOUSE_VIEWS", {}))


STORE_ID = "store_id"  # extras key: the id both stores carry (core/pairing.py)
SCHEMA_BEFORE = "schema_before"  # extras key: the schema revisions the metadata database was at on opening
EVENTS_LOADED = "events_loaded"  # topic: the uids whose new events just reached the warehouse
PEOPLE_CHANGED = "people_changed"  # topic: the records of people an identity merge or unmerge changed


@dataclass
class Stores:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # The connection opened with the stores (``warehouse`` is per thread); None until first use when the
    # stores were opened with a ``warehouse_opener``: a CLI command that needs only the metadata database
    # never takes the embedded warehouse's file lock from a running server.
    _opened: BaseBackend | None
    extras: dict[str, object] = field(default_factory=dict)
    warehouse_opener: Callable[[], BaseBackend] | None = field(default=None, repr=False)
    generation: int = 0  # bumped by writes that make derived in-memory state (the audience index) stale
    listeners: dict[str, list[Callable[[Any], None]]] = field(default_factory=dict)
    _owner: int = field(default_factory=threading.get_ident, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _cursors: weakref.WeakSet[BaseBackend] = field(default_factory=weakref.WeakSet, repr=False)
    _cursors_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _open_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def opened_warehouse(self) -> BaseBackend:
        with self._open_lock:
            if self._opened is None:
                if self.warehouse_opener is None:
                    raise RuntimeError("these stores have no warehouse")
                self._opened = self.warehouse_opener()
            return self._opened

    @property
    def warehouse(self) -> BaseBackend:
        """The warehouse connection of the calling thread.

        The thread that opened the stores gets the connection it opened; any other thread (the server's
        request threads, say) its own cursor on the same database, made on first use and kept for the
        thread's life: one DuckDB connection used by two threads at once fails or mixes up results.
        Temporary tables are per connection, so they are seen by the thread that made them.
        """
        if threading.get_ident() == self._owner:
            return self.opened_warehouse
        con: BaseBackend | None = getattr(self._local, "warehouse", None)
        if con is None:
            con = thread_connection(self.opened_warehouse)
            self._local.warehouse = con
            if con is not self.opened_warehouse:
                with self._cursors_lock:
                    self._cursors.add(con)
        return con

    def touch(self) -> None:
        """Say that customers or their tags changed, so caches built from them look again."""
        self.generation += 1

    def listen(self, topic: str, listener: Callable[[Any], None]) -> None:
        """Call ``listener(payload)`` on every ``emit(topic, payload)`` in this process (it must be quick)."""
        self.listeners.setdefault(topic, []).append(listener)

    def unlisten(self, topic: str, listener: Callable[[Any], None]) -> None:
        self.listeners.get(topic, []).remove(listener)

    def emit(self, topic: str, payload: Any) -> None:
        for listener in list(self.listeners.get(topic, ())):
            listener(payload)

    def close(self) -> None:
        with self._cursors_lock:
            cursors = list(self._cursors)
        for cursor in cursors:  # threads still alive
            cursor.disconnect()
        if self._opened is not None:
            self._opened.disconnect()
        self.engine.dispose()


if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The revisions the metadata database is at, and the heads this release's migrations end in.

    Read without Alembic, which every command would otherwise load (and with it every migration script)
    just to find the schema up to date; Alembic runs only to upgrade (tests/core/test_migrate.py checks
    that both read the same heads).
    """
    with engine.connect() as conn:
        stored = inspect(conn).has_table(VERSIONS.name)
        current = set(conn.execute(select(VERSIONS.c.version_num)).scalars()) if stored else set()
    revisions, heads = migration_graph()
    unknown = current - revisions
    if unknown:
        raise AppError(
            CoreErrorCode.CONFLICT,
            f"the metadata database {redact(str(engine.url))} was migrated by a newer Tagora release "
            f"(revision {', '.join(sorted(unknown))}); run that release, or a newer one",
            409,
            {"database": redact(str(engine.url)), "revisions": sorted(current)},
        )
    return current, set(heads)


@lru_cache(maxsize=1)
def migration_graph() -> tuple[frozenset[str], frozenset[str]]:
    """(every revision, the heads) of this release's migrations, read from the scripts' ``revision`` and
    ``down_revision`` assignments without running them."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        values = _assignments(ast.parse(script.read_text(encoding="utf-8")))
        if "revision" not in values:
            continue
        revisions.add(ast.literal_eval(values["revision"]))
        down = ast.literal_eval(values["down_revision"]) if "down_revision" in values else None
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions), frozenset(revisions - parents)


def _assignments(module: ast.Module) -> dict[str, ast.expr]:
    """``name = value`` and ``name: type = value`` at a module's top level."""
    found: dict[str, ast.expr] = {}
    for node in module.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found[node.target.id] = node.value
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            found[node.targets[0].id] = node.value
    return found


def migrate(engine: Engine) -> tuple[set[str], set[str]]:
    """Upgrade the metadata database to this release (``tagora migrate``); returns the revisions before and
    after. Under the schema lock, so processes that start together wait for the first one's upgrade."""
    with schema_lock(engine):
        return _upgrade(engine)


def _upgrade(engine: Engine) -> tuple[set[str], set[str]]:
    from alembic import command

    before, heads = schema_revisions(engine)
    if before != heads:
        # "heads": areas add migrations on branches of their own, merged by a later revision
        command.upgrade(alembic_config(engine), "heads")
    return before, heads


def ensure_schema(engine: Engine, settings: Settings) -> None:
    """Make sure the schema is this release's, under the schema lock (see ``_check_schema``)."""
    with schema_lock(engine):
        _check_schema(engine, settings)


def _check_schema(engine: Engine, settings: Settings) -> set[str]:
    """Upgrade an out-of-date schema, except a shared PostgreSQL's in production.

    There several servers and workers start from their own releases, and a schema change is the
    operator's step (``tagora migrate``, run once before the new release starts), never a side effect of
    whichever process happens to start first.
    """
    current, heads = schema_revisions(engine)
    if current == heads:
        return current
    if engine.dialect.name == "postgresql" and settings.env == "production":
        database = redact(str(engine.url))
        raise AppError(
            CoreErrorCode.CONFLICT,
            f"the metadata database {database} is at revision {', '.join(sorted(current)) or 'none (empty)'}"
            f" but this release needs {', '.join(sorted(heads))}: run `tagora migrate`, then start again",
            409,
            {"database": database, "current": sorted(current), "needed": sorted(heads)},
        )
    return _upgrade(engine)[0]


def open_stores(
    settings: Settings, *, upgrade: bool = False, adopt_warehouse: bool = False, lazy_warehouse: bool = False
) -> Stores:
    """Open (and on first use create) both stores.

    ``upgrade`` migrates the schema in production too (``tagora migrate``); ``adopt_warehouse`` pairs the
    metadata database with a warehouse that was not its own (``tagora migrate --adopt-warehouse``).
    ``lazy_warehouse`` opens the warehouse on first use (the CLI: a command that needs only the metadata
    database never waits for, or takes, an embedded warehouse's lock).
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    # Every session knows the settings it was opened with (``Session.info["settings"]``): identity
    # derives the blind-index key of the phones and e-mails it stores from the secret key there.
    sessions = sessionmaker(engine, expire_on_commit=False, info={"settings": settings})
    extras: dict[str, object] = {}

    def open_warehouse() -> BaseBackend:
        with schema_lock(engine):
            warehouse = connect_warehouse(settings.resolved_warehouse_url)
            try:
                extras[STORE_ID] = pair_stores(
                    sessions,
                    warehouse,
                    redact(settings.resolved_database_url),
                    redact(settings.resolved_warehouse_url),
                    adopt=adopt_warehouse,
                )
                prepare_warehouse(warehouse)
            except Exception:
                warehouse.disconnect()
                raise
        return warehouse

    try:
        with schema_lock(engine):
            before = _upgrade(engine)[0] if upgrade else _check_schema(engine, settings)
        extras[SCHEMA_BEFORE] = sorted(before)
        warehouse = None if lazy_warehouse and not (upgrade or adopt_warehouse) else open_warehouse()
    except Exception:
        engine.dispose()
        raise
    return Stores(settings, engine, sessions, warehouse, extras=extras, warehouse_opener=open_warehouse)
