"""The real Segment Python SDK (``segment-analytics-python``) against a real Tagora server process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import segment.analytics as analytics
from segment.analytics.client import Client

from tagora.ingest.tracking import logic
from tagora.profiles.facade import customer_keys_to_uids
from tests.ingest.tracking.server import Server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path)
    try:
        yield server
    finally:
        server.close()


def wait_for_empty_inbox(server: Server, timeout: float = 30) -> None:
    """Reads the SQLite inbox from this process while the server's loader drains it."""
    from tagora.core.db import make_engine

    engine = make_engine(server.settings.resolved_database_url)
    try:
        from sqlalchemy.orm import sessionmaker

        sessions = sessionmaker(engine)
        deadline = time.monotonic() + timeout
        while logic.backlog(sessions) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert logic.backlog(sessions) == 0
    finally:
        engine.dispose()


def test_the_segment_python_sdk_events_land_once_on_the_right_profile(server: Server) -> None:
    key = server.create_write_key()
    server.start()
    client = Client(write_key=key, host=server.base, sync_mode=True, max_retries=2, gzip=True)
    errors: list[Exception] = []
    client.on_error = lambda error, _items: errors.append(error)
    client.identify("cust-42", {"name": "Wang Fang", "email": "wang@example.com"}, message_id="sdk-identify")
    client.track("cust-42", "Order Completed", {"order_id": "o-1", "revenue": 88.5, "sku": "SKU-1"},
                 message_id="sdk-track")  # fmt: skip
    client.page(anonymous_id="visitor-9", name="Pricing", properties={"url": "https://x.example/pricing"},
                message_id="sdk-page")  # fmt: skip
    client.alias("visitor-9", "cust-42", message_id="sdk-alias")
    # The module-level API of the SDK, as most applications use it, with the same server.
    analytics.write_key, analytics.host, analytics.sync_mode = key, server.base, True
    try:
        analytics.track("cust-42", "Coupon Used", {"code": "SPRING"}, message_id="sdk-module-track")
        analytics.track("cust-42", "Coupon Used", {"code": "SPRING"}, message_id="sdk-module-track")  # resent
        analytics.flush()
    finally:
        analytics.default_client = None
        analytics.write_key, analytics.host, analytics.sync_mode = None, None, False
    assert errors == []

    bad = httpx.post(f"{server.base}/v1/track", json={"event": "x"}, auth=(key, ""))
    assert bad.status_code == 400 and bad.json()["error"]["data"]["field"] == "userId"

    wait_for_empty_inbox(server)
    server.stop()
    stores = server.open_stores()
    try:
        rows = stores.warehouse.table("events").to_pyarrow().to_pylist()
        with stores.sessions() as session:
            uid = customer_keys_to_uids(session, ["cust-42"])["cust-42"]
    finally:
        stores.close()
    by_id = {r["event_id"]: r for r in rows}
    assert sorted(r["event_id"] for r in rows) == sorted(
        ["sdk-identify", "sdk-track", "sdk-page", "sdk-alias", "sdk-module-track"]
    )
    assert {i: by_id[i]["event"] for i in by_id} == {
        "sdk-identify": "identify",
        "sdk-track": "Order Completed",
        "sdk-page": "page",
        "sdk-alias": "alias",
        "sdk-module-track": "Coupon Used",
    }
    # the anonymous page view is stitched to cust-42 by the alias of its visitor id
    assert {by_id[i]["uid"] for i in by_id} == {uid}
    assert by_id["sdk-page"]["anonymous_id"] == "visitor-9" and by_id["sdk-page"]["origin_uid"] == uid
    assert by_id["sdk-track"]["sku"] == "SKU-1"
    track_props = json.loads(by_id["sdk-track"]["properties"])
    assert track_props["properties"]["revenue"] == 88.5
    assert track_props["context"]["library"]["name"] == "analytics-python"
    assert track_props["context"]["ip"] == "127.0.0.1"
    assert json.loads(by_id["sdk-alias"]["properties"])["previousId"] == "visitor-9"
