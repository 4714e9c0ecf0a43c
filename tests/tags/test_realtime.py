"""Real-time tags: events sent to the tracking API re-evaluate the person's real-time tags in the server."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tagora.app import create_app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.tracking.logic import create_write_key
from tagora.ingest.tracking.schemas import TrackingSettings
from tagora.settings import Settings
from tagora.tags.queries import customer_tags, resolve_customer
from tagora.tags.realtime import realtime_tags
from tagora.tags.runs import compute_tags, runs
from tests.ingest.tracking.conftest import basic


def current(stores: Stores, uid: int) -> dict[str, object]:
    return {v.tag: v.value for v in customer_tags(stores.warehouse, uid)}


def test_the_library_marks_engagement_tags_real_time(shop: Stores) -> None:
    assert {"events_30d", "product_views_30d", "days_since_visit", "engagement_level"} <= set(
        realtime_tags(shop)
    )
    assert "monetary_365d" not in realtime_tags(shop)


def test_events_re_evaluate_real_time_tags_for_just_that_person(settings: Settings, shop: Stores) -> None:
    key = create_write_key(shop.sessions, CLI_OPERATOR, "web")
    assert compute_tags(shop).status == "succeeded"
    with shop.sessions() as session:
        ann, bob = resolve_customer(session, "ann"), resolve_customer(session, "bob")
    before_bob = current(shop, bob)
    assert current(shop, ann)["product_views_30d"] == 0  # the fixture's views are months old
    app = create_app(settings, shop)
    app.state.tracking_settings = TrackingSettings(loader_interval_s=0.1)
    now = datetime.now(UTC).isoformat()
    with TestClient(app) as client:
        for i in range(3):
            body = {"userId": "ann", "event": "product_view", "messageId": f"rt-{i}", "timestamp": now}
            assert client.post("/v1/track", json=body, headers=basic(key)).status_code == 200
        sent = time.monotonic()
        while current(shop, ann)["product_views_30d"] != 3 and time.monotonic() - sent < 20:
            time.sleep(0.05)
        waited = time.monotonic() - sent
    tags = current(shop, ann)
    print(f"real-time tags updated {waited:.2f} s after the last 2xx")
    assert tags["product_views_30d"] == 3 and tags["events_30d"] == 3, f"after {waited:.1f} s: {tags}"
    assert tags["days_since_visit"] == 0
    assert tags["monetary_365d"] == 100.0  # a scheduled tag is left as the batch run computed it
    assert current(shop, bob) == before_bob
    realtime = [r for r in runs(shop) if r.actor == "realtime-tags"]
    assert realtime and all(r.scope == "uids" and r.status == "succeeded" for r in realtime)
    assert "product_views_30d" in realtime[0].tags and "monetary_365d" not in realtime[0].tags
