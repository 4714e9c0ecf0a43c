"""Shaping one Segment message, without any store: validation, clock correction, traits, channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tagora.ingest.tracking.messages import InvalidEvent, customer_traits, parse_sent_at, shape

RECEIVED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_a_timestamp_is_shifted_by_the_difference_between_received_and_sent() -> None:
    raw = {"userId": "u", "event": "E", "timestamp": "2026-11-24T11:55:00Z", "sentAt": "2026-11-24T12:00:00Z"}
    row = shape(raw, "track", None, RECEIVED, None).row
    assert row["occurred_at"] == RECEIVED - timedelta(minutes=5)


def test_a_message_sent_at_wins_over_the_batch_sent_at_and_naive_times_are_utc() -> None:
    raw = {"userId": "u", "event": "E", "timestamp": "2026-11-24T09:00:00", "sentAt": "2026-11-24T10:00:00"}
    batch_sent_at = parse_sent_at("2026-11-24T08:00:00Z")
    assert shape(raw, "track", batch_sent_at, RECEIVED, None).row["occurred_at"] == RECEIVED - timedelta(
        hours=1
    )


def test_without_sent_at_the_timestamp_is_kept_as_is() -> None:
    raw = {"anonymousId": "a", "timestamp": "2026-01-01T00:00:00+08:00"}
    row = shape(raw, "page", None, RECEIVED, None).row
    assert row["occurred_at"] == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert row["event"] == "page" and row["channel"] == "web"


def test_numeric_user_ids_are_read_as_text_and_a_missing_message_id_gets_one() -> None:
    row = shape({"userId": 42, "event": "E"}, "track", None, RECEIVED, "10.0.0.1").row
    assert row["user_id"] == "42"
    assert row["message_id"].startswith("tagora-")
    assert json.loads(row["properties"])["context"]["ip"] == "10.0.0.1"


@pytest.mark.parametrize(
    ("raw", "kind", "field"),
    [
        ({"event": "E"}, "track", "userId"),
        ({"userId": "u", "event": ""}, "track", "event"),
        ({"userId": "u", "event": "E", "messageId": "x" * 200}, "track", "messageId"),
        ({"userId": True, "event": "E"}, "track", "userId"),
        ({"userId": "u", "context": []}, "identify", "context"),
        ({"anonymousId": "a", "previousId": "p"}, "alias", "userId"),
        ({"userId": "u"}, None, "type"),
        ([1, 2], None, "body"),
    ],
)
def test_invalid_messages_name_the_offending_field(raw: object, kind: str | None, field: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        shape(raw, kind, None, RECEIVED, None)
    assert caught.value.field == field


def test_identify_traits_give_name_email_and_phone_and_skip_what_does_not_fit() -> None:
    assert customer_traits({"firstName": "Mei", "lastName": "Han", "email": " m@x.cn ", "age": 30}) == {
        "name": "Mei Han",
        "email": "m@x.cn",
    }
    assert customer_traits({"name": "N", "phone": "1" * 40, "email": True}) == {"name": "N"}
    shaped = shape({"userId": "u", "traits": {"name": "Li"}}, "identify", None, RECEIVED, None)
    assert shaped.traits == {"name": "Li"}
    assert (
        shape({"anonymousId": "a", "traits": {"name": "Li"}}, "identify", None, RECEIVED, None).traits is None
    )


def test_an_unreadable_batch_sent_at_is_ignored() -> None:
    assert parse_sent_at("last tuesday") is None
    assert parse_sent_at(12) is None
