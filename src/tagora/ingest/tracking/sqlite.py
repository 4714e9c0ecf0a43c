"""SQLite under the inbox writers: a lock between processes, and WAL checkpoints off the commit path.

Two things made a commit of a few calls wait tens of milliseconds on SQLite, far longer than the commit:

- With several gateway processes, a writer that finds another holding SQLite's write lock is retried by
  SQLite's busy handler, which sleeps 1, 2, 5, 10 ms... and a deferred transaction that has read may not
  wait at all (``SQLITE_BUSY_SNAPSHOT``). An ``flock`` taken around each group commit orders the
  processes' writers instead, and wakes the next one as soon as the lock is released.
- SQLite checkpoints the WAL into the database from the commit that crosses 1,000 pages, in the writer's
  thread, with two fsyncs (``synchronous=NORMAL``). The inbox writers' connections (``Writer``) do not
  checkpoint; a thread of their own does it every second (``PASSIVE``: it never holds up a writer).

Neither changes what a commit guarantees: a committed transaction is in the WAL whatever the checkpoints.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)
CHECKPOINT_EVERY_S = 1.0
BUSY_TIMEOUT_S = 30.0  # as core.db.make_engine
PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "wal_autocheckpoint=0")


def database_path(engine: Engine) -> str | None:
    """The file of a SQLite engine; None for PostgreSQL or an in-memory database."""
    if engine.dialect.name != "sqlite":
        return None
    path = engine.url.database
    return path if path and path != ":memory:" else None


class WriteLock:
    """An exclusive ``flock`` on ``<database>.inbox-lock``, taken around each inbox write transaction."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path + ".inbox-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)  # releases the GIL while it waits

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.fd)


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    path = database_path(engine)
    return WriteLock(path) if path is not None else nullcontext()


class Writer:
    """The inbox writer's own connection to the SQLite file.

    A group commit through SQLAlchemy cost ~300 us of pool checkout, reset and result objects against
    ~50 us for SQLite's BEGIN, select, insert and COMMIT, and a commit of a few single calls is the
    common case. Same pragmas as ``core.db.make_engine``, and no checkpoint at commit (``Checkpointer``).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # Used by one thread at a time: the event loop's, then the one that stops the server.
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            for pragma in PRAGMAS:
                connection.execute(f"PRAGMA {pragma}")
            self._connection = connection
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; on any error a rollback, and a new connection next time."""
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            self.close()  # rolls back what is not committed
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class Checkpointer:
    """Checkpoints a SQLite WAL every second from its own thread and connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tagora-tracking-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_EVERY_S):
            try:
                with self.engine.connect() as con:
                    con.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
            except Exception:  # the next second tries again; the WAL only grows meanwhile
                log.exception("tracking: checkpointing the SQLite WAL failed")
