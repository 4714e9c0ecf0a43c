"""SQLite under the inbox writers: a lock between processes, and WAL checkpoints off the commit path.

Two things made a commit of a few calls wait tens of milliseconds on SQLite, far longer than the commit:

- With several gateway processes, a writer that finds another holding SQLite's write lock is retried by
  SQLite's busy handler, which sleeps 1, 2, 5, 10 ms... and a deferred transaction that has read may not
  wait at all (``SQLITE_BUSY_SNAPSHOT``). An ``flock`` taken around each group commit orders the
  processes' writers instead, and wakes the next one as soon as the lock is released.
- SQLite checkpoints the WAL into the database from the commit that crosses 1,000 pages, in the writer's
  thread, with two fsyncs (``synchronous=NORMAL``). The inbox writers' connections do not checkpoint;
  a thread of their own does it every second (``PASSIVE``: it never holds up a writer).

Neither changes what a commit guarantees: a committed transaction is in the WAL whatever the checkpoints.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)
CHECKPOINT_EVERY_S = 1.0


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


class Checkpointer:
    """Checkpoints a SQLite WAL every second from its own thread and connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._quiet: set[Any] = set()  # the DBAPI connections that no longer checkpoint on commit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tagora-tracking-checkpoint", daemon=True)

    def leave_checkpoints_to_me(self, connection: Connection) -> None:
        """Turn off the checkpoint at commit on this (pooled) connection, once."""
        dbapi = connection.connection.dbapi_connection
        if dbapi not in self._quiet:
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            self._quiet.add(dbapi)

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
