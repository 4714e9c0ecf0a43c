"""The console's segment builder (live count), saving, and a segment's portrait page."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tagora.core.stores import Stores
from tests.audiences.test_segments_api import GOLD, seed
from tests.console.test_pages import csrf_of, sign_in


def test_the_builder_counts_live_and_saves_a_segment(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed(stores)
    sign_in(client, users["marketer"])
    page = client.get("/segments").text
    assert 'hx-post="/partials/segments/count"' in page and "orders_90d" in page
    counted = client.post("/partials/segments/count", data={"expression": json.dumps(GOLD)}).text
    assert 'data-count="10"' in counted and "of" in counted
    broken = client.post("/partials/segments/count", data={"expression": '{"tag": "tier", "op": "~"}'}).text
    assert 'data-path="op"' in broken
    not_json = client.post("/partials/segments/count", data={"expression": "{tag"}).text
    assert "not JSON" in not_json
    token = csrf_of(client, "/segments")
    saved = client.post(
        "/segments",
        data={"code": "gold", "name": "Gold", "expression": json.dumps(GOLD), "csrf": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/segments/gold"
    page = client.get("/segments/gold").text
    assert 'data-stat="size"' in page and re.search(r'data-tag="tier"', page)
    assert "/api/segments/gold/export?format=xlsx" in page
    assert "tier = gold" not in page  # the chart data is JSON, drawn by segment.js
    assert '"tag": "tier"' in page


def test_sales_sees_segments_but_cannot_save_and_small_groups_are_hidden(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    seed(stores)
    sign_in(client, users["admin"])
    tiny = {"all": [GOLD, {"tag": "orders_90d", "op": "=", "value": 0}]}
    token = csrf_of(client, "/segments")
    client.post(
        "/segments", data={"code": "tiny", "name": "Tiny", "expression": json.dumps(tiny), "csrf": token}
    )
    client.post("/logout", data={"csrf": token})
    client.cookies.clear()
    sign_in(client, users["sales"])
    page = client.get("/segments").text
    assert "Save segment" not in page
    assert "privacy threshold" in client.get("/segments/tiny").text
    token = csrf_of(client, "/segments")
    refused = client.post(
        "/segments", data={"code": "x1", "name": "x", "expression": json.dumps(GOLD), "csrf": token}
    )
    assert refused.status_code == 403
