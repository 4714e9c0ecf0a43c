"""RudderStack's SDKs send a user's traits in ``context.traits`` (an identify call has no top-level
``traits``); they reach the profile as the Segment spec's ``traits`` do."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tagora.core.stores import Stores
from tagora.ingest.tracking.loader import load_inbox
from tagora.profiles.models import Customer
from tests.ingest.tracking.conftest import basic
from tests.ingest.tracking.test_api import warehouse_events


def rudderstack(kind: str, message_id: str, user_traits: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A call as the RudderStack JavaScript SDK (2.x/3.x) sends it: the user's traits in context.traits,
    ``event`` and ``properties`` null on an identify call, its own ``channel`` and ``integrations``."""
    return {
        "channel": "web",
        "context": {
            "app": {"name": "RudderLabs JavaScript SDK", "namespace": "com.rudderlabs.javascript",
                    "version": "3.7.1"},
            "traits": user_traits,
            "library": {"name": "RudderLabs JavaScript SDK", "version": "3.7.1"},
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0",
            "network": None,
            "os": {"name": "", "version": ""},
            "locale": "zh-CN",
            "screen": {"density": 1, "width": 1920, "height": 1080, "innerWidth": 1920, "innerHeight": 960},
            "sessionId": 1764990000000,
            "campaign": {},
            "page": {"path": "/account", "referrer": "$direct", "referring_domain": "", "search": "",
                     "title": "My account", "url": "https://shop.example.cn/account",
                     "tab_url": "https://shop.example.cn/account", "initial_referrer": "$direct",
                     "initial_referring_domain": ""},
        },
        "type": kind,
        "messageId": message_id,
        "originalTimestamp": "2026-12-05T08:13:58.548Z",
        "anonymousId": "5a1c6e0e-58f1-4b5e-a0ad-3b7c0a6f11d2",
        "userId": "rs-user-1",
        "event": None,
        "properties": None,
        "integrations": {"All": True},
        "user_properties": None,
        "sentAt": "2026-12-05T08:13:59.001Z",
        **fields,
    }  # fmt: skip


TRAITS = {
    "name": "Wang Fang",
    "email": "wang.fang@example.cn",
    "phone": "+8613912345678",
    "plan": "Gold",
    "address": [{"city": "Hangzhou", "country": "CN", "defaultAddress": True}],
}


def customer(stores: Stores, key: str) -> Customer:
    with stores.sessions() as session:
        found = session.scalar(select(Customer).where(Customer.customer_key == key))
    assert found is not None
    return found


def test_a_rudderstack_identify_fills_the_profile_from_its_context_traits(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    body = {"batch": [rudderstack("identify", "rs-1", TRAITS)], "sentAt": "2026-12-05T08:13:59.001Z"}
    response = api.post("/v1/batch", json=body, headers=basic(write_key))
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text
    assert load_inbox(stores).loaded == 1
    found = customer(stores, "rs-user-1")
    assert (found.name, found.email, found.phone) == ("Wang Fang", "wang.fang@example.cn", "+8613912345678")
    # The identify event keeps the user's traits where Segment's has them, all of them.
    [row] = warehouse_events(stores)
    assert json.loads(row["properties"])["traits"] == TRAITS


def test_top_level_traits_win_over_context_traits_and_the_rest_are_merged(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    call = rudderstack("identify", "rs-2", TRAITS, traits={"email": "new@example.cn", "plan": "Platinum"})
    assert api.post("/v1/identify", json=call, headers=basic(write_key)).status_code == 200
    load_inbox(stores)
    found = customer(stores, "rs-user-1")
    assert (found.name, found.email) == ("Wang Fang", "new@example.cn")
    traits = json.loads(warehouse_events(stores)[0]["properties"])["traits"]
    assert (traits["plan"], traits["phone"]) == ("Platinum", "+8613912345678")


def test_context_traits_of_a_track_call_complete_its_users_profile_but_a_groups_traits_do_not(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    properties = {"revenue": 30, "currency": "CNY"}
    track = rudderstack("track", "rs-3", {"email": "li.na@example.cn"}, userId="rs-user-2", event="Paid",
                        properties=properties)  # fmt: skip
    group = rudderstack("group", "rs-4", {}, userId="rs-user-2", groupId="acme", traits={"name": "Acme Ltd"})
    response = api.post("/v1/batch", json={"batch": [track, group]}, headers=basic(write_key))
    assert response.status_code == 200 and response.json()["accepted"] == 2, response.text
    assert load_inbox(stores).loaded == 2
    found = customer(stores, "rs-user-2")
    assert (found.email, found.name) == ("li.na@example.cn", None)  # "Acme Ltd" is the group's name


def test_an_anonymous_call_with_context_traits_creates_no_profile(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    properties = {"name": "Home", "path": "/", "url": "https://shop.example.cn/"}
    call = rudderstack(
        "page", "rs-5", {"email": "anon@example.cn"}, userId=None, name="Home", properties=properties
    )
    assert api.post("/v1/page", json=call, headers=basic(write_key)).status_code == 200
    assert load_inbox(stores).loaded == 1
    with stores.sessions() as session:
        assert session.scalar(select(Customer.uid)) is None
