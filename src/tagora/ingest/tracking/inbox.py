"""Group commit: calls hand their checked events to one writer, which commits everything that has queued
up in one transaction and only then answers each call.

A commit costs about the same for one event as for thousands, so under load this turns hundreds of
transactions a second into a few large ones, while at low load a call waits for nothing but its own
commit. The durability promise is unchanged: a call is answered (and so acknowledged) only after the
transaction holding its events has committed.

Where the writer runs depends on the database. On SQLite a group commit is some 50 us of CPU and no
network: it runs in the event loop, as a callback that the first call of a loop iteration schedules, so
the calls handled in the same iteration share it. A writer thread there cost more than the commit: it
needs the GIL back after each SQLite call while the loop holds it, and each group took several handovers.
On PostgreSQL a commit waits on the network, so a writer thread does it while the loop serves other calls.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from tagora.core.errors import AppError
from tagora.ingest.tracking import logic, sqlite
from tagora.ingest.tracking.logic import Accepted, Overloaded, Receipt, TrackingErrorCode
from tagora.ingest.tracking.schemas import TrackingSettings

log = logging.getLogger(__name__)
MAX_GROUP_EVENTS = 5000  # more waits for the next commit, so one commit stays short
RECOUNT_EVERY_S = 0.5  # the exact backlog is counted this often, and before refusing anything


@dataclass
class _Call:
    key_hash: str
    accepted: Accepted
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Receipt]


def _answer(call: _Call, result: Receipt | BaseException) -> None:
    _answer_all([(call, result)])


def _answer_all(answers: list[tuple[_Call, Receipt | BaseException]]) -> None:
    """Settle the calls' futures in their event loops, waking each loop once (not once per call)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Call, Receipt | BaseException]]] = {}
    for call, result in answers:
        by_loop.setdefault(call.loop, []).append((call, result))
    for loop, settled in by_loop.items():
        if _running(loop):  # the writer runs in this loop (SQLite)
            _settle(settled)
        else:
            loop.call_soon_threadsafe(_settle, settled)


def _running(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:  # no loop runs in this thread: the writer thread
        return False


def _settle(answers: list[tuple[_Call, Receipt | BaseException]]) -> None:
    for call, result in answers:
        if call.future.done():  # the client went away; its events are committed all the same
            continue
        if isinstance(result, BaseException):
            call.future.set_exception(result)
        else:
            call.future.set_result(result)


def bad_write_key() -> AppError:
    return AppError(TrackingErrorCode.BAD_WRITE_KEY, "unknown or revoked write key", 401)


class Backlog:
    """Events waiting for the loader, without counting them on every call.

    The exact count is taken now and then (less often when counting is slow: a long backlog takes a while
    to count); in between, this process adds what it committed. Other processes' commits show at the next
    count, and a refusal always follows a fresh exact count.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.estimate = 0
        self.counted_at = float("-inf")
        self.every_s = RECOUNT_EVERY_S

    def over(self, limit: int) -> bool:
        if time.monotonic() - self.counted_at >= self.every_s or self.estimate >= limit:
            started = time.monotonic()
            self.estimate = logic.backlog(self.sessions)
            self.counted_at = time.monotonic()
            self.every_s = max(RECOUNT_EVERY_S, 20 * (self.counted_at - started))  # at most ~5% of the time
        return self.estimate >= limit

    def added(self, n: int) -> None:
        self.estimate += n


class Inbox:
    """The writer of the inbox for one server process: in its event loop (SQLite) or in a thread."""

    def __init__(self, sessions: sessionmaker[Session], settings: TrackingSettings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.engine = engine = sessions.kw["bind"]
        self._lock = sqlite.write_lock(engine)  # orders the writers of several processes on SQLite
        path = sqlite.database_path(engine)
        self._writer = sqlite.Writer(path) if path else None
        self._checkpointer = sqlite.Checkpointer(engine) if path else None
        self.backlog = Backlog(sessions)
        self._pending: list[_Call] = []  # calls waiting for the loop's next group commit (SQLite)
        self._queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tagora-tracking-inbox", daemon=True)

    def start(self) -> None:
        if self._writer is None:
            self._thread.start()
        if self._checkpointer is not None:
            self._checkpointer.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commits and answers what is queued, then stops."""
        if self._writer is None:
            self._queue.put(None)
            self._thread.join(timeout)
        else:
            self._flush()  # nothing, once the server has finished its calls
            self._writer.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()

    async def submit(self, key_hash: str, accepted: Accepted) -> Receipt:
        """Commit a call's events; returns once they are durable. Raises 401 for a bad key, 429 when full."""
        loop = asyncio.get_running_loop()
        call = _Call(key_hash, accepted, loop, loop.create_future())
        if self._writer is None:
            self._queue.put(call)
        else:
            self._pending.append(call)
            if len(self._pending) == 1:
                loop.call_soon(self._flush)
        return await call.future

    def _flush(self) -> None:
        """Commit the calls this loop iteration handled (SQLite), at most ``MAX_GROUP_EVENTS`` at a time."""
        pending, self._pending = self._pending, []
        group: list[_Call] = []
        events = 0
        for call in pending:
            if group and events + call.accepted.count > MAX_GROUP_EVENTS:
                self._commit_safely(group)
                group, events = [], 0
            group.append(call)
            events += call.accepted.count
        if group:
            self._commit_safely(group)

    def _commit_safely(self, group: list[_Call]) -> None:
        try:
            self._commit_group(group)
        except Exception as exc:  # e.g. the database is gone: nobody waits forever
            log.exception("tracking: committing %d calls failed", len(group))
            for call in group:
                _answer(call, exc)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            group, events = [first], first.accepted.count
            while events < MAX_GROUP_EVENTS:
                try:
                    call = self._queue.get_nowait()
                except queue.Empty:
                    break
                if call is None:
                    stopping = True
                    break
                group.append(call)
                events += call.accepted.count
            self._commit_safely(group)

    @contextmanager
    def _transaction(self) -> Iterator[Connection | sqlite3.Connection]:
        """The writer's own SQLite connection, or a pooled one (PostgreSQL)."""
        if self._writer is not None:
            with self._writer.transaction() as raw:
                yield raw
        else:
            with self.engine.begin() as connection:
                yield connection

    def _commit_group(self, group: list[_Call]) -> None:
        """One transaction: check the keys, check the backlog, write; answer each call after the commit.

        (The key check reads inside the write transaction: on SQLite it begins ``IMMEDIATE``, holding the
        write lock, and PostgreSQL reads and writes in one transaction without trouble.)
        """
        done: list[_Call] = []
        try:
            with self._lock, self._transaction() as connection:
                ids = logic.key_ids(connection, {c.key_hash for c in group})
                for call in group:
                    if call.key_hash not in ids:
                        _answer(call, bad_write_key())
                group = [c for c in group if c.key_hash in ids]
                if group and self.backlog.over(self.settings.max_backlog):
                    refusal = Overloaded(self.backlog.estimate, self.settings.retry_after_s)
                    for call in group:
                        _answer(call, refusal)
                    return
                logic.commit(connection, [(ids[c.key_hash], c.accepted) for c in group])
                done = group
        except Exception as exc:
            if len(group) == 1:  # never leave a call waiting: it gets the error (a 500), unacknowledged
                log.exception("tracking: committing a call failed")
                _answer(group[0], exc)
                return
            # One call's data broke the shared transaction: commit each alone so only it fails.
            for call in group:
                self._commit_group([call])
            return
        self.backlog.added(sum(c.accepted.count for c in done))
        _answer_all([(call, call.accepted.receipt) for call in done])
