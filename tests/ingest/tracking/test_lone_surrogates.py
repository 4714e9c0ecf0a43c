"""Lone surrogates (``"\\ud800"``: valid JSON, not valid Unicode) in any string of an event: the event is
refused by name, and never the batch it came in (it used to be a 500 that lost every event of the call)."""

from __future__ import annotations

import json

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from tagora.core.clock import utcnow
from tagora.core.stores import Stores
from tagora.ingest.tracking import logic
from tagora.ingest.tracking.loader import load_inbox
from tagora.ingest.tracking.models import InboxCall
from tests.ingest.tracking.conftest import basic
from tests.ingest.tracking.test_api import dead, inbox, warehouse_events

LONE = "\\ud800"  # as a client writes it in the JSON text


def bad(field: str, event: dict[str, object]) -> tuple[str, str]:
    """(the field named in the refusal, the event's JSON text with a lone surrogate where ``@`` is)."""
    return field, json.dumps(event, separators=(",", ":")).replace("@", LONE)


U = {"userId": "u"}
BAD = [  # every string an event carries
    bad("event", {"type": "track", **U, "event": "Viewed @", "messageId": "b-event"}),
    bad("userId", {"type": "track", "userId": "u@", "event": "E", "messageId": "b-user"}),
    bad("anonymousId", {"type": "page", "anonymousId": "a@", "messageId": "b-anon"}),
    bad(
        "properties.title",
        {"type": "track", **U, "event": "E", "properties": {"title": "@"}, "messageId": "b-pv"},
    ),
    bad(
        "properties.x\\ud800",
        {"type": "track", **U, "event": "E", "properties": {"x@": 1}, "messageId": "b-pk"},
    ),
    bad(
        "properties.items.1",
        {"type": "track", **U, "event": "E", "properties": {"items": ["ok", "@"]}, "messageId": "b-pl"},
    ),
    bad("traits.name", {"type": "identify", **U, "traits": {"name": "Li @"}, "messageId": "b-traits"}),
    bad(
        "context.traits.email",
        {"type": "identify", **U, "context": {"traits": {"email": "@"}}, "messageId": "b-ct"},
    ),
    bad(
        "context.page.url",
        {"type": "page", **U, "context": {"page": {"url": "https://x.cn/@"}}, "messageId": "b-ctx"},
    ),
    bad("name", {"type": "screen", **U, "name": "Cart @", "messageId": "b-name"}),
    bad("groupId", {"type": "group", **U, "groupId": "g@", "messageId": "b-group"}),
    bad("previousId", {"type": "alias", **U, "previousId": "p@", "messageId": "b-alias"}),
    bad("messageId", {"type": "track", **U, "event": "E", "messageId": "b-mid@"}),
    bad("type", {"type": "track@", **U, "event": "E", "messageId": "b-type"}),
]


def good(i: int) -> str:
    return json.dumps({"type": "track", "userId": f"g{i}", "event": "Fine \U0001f600", "messageId": f"g{i}"})


def post(api: TestClient, path: str, body: str, key: str) -> dict[str, object]:
    response = api.post(
        path, content=body.encode(), headers={**basic(key), "Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text
    return {"status": response.status_code, **response.json()}


def test_one_bad_event_in_a_batch_is_refused_by_index_and_field_and_the_others_are_stored(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    events: list[str] = []
    for i, (_, text) in enumerate(BAD):
        events += [good(i), text]
    answer = post(api, "/v1/batch", '{"batch":[' + ",".join(events) + "]}", write_key)
    assert answer["status"] == 200 and answer["accepted"] == len(BAD)
    rejected = answer["rejected"]
    assert isinstance(rejected, list)
    assert [(r["index"], r["field"]) for r in rejected] == [(2 * i + 1, f) for i, (f, _) in enumerate(BAD)]
    assert "lone surrogate (\\ud800)" in rejected[0]["reason"]
    assert rejected[-2]["messageId"] == "b-mid\\ud800"  # shown escaped, as it was sent
    assert [r.message_id for r in inbox(stores)] == [f"g{i}" for i in range(len(BAD))]
    # Each refused event is kept as a dead letter exactly as sent, the surrogate written as its escape.
    letters = dead(stores)
    assert len(letters) == len(BAD)
    assert letters[0].payload == BAD[0][1]
    assert load_inbox(stores).loaded == len(BAD)
    assert sorted(e["event_id"] for e in warehouse_events(stores)) == sorted(f"g{i}" for i in range(len(BAD)))


SINGLE = [(f, text) for f, text in BAD if f != "type"]


@pytest.mark.parametrize(("field", "text"), SINGLE, ids=[f for f, _ in SINGLE])
def test_a_single_call_with_a_lone_surrogate_is_a_400_naming_the_field(
    api: TestClient, stores: Stores, write_key: str, field: str, text: str
) -> None:
    kind = json.loads(text.replace(LONE, ""))["type"]
    answer = post(api, f"/v1/{kind}", text, write_key)
    assert answer["status"] == 400
    error = answer["error"]
    assert isinstance(error, dict)
    assert error["code"] == "invalid_event" and "lone surrogate" in error["message"]
    assert error["data"]["field"] == field
    assert inbox(stores) == []


def test_a_lone_surrogate_in_the_type_field_of_a_single_call_is_a_400_too(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    # The endpoint gives the type, so the field is not read as one; but no store could keep its text.
    answer = post(api, "/v1/track", '{"type":"x' + LONE + '","userId":"u","event":"E"}', write_key)
    assert answer["status"] == 400
    assert answer["error"]["data"]["field"] == "type"  # type: ignore[index]
    assert inbox(stores) == []


def test_valid_surrogate_pairs_are_accepted_as_the_character_they_write(
    api: TestClient, stores: Stores, write_key: str
) -> None:
    text = '{"userId":"u","event":"Liked \\ud83d\\ude00","properties":{"\\ud83d\\udc4d":"\\ud83d\\udc4d"}}'
    assert post(api, "/v1/track", text, write_key)["status"] == 200
    [row] = inbox(stores)
    assert row.event == "Liked \U0001f600"
    assert json.loads(row.properties)["properties"] == {"\U0001f44d": "\U0001f44d"}


def test_a_write_key_with_a_lone_surrogate_is_an_unknown_key_not_a_server_error(
    api: TestClient, stores: Stores
) -> None:
    response = api.post(
        "/v1/batch",
        content=('{"writeKey":"k' + LONE + '","batch":[]}').encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_write_key"


def test_the_loader_dead_letters_an_inbox_event_with_a_lone_surrogate_instead_of_failing_every_load(
    stores: Stores, write_key: str
) -> None:
    key_id = logic.check_write_key(stores.sessions, write_key)
    payload = (
        b'[{"type":"track","userId":"u","event":"E\\ud800","messageId":"bad"},'
        + orjson.dumps({"type": "track", "userId": "u", "event": "E", "messageId": "ok"})
        + b"]"
    )  # as if an older version had let it in
    with stores.sessions.begin() as session:
        session.execute(
            insert(InboxCall),
            [{"write_key_id": key_id, "kind": None, "received_at": utcnow(), "sent_at": None, "ip": None,
              "events": 2, "payload": payload}],
        )  # fmt: skip
    report = load_inbox(stores)
    assert (report.loaded, report.dead_letters) == (1, 1)
    [letter] = dead(stores)
    assert (letter.message_id, letter.field) == ("bad", "event")
    assert [e["event_id"] for e in warehouse_events(stores)] == ["ok"]
