"""The Segment HTTP API on real SQLite + DuckDB: auth, gzip, limits, idempotency, clock skew, dead letters."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.tracking import logic
from tagora.ingest.tracking.loader import Batch, _expand, load_inbox
from tagora.ingest.tracking.messages import unpack
from tagora.ingest.tracking.models import DeadLetter, InboxCall
from tagora.profiles.facade import customer_keys_to_uids
from tests.ingest.tracking.conftest import basic, gzipped


def track(message_id: str = "m1", **extra: Any) -> dict[str, Any]:
    return {"userId": "u1", "event": "Order Completed", "messageId": message_id, **extra}


def inbox(stores: Stores) -> list[SimpleNamespace]:
    """The inbox's events, as the loader shapes them, with their call's ``loaded_at``."""
    rows = []
    with stores.sessions() as session:
        for call in session.scalars(select(InboxCall).order_by(InboxCall.id)):
            batch = Batch()
            _expand(call, batch)
            assert batch.dead == []  # the request's check let nothing through that the loader refuses
            columns = batch.rows
            rows += [
                SimpleNamespace(**{name: columns[name][i] for name in columns}, loaded_at=call.loaded_at)
                for i in range(batch.size)
            ]
    return rows


def dead(stores: Stores) -> list[DeadLetter]:
    with stores.sessions() as session:
        return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


def warehouse_events(stores: Stores) -> list[dict[str, Any]]:
    return stores.warehouse.table("events").order_by("event_id").to_pyarrow().to_pylist()


def test_a_call_without_a_write_key_is_refused(api: TestClient, stores: Stores) -> None:
    response = api.post("/v1/track", json=track())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_write_key"
    assert inbox(stores) == []


def test_an_unknown_or_revoked_write_key_is_refused(api: TestClient, stores: Stores, write_key: str) -> None:
    assert api.post("/v1/track", json=track(), headers=basic("tgw_nope")).status_code == 401
    logic.revoke_write_key(stores.sessions, CLI_OPERATOR, "website")
    assert api.post("/v1/track", json=track(), headers=basic(write_key)).status_code == 401


def test_write_keys_are_stored_hashed(stores: Stores, write_key: str) -> None:
    from tagora.ingest.tracking.models import WriteKey

    with stores.sessions() as session:
        stored = session.scalars(select(WriteKey.key_hash)).all()
    assert write_key not in stored and len(stored) == 1


def test_a_track_call_is_acknowledged_once_it_is_in_the_inbox(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    response = api.post(
        "/v1/track", json=track(properties={"sku": "A1", "revenue": 9.5}), headers=basic(write_key)
    )
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    [row] = inbox(stores)
    assert (row.message_id, row.event, row.user_id, row.sku, row.loaded_at) == (
        "m1", "Order Completed", "u1", "A1", None
    )  # fmt: skip
    assert json.loads(row.properties)["properties"] == {"sku": "A1", "revenue": 9.5}


def test_the_write_key_may_come_in_the_body_like_segment_accepts(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    response = api.post("/v1/track", json=track(writeKey=write_key))
    assert response.status_code == 200, response.text
    assert len(inbox(stores)) == 1


def test_a_gzip_body_is_accepted(api: TestClient, stores: Stores, write_key: str) -> None:
    batch = {"batch": [{**track(f"g{i}"), "type": "track"} for i in range(3)]}
    headers = {**basic(write_key), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    response = api.post("/v1/batch", content=gzipped(batch), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 3
    assert [r.message_id for r in inbox(stores)] == ["g0", "g1", "g2"]


def test_a_corrupt_gzip_body_is_a_clear_400(api: TestClient, write_key: str) -> None:
    headers = {**basic(write_key), "Content-Encoding": "gzip"}
    response = api.post("/v1/track", content=b"not gzip at all", headers=headers)
    assert response.status_code == 400
    assert "gzip" in response.json()["error"]["message"]


def test_an_event_over_32_kb_is_refused_with_413(api: TestClient, stores: Stores, write_key: str) -> None:
    big = track(properties={"blob": "x" * 33_000})
    response = api.post("/v1/track", json=big, headers=basic(write_key))
    assert response.status_code == 413
    assert "32 KB" in response.json()["error"]["message"]
    assert inbox(stores) == []


def test_a_batch_over_500_kb_is_refused_with_413(api: TestClient, stores: Stores, write_key: str) -> None:
    events = [{**track(f"b{i}", properties={"blob": "x" * 20_000}), "type": "track"} for i in range(30)]
    response = api.post("/v1/batch", json={"batch": events}, headers=basic(write_key))
    assert response.status_code == 413
    assert "500 KB" in response.json()["error"]["message"]
    assert inbox(stores) == []


def test_a_small_gzip_body_that_inflates_past_the_limit_is_refused(api: TestClient, write_key: str) -> None:
    bomb = gzip.compress(json.dumps(track(properties={"blob": "x" * 200_000})).encode())
    assert len(bomb) < 32 * 1024
    headers = {**basic(write_key), "Content-Encoding": "gzip"}
    assert api.post("/v1/track", content=bomb, headers=headers).status_code == 413


def test_an_oversized_event_inside_a_batch_is_dead_lettered(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    events = [
        {**track("ok"), "type": "track"},
        {**track("huge", properties={"b": "x" * 40_000}), "type": "track"},
    ]
    response = api.post("/v1/batch", json={"batch": events}, headers=basic(write_key))
    assert response.status_code == 200
    assert [r["messageId"] for r in response.json()["rejected"]] == ["huge"]
    assert [r.message_id for r in inbox(stores)] == ["ok"]


def test_a_repeated_message_id_is_acknowledged_but_stored_once(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    for _ in range(3):
        assert api.post("/v1/track", json=track("dup"), headers=basic(write_key)).status_code == 200
    batch = {"batch": [{**track("dup"), "type": "track"}, {**track("dup"), "type": "track"}]}
    assert api.post("/v1/batch", json=batch, headers=basic(write_key)).status_code == 200
    assert [r.message_id for r in inbox(stores)] == ["dup"] * 5  # the loader keeps one
    load_inbox(stores)
    assert api.post("/v1/track", json=track("dup"), headers=basic(write_key)).status_code == 200
    load_inbox(stores)
    assert [e["event_id"] for e in warehouse_events(stores)] == ["dup"]


def test_the_event_time_is_corrected_by_the_client_clock_error(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    # The device clock runs two hours fast: it says it sent "now + 2 h" and the event happened 5 min before.
    now = datetime.now(UTC)
    sent_at = now + timedelta(hours=2)
    body = track(timestamp=(sent_at - timedelta(minutes=5)).isoformat(), sentAt=sent_at.isoformat())
    assert api.post("/v1/track", json=body, headers=basic(write_key)).status_code == 200
    [row] = inbox(stores)
    expected = now - timedelta(minutes=5)
    assert abs((row.occurred_at - expected).total_seconds()) < 5


def test_a_batch_wide_sent_at_corrects_every_event_and_no_timestamp_means_received_now(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    now = datetime.now(UTC)
    sent_at = now - timedelta(days=1)  # the device clock is a day slow
    events = [
        {**track("t1", timestamp=(sent_at - timedelta(hours=1)).isoformat()), "type": "track"},
        {**track("t2"), "type": "track"},
    ]
    body = {"batch": events, "sentAt": sent_at.isoformat()}
    assert api.post("/v1/batch", json=body, headers=basic(write_key)).status_code == 200
    first, second = inbox(stores)
    assert abs((first.occurred_at - (now - timedelta(hours=1))).total_seconds()) < 5
    assert abs((second.occurred_at - now).total_seconds()) < 5
    assert first.occurred_at.tzinfo is not None


def test_an_event_without_user_or_anonymous_id_is_dead_lettered_and_the_field_named(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    body = {"event": "Signed Up", "messageId": "nobody"}
    response = api.post("/v1/track", json=body, headers=basic(write_key))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_event" and error["data"]["field"] == "userId"
    assert "anonymousId" in error["message"]
    [letter] = dead(stores)
    assert (letter.message_id, letter.field) == ("nobody", "userId")
    assert json.loads(letter.payload) == body
    assert inbox(stores) == []


def test_schema_errors_name_the_field(api: TestClient, stores: Stores, write_key: str) -> None:
    cases = [
        ("/v1/track", {"userId": "u1"}, "event"),
        ("/v1/track", {"userId": "u1", "event": "X", "properties": "not an object"}, "properties"),
        ("/v1/track", {"userId": "u1", "event": "X", "timestamp": "yesterday"}, "timestamp"),
        ("/v1/track", {"userId": ["u1"], "event": "X"}, "userId"),
        ("/v1/group", {"userId": "u1"}, "groupId"),
        ("/v1/alias", {"userId": "u1"}, "previousId"),
    ]
    for path, body, field in cases:
        response = api.post(path, json=body, headers=basic(write_key))
        assert response.status_code == 400, (path, body)
        assert response.json()["error"]["data"]["field"] == field, (path, body, response.json())
    assert len(dead(stores)) == len(cases)


def test_a_body_that_is_not_json_is_a_400(api: TestClient, write_key: str) -> None:
    response = api.post("/v1/track", content=b"{oops", headers=basic(write_key))
    assert response.status_code == 400
    assert response.json()["error"]["data"]["field"] == "body"


@pytest.mark.parametrize(
    "body",
    [
        '{"userId": "u1", "event": "Caf\u00e9"}'.encode("latin-1"),  # Latin-1, not UTF-8
        '{"userId": "u1", "event": "购买"}'.encode("gb18030"),  # GB 18030, as some Chinese systems send
        b'{"userId": "u1", "event": "\xff\xfe"}',
        "\ufeff".encode("utf-16") + b'{"userId": "u1"}',
    ],
)
def test_a_body_that_is_not_utf8_is_a_400_that_says_so(
    api: TestClient, stores: Stores, write_key: str, body: bytes
) -> None:
    response = api.post("/v1/track", content=body, headers=basic(write_key))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["data"]["field"] == "body" and "JSON" in error["message"]
    in_batch = api.post("/v1/batch", content=gzip.compress(b'{"batch": [' + body + b"]}"),
                        headers={**basic(write_key), "Content-Encoding": "gzip"})  # fmt: skip
    assert in_batch.status_code == 400, in_batch.text
    assert inbox(stores) == [] and dead(stores) == []  # nothing half-written


def test_a_batch_keeps_valid_events_and_dead_letters_invalid_ones(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    events = [
        {"type": "track", "userId": "u1", "event": "A", "messageId": "v1"},
        {"type": "track", "event": "B", "messageId": "x1"},  # no user
        {"type": "launch", "userId": "u1", "messageId": "x2"},  # unknown type
        {"type": "page", "anonymousId": "anon-1", "name": "Home", "messageId": "v2"},
        "not an object",
    ]
    response = api.post("/v1/batch", json={"batch": events}, headers=basic(write_key))
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 2
    assert [(r["index"], r["field"]) for r in answer["rejected"]] == [(1, "userId"), (2, "type"), (4, "body")]
    assert [r.message_id for r in inbox(stores)] == ["v1", "v2"]
    assert [d.message_id for d in dead(stores)] == ["x1", "x2", None]


def test_a_batch_without_a_batch_list_names_the_field(api: TestClient, write_key: str) -> None:
    response = api.post("/v1/batch", json={"events": []}, headers=basic(write_key))
    assert response.status_code == 400
    assert response.json()["error"]["data"]["field"] == "batch"


def test_a_full_inbox_answers_429_with_retry_after(
    api: TestClient, stores: Stores, write_key: str, tracking_settings: Any
) -> None:
    tracking_settings.max_backlog = 2
    for i in range(2):
        assert api.post("/v1/track", json=track(f"q{i}"), headers=basic(write_key)).status_code == 200
    response = api.post("/v1/track", json=track("q2"), headers=basic(write_key))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(tracking_settings.retry_after_s)
    assert response.json()["error"]["code"] == "overloaded"
    load_inbox(stores)  # the loader drains the backlog and the API accepts again
    assert api.post("/v1/track", json=track("q2"), headers=basic(write_key)).status_code == 200


def test_every_call_type_reaches_the_warehouse_on_the_right_profile(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    calls = [
        ("identify", {"userId": "c-1", "anonymousId": "a-1", "traits": {"email": "li@example.com"}}),
        ("track", {"userId": "c-1", "event": "Product Viewed", "properties": {"product_id": "SKU-9"}}),
        ("page", {"anonymousId": "a-1", "name": "Pricing"}),
        ("screen", {"userId": "c-1", "name": "Cart"}),
        ("group", {"userId": "c-1", "groupId": "acme", "traits": {"plan": "pro"}}),
        ("alias", {"userId": "c-1", "previousId": "a-1"}),
    ]  # fmt: skip
    for i, (kind, body) in enumerate(calls):
        response = api.post(f"/v1/{kind}", json={**body, "messageId": f"k{i}"}, headers=basic(write_key))
        assert response.status_code == 200, (kind, response.text)
    report = load_inbox(stores)
    assert report.loaded == len(calls)
    with stores.sessions() as session:
        uid = customer_keys_to_uids(session, ["c-1"])["c-1"]
    rows = {e["event_id"]: e for e in warehouse_events(stores)}
    assert [rows[f"k{i}"]["event"] for i in range(6)] == [
        "identify", "Product Viewed", "page", "screen", "group", "alias"
    ]  # fmt: skip
    # the anonymous page view is stitched: its device identified as c-1 in the same batch
    assert [rows[f"k{i}"]["uid"] for i in range(6)] == [uid] * 6
    assert rows["k1"]["sku"] == "SKU-9"
    assert rows["k2"]["anonymous_id"] == "a-1" and rows["k2"]["channel"] == "web"
    assert json.loads(rows["k0"]["properties"])["traits"]["email"] == "li@example.com"
    assert rows["k0"]["occurred_at"].tzinfo is not None


def test_identify_upserts_the_customer_traits(api: TestClient, stores: Stores, write_key: str) -> None:
    from tagora.profiles.models import Customer

    first = {"userId": "c-7", "traits": {"firstName": "Mei", "lastName": "Han", "phone": "+8613800000000"}}
    second = {"userId": "c-7", "traits": {"email": "mei@example.com"}}
    for body in (first, second):
        assert api.post("/v1/identify", json=body, headers=basic(write_key)).status_code == 200
    load_inbox(stores)
    with stores.sessions() as session:
        customer = session.scalar(select(Customer).where(Customer.customer_key == "c-7"))
    assert customer is not None
    assert (customer.name, customer.phone, customer.email) == ("Mei Han", "+8613800000000", "mei@example.com")


def test_the_context_keeps_ip_user_agent_campaign_device_and_locale(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    context = {
        "userAgent": "Mozilla/5.0",
        "locale": "zh-CN",
        "device": {"type": "ios", "model": "iPhone15,2"},
        "page": {"url": "https://shop.example.com/?utm_source=wechat&utm_campaign=spring&x=1"},
    }
    body = track(context=context)
    assert api.post("/v1/track", json=body, headers=basic(write_key)).status_code == 200
    [row] = inbox(stores)
    stored = json.loads(row.properties)["context"]
    assert stored["ip"] == "testclient"
    assert stored["userAgent"] == "Mozilla/5.0" and stored["locale"] == "zh-CN"
    assert stored["device"]["model"] == "iPhone15,2"
    assert stored["campaign"] == {"source": "wechat", "name": "spring"}
    assert row.channel == "app"


def test_the_loader_does_not_store_an_event_twice_after_a_crash_before_marking_done(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    for i in range(5):
        assert api.post("/v1/track", json=track(f"c{i}"), headers=basic(write_key)).status_code == 200
    assert load_inbox(stores).loaded == 5
    # Simulate a crash after the warehouse insert: the inbox calls are pending again.
    with stores.sessions.begin() as session:
        session.execute(InboxCall.__table__.update().values(loaded_at=None))
    report = load_inbox(stores, batch_size=2)
    assert (report.loaded, report.already_in_warehouse, report.batches) == (0, 5, 3)
    assert [e["event_id"] for e in warehouse_events(stores)] == [f"c{i}" for i in range(5)]
    with stores.sessions() as session:
        assert session.scalar(select(func.count()).where(InboxCall.loaded_at.is_(None))) == 0


def test_the_background_loader_moves_events_without_being_asked(
    settings: Any, stores: Stores, write_key: str
) -> None:
    import time

    from tagora.app import create_app
    from tagora.ingest.tracking.schemas import TrackingSettings

    app = create_app(settings, stores)
    app.state.tracking_settings = TrackingSettings(loader_interval_s=0.05)
    with TestClient(app) as client:
        assert client.post("/v1/track", json=track("bg"), headers=basic(write_key)).status_code == 200
        deadline = time.monotonic() + 10
        while logic.backlog(stores.sessions) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [e["event_id"] for e in warehouse_events(stores)] == ["bg"]


def test_pruning_the_inbox_keeps_a_late_resend_stored_once(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    from tagora.ingest.tracking.loader import prune_inbox

    assert api.post("/v1/track", json=track("late"), headers=basic(write_key)).status_code == 200
    load_inbox(stores)
    assert prune_inbox(stores, keep_days=1) == 0  # loaded just now: kept
    with stores.sessions.begin() as session:
        session.execute(InboxCall.__table__.update().values(loaded_at=datetime.now(UTC) - timedelta(days=2)))
    assert prune_inbox(stores, keep_days=1) == 1
    assert inbox(stores) == []
    assert api.post("/v1/track", json=track("late"), headers=basic(write_key)).status_code == 200
    report = load_inbox(stores)
    assert (report.loaded, report.already_in_warehouse) == (0, 1)
    assert [e["event_id"] for e in warehouse_events(stores)] == ["late"]


def test_an_event_without_message_id_keeps_the_servers_id_through_a_reload(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    body = {"userId": "u1", "event": "No Id", "writeKey": write_key}
    assert api.post("/v1/track", json=body).status_code == 200
    with stores.sessions() as session:
        [payload] = session.scalars(select(InboxCall.payload))
    assert write_key.encode() not in unpack(payload)  # the key sent in the body is not kept with the event
    assert load_inbox(stores).loaded == 1
    with stores.sessions.begin() as session:  # a crash before the calls were marked done
        session.execute(InboxCall.__table__.update().values(loaded_at=None))
    assert load_inbox(stores).already_in_warehouse == 1
    [stored] = warehouse_events(stores)
    assert stored["event_id"].startswith("tagora-")


def test_odd_types_in_a_batch_are_refused_by_name_not_with_a_server_error(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    events = [
        {"type": [], "userId": "u1", "event": "A", "messageId": "list-type"},
        {"type": {"a": 1}, "userId": "u1", "event": "A", "messageId": "object-type"},
        {"type": "track", "userId": "u1", "event": "A", "messageId": "fine"},
    ]
    response = api.post("/v1/batch", json={"batch": events}, headers=basic(write_key))
    assert response.status_code == 200, response.text
    assert [(r["index"], r["field"]) for r in response.json()["rejected"]] == [(0, "type"), (1, "type")]
    assert [r.message_id for r in inbox(stores)] == ["fine"]
