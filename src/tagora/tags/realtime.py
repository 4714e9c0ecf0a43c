"""Real-time tags: re-evaluated for the people whose events just reached the warehouse.

The tracking loader emits ``EVENTS_LOADED`` with the uids of each batch it stores; this worker, a thread
of the server, gathers the uids that arrive while it works and recomputes every live tag whose refresh
policy is ``realtime`` (and what their rules read) for just those people, as a run of its own. People an
identity merge or unmerge changed (``PEOPLE_CHANGED``) get every computed tag recomputed the same way.
"""

from __future__ import annotations

import logging
import queue
import threading

from ibis.backends import BaseBackend

from tagora.core.auth import Principal, Role
from tagora.core.stores import EVENTS_LOADED, PEOPLE_CHANGED, Stores
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
        self._queue: queue.SimpleQueue[tuple[bool, list[int]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tagora-realtime-tags", daemon=True)
        self.runs = 0

    def start(self) -> None:
        self.stores.listen(EVENTS_LOADED, self.offer)
        self.stores.listen(PEOPLE_CHANGED, self.offer_people)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stores.unlisten(EVENTS_LOADED, self.offer)
        self.stores.unlisten(PEOPLE_CHANGED, self.offer_people)
        self._queue.put(None)
        self._thread.join(timeout)

    def offer(self, uids: list[int]) -> None:
        """People with new events: their real-time tags."""
        if uids:
            self._queue.put((False, uids))

    def offer_people(self, uids: list[int]) -> None:
        """People merged or unmerged: all their computed tags."""
        if uids:
            self._queue.put((True, uids))

    def _next(self) -> tuple[set[int], set[int]] | None:
        """People for the next runs (real-time tags, all tags): all queued by now; ``None`` once stopped."""
        first = self._queue.get()
        if first is None:
            return None
        realtime: set[int] = set()
        everything: set[int] = set()
        item: tuple[bool, list[int]] | None = first
        while item is not None:
            (everything if item[0] else realtime).update(item[1])
            if len(realtime) + len(everything) >= MAX_PEOPLE:
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # stop after these runs
        return realtime - everything, everything

    def _run(self) -> None:
        warehouse = thread_connection(self.stores.warehouse)
        try:
            while (work := self._next()) is not None:
                realtime, everything = work
                if everything:
                    self._compute(None, everything, warehouse, touch=True)
                if realtime and (codes := realtime_tags(self.stores)):
                    self._compute(codes, realtime, warehouse, touch=False)
        finally:
            if warehouse is not self.stores.warehouse:
                warehouse.disconnect()

    def _compute(
        self, codes: list[str] | None, people: set[int], warehouse: BaseBackend, touch: bool
    ) -> None:
        try:
            compute_tags(self.stores, REALTIME, codes, people, warehouse=warehouse, touch=touch)
            self.runs += 1
        except Exception:  # a failed run is recorded by compute_tags; the worker carries on
            log.exception("real-time tags: a run for %d people failed", len(people))
