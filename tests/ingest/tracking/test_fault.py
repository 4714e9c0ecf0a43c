"""Kill the server with SIGKILL again and again while clients send 20,000 events: no acknowledged event is
lost and none is stored twice."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.ingest.tracking.server import Server
from tests.ingest.tracking.test_segment_client import wait_for_empty_inbox

TOTAL = 20_000
BATCH = 100
SENDERS = 4
KILLS = 6
EVENT = "Fault Drill"


def batches() -> list[list[dict[str, object]]]:
    out = []
    for b in range(TOTAL // BATCH):
        out.append(
            [
                {"type": "track", "userId": f"u{i % 97}", "event": EVENT, "messageId": f"f-{b}-{i}",
                 "properties": {"batch": b, "i": i}}
                for i in range(BATCH)
            ]
        )  # fmt: skip
    return out


class Senders:
    """Threads that post every batch, retrying refused or cut-off requests, and record what got a 2xx."""

    def __init__(self, base: str, key: str, deadline: float) -> None:
        self.base, self.key, self.deadline = base, key, deadline
        self.todo = list(enumerate(batches()))
        self.acked: set[str] = set()
        self.failures = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(SENDERS)]

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)

    def _next(self) -> list[dict[str, object]] | None:
        with self.lock:
            return self.todo.pop(0)[1] if self.todo else None

    def _run(self) -> None:
        with httpx.Client(auth=(self.key, ""), timeout=10) as client:
            while (events := self._next()) is not None:
                while time.monotonic() < self.deadline:
                    try:
                        response = client.post(f"{self.base}/v1/batch", json={"batch": events})
                        if 200 <= response.status_code < 300:
                            with self.lock:
                                self.acked.update(str(e["messageId"]) for e in events)
                            break
                    except httpx.TransportError:
                        pass
                    with self.lock:
                        self.failures += 1
                    time.sleep(0.05)


@pytest.mark.slow
def test_no_acknowledged_event_is_lost_or_doubled_when_the_server_is_killed_repeatedly(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    server = Server(tmp_path, TAGORA_TRACKING_LOADER_INTERVAL_S="0.3")
    try:
        key = server.create_write_key()
        server.start()
        senders = Senders(server.base, key, deadline=started + 480)  # generous: CI machines can be busy
        for t in senders.threads:
            t.start()
        rng = random.Random(7)
        kills = 0
        for k in range(1, KILLS + 1):
            while senders.acked_count() < k * TOTAL // (KILLS + 1) and any(
                t.is_alive() for t in senders.threads
            ):
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.2))  # somewhere inside a request or a loader batch
            server.kill()
            kills += 1
            server.start()
        for t in senders.threads:
            t.join()
        server.kill()  # once more after the last acknowledgement, then let a fresh server drain the inbox
        kills += 1
        server.start()
        wait_for_empty_inbox(server, timeout=60)
        server.stop()

        stores = server.open_stores()
        try:
            events = stores.warehouse.table("events")
            ids = events.filter(events.event == EVENT).event_id.to_pyarrow().to_pylist()
        finally:
            stores.close()
    finally:
        server.close()

    counts = Counter(ids)
    doubled = [i for i, n in counts.items() if n > 1]
    lost = senders.acked - counts.keys()
    assert kills >= 5
    assert senders.failures > 0, "no request was cut off by a kill"
    assert len(senders.acked) >= TOTAL * 0.95
    assert doubled == []
    assert lost == set()
    assert time.monotonic() - started < 600
