"""Real-time tags: re-evaluated for the people whose events just reached the warehouse.

The tracking loader emits ``EVENTS_LOADED`` with the uids of each batch it stores; this worker, a thread
of the server, gathers the uids that arrive while it works and recomputes every live tag whose refresh
policy is ``realtime`` (and what their rules read) for just those people, as a run of its own.
"""

from __future__ import annotations

import logging
import queue
import threading

from tagora.core.auth import Principal, Role
from tagora.core.stores import EVENTS_LOADED, Stores
from tagora.core.warehouse import thread_connection
from tagora.tags.runs import compute_tags, live_drafts
from tagora.tags.specs import Refresh

log = logging.getLogger(__name__)
REALTIME = Principal(username="realtime-tags", role=Role.ADMIN)
MAX_PEOPLE = 50_000  # more waiting people go into the next run


def realtime_tags(stores: Stores) -> list[str]:
    return sorted(code for code, draft in live_drafts(stores).items() if draft.refresh is Refresh.REALTIME)


class RealtimeTags:
    """One background thread per server process; ``start`` subscribes it to loaded events."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self._queue: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tagora-realtime-tags", daemon=True)
        self.runs = 0

    def start(self) -> None:
        self.stores.listen(EVENTS_LOADED, self.offer)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stores.unlisten(EVENTS_LOADED, self.offer)
        self._queue.put(None)
        self._thread.join(timeout)

    def offer(self, uids: list[int]) -> None:
        if uids:
            self._queue.put(uids)

    def _next(self) -> set[int] | None:
        """The people of the next run: everything queued by now (``None`` once stopped)."""
        first = self._queue.get()
        if first is None:
            return None
        people = set(first)
        while len(people) < MAX_PEOPLE:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)  # stop after this run
                break
            people.update(more)
        return people

    def _run(self) -> None:
        warehouse = thread_connection(self.stores.warehouse)
        try:
            while (people := self._next()) is not None:
                try:
                    codes = realtime_tags(self.stores)
                    if codes:
                        compute_tags(self.stores, REALTIME, codes, people, warehouse=warehouse, touch=False)
                        self.runs += 1
                except Exception:  # a failed run is recorded by compute_tags; the worker carries on
                    log.exception("real-time tags: a run for %d people failed", len(people))
        finally:
            if warehouse is not self.stores.warehouse:
                warehouse.disconnect()
