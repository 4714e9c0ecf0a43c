"""Open both stores: migrate the metadata database with Alembic, create missing warehouse tables."""

from __future__ import annotations

import importlib
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
from alembic import command
from alembic.config import Config
from ibis.backends import BaseBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tagora.core.db import make_engine
from tagora.core.warehouse import connect_warehouse, ensure_tables, ensure_views, thread_connection
from tagora.settings import Settings

# Every module that declares tables; Alembic and the warehouse read them from here.
MODEL_MODULES = (
    "tagora.core.models",
    "tagora.profiles.models",
    "tagora.identity.models",
    "tagora.ingest.tracking.models",
    "tagora.audiences.models",
    "tagora.tags.models",
    "tagora.scoring.models",
)
MIGRATIONS = Path(__file__).parent / "migrations"


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


EVENTS_LOADED = "events_loaded"  # topic: the uids whose new events just reached the warehouse
PEOPLE_CHANGED = "people_changed"  # topic: the records of people an identity merge or unmerge changed


@dataclass
class Stores:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    opened_warehouse: BaseBackend  # the connection opened with the stores; ``warehouse`` is per thread
    extras: dict[str, object] = field(default_factory=dict)
    generation: int = 0  # bumped by writes that make derived in-memory state (the audience index) stale
    listeners: dict[str, list[Callable[[Any], None]]] = field(default_factory=dict)
    _owner: int = field(default_factory=threading.get_ident, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _cursors: weakref.WeakSet[BaseBackend] = field(default_factory=weakref.WeakSet, repr=False)
    _cursors_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
        self.opened_warehouse.disconnect()
        self.engine.dispose()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    # "heads": areas add migrations on branches of their own, merged by a later revision
    command.upgrade(alembic_config(engine), "heads")


def open_stores(settings: Settings) -> Stores:
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        warehouse = connect_warehouse(settings.resolved_warehouse_url)
        prepare_warehouse(warehouse)
    except Exception:
        engine.dispose()
        raise
    return Stores(settings, engine, sessionmaker(engine, expire_on_commit=False), warehouse)
