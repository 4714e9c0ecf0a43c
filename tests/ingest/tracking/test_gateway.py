"""``tagora tracking serve --workers 2`` beside ``tagora serve``: two processes commit to the inbox, the
server's loader moves every acknowledged event to the warehouse exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ingest.tracking.server import Gateway, Server
from tests.ingest.tracking.test_segment_client import wait_for_empty_inbox

CALLS, PER_CALL, SENDERS = 40, 50, 4


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Gateway]]:
    for name in ("main", "gateway"):
        (tmp_path / name).mkdir()
    server = Server(tmp_path / "main", TAGORA_TRACKING_LOADER_INTERVAL_S="0.2")
    gateway = Gateway(tmp_path / "gateway", workers=2)
    gateway.settings, gateway.env = server.settings, {**server.env}  # the same home
    try:
        yield server, gateway
    finally:
        gateway.close()
        server.close()


def test_the_gateway_workers_acknowledge_only_what_reaches_the_warehouse_once(
    servers: tuple[Server, Gateway],
) -> None:
    server, gateway = servers
    key = server.create_write_key()
    server.start()
    gateway.start()
    acked: list[str] = []
    lock = threading.Lock()

    def send(sender: int) -> None:
        with httpx.Client(auth=(key, ""), timeout=30) as client:
            for c in range(CALLS):
                batch = [
                    {
                        "type": "track",
                        "userId": f"u{i}",
                        "event": "Gateway",
                        "messageId": f"g{sender}-{c}-{i}",
                    }
                    for i in range(PER_CALL)
                ]
                response = client.post(f"{gateway.base}/v1/batch", json={"batch": batch})
                assert response.status_code == 200, response.text
                with lock:
                    acked.extend(e["messageId"] for e in batch)
            # a retry of the last call: acknowledged again, stored once
            assert client.post(f"{gateway.base}/v1/batch", json={"batch": batch}).status_code == 200

    threads = [threading.Thread(target=send, args=(s,)) for s in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = httpx.post(f"{gateway.base}/v1/track", json={"event": "x"}, auth=("tgw_unknown", ""))
    assert bad.status_code == 401
    gateway.stop()
    wait_for_empty_inbox(server, timeout=60)
    server.stop()
    stores = server.open_stores()
    try:
        events = stores.warehouse.table("events")
        ids = events.filter(events.event == "Gateway").event_id.to_pyarrow().to_pylist()
    finally:
        stores.close()
    assert len(acked) == CALLS * PER_CALL * SENDERS
    assert Counter(ids) == Counter(acked)
