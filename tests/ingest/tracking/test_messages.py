"""Shaping one Segment message, without any store: validation, clock correction, traits, channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagora.core.clock import as_utc
from tagora.ingest.tracking.checks import Checker
from tagora.ingest.tracking.messages import (
    InvalidEvent,
    Shaper,
    _fast_fields,
    customer_traits,
    message_fields,
    pack,
    parse_sent_at,
    shape,
    unpack,
    validate,
)

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


# The fast path must accept exactly what pydantic accepts, with the same fields; anything else it leaves
# to pydantic, whose message names the field.
_GOOD_TIMES = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat()),
    st.sampled_from(["2026-11-24T10:00:00Z", "2026-11-24T10:00:00.5+08:00", "2026-11-24T10:00:00.123"]),
)
_ODD_TIMES = st.one_of(
    st.sampled_from(["2026-11-24", "yesterday", "2026-13-01T00:00:00Z", "2026-11-24T10:00:00+0800",
                     "1700000000", "2026-11-24T10:00:00.1234567Z", "2026-11-24 10:00:00"]),
    st.integers(0, 2_000_000_000), st.floats(), st.booleans(),
)  # fmt: skip
_JUNK = st.one_of(
    st.none(), st.integers(-(10**20), 10**20), st.booleans(), st.floats(), st.lists(st.integers()),
    st.text(max_size=300), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip
_GOOD = {
    "id": st.one_of(*[st.text(min_size=1, max_size=128)] * 4, st.integers(-(10**6), 10**6)),
    "time": _GOOD_TIMES,
    "object": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    "text": st.text(max_size=256),
}
_FIELDS = {"messageId": "id", "userId": "id", "anonymousId": "id", "groupId": "id", "previousId": "id",
           "timestamp": "time", "originalTimestamp": "time", "sentAt": "time", "context": "object",
           "integrations": "object", "properties": "object", "traits": "object", "event": "text",
           "name": "text", "category": "text"}  # fmt: skip


@st.composite
def raw_messages(draw: st.DrawFn) -> tuple[dict[str, object], str]:
    """Mostly well-formed messages, each field now and then absent, null, oddly formatted or wrong."""
    kind = draw(st.sampled_from(["track", "page", "screen", "identify", "group", "alias"]))
    raw: dict[str, object] = {"type": kind} if draw(st.booleans()) else {}
    for name, sort in _FIELDS.items():
        roll = draw(st.integers(0, 39))
        if roll < 34:
            raw[name] = draw(_GOOD[sort])
        elif roll < 36:
            continue
        elif roll < 38 and sort == "time":
            raw[name] = draw(_ODD_TIMES)
        else:
            raw[name] = draw(_JUNK)
    return raw, kind


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(raw_messages())
def test_the_fast_path_agrees_with_the_pydantic_models(case: tuple[dict[str, object], str]) -> None:
    raw, kind = case
    fast = _fast_fields(raw, kind)
    try:
        model = validate(raw, kind).model_dump()
    except InvalidEvent as exc:
        if fast is not None:  # only the id rule may fail after the fast checks, and it fails the same way
            assert exc.field == "userId"
            with pytest.raises(InvalidEvent):
                message_fields(raw, kind)
        return
    if fast is None:
        return  # pydantic accepts it: the general path will shape it
    for name, value in fast.items():
        expected = model[name]
        if isinstance(expected, datetime):
            expected = as_utc(expected)
        assert value == expected, name
        assert type(value) is type(expected), name


def test_plain_segment_messages_take_the_fast_path() -> None:
    raw = {"type": "track", "userId": "u", "event": "E", "messageId": "m", "properties": {"sku": "A"},
           "timestamp": "2026-11-24T10:00:00Z", "context": {"ip": "1.2.3.4"}}  # fmt: skip
    assert _fast_fields(raw, "track") is not None
    assert _fast_fields({"userId": "u", "traits": {}}, "identify") is not None
    assert _fast_fields({"userId": 42, "event": "E"}, "track") is None  # numeric id: pydantic converts it


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(raw_messages(), st.sampled_from([None, "track"]), st.sampled_from([None, "2026-11-24T09:00:00Z"]))
def test_the_flat_track_path_shapes_exactly_like_the_general_one(
    case: tuple[dict[str, object], str], endpoint: str | None, batch_sent_at: str | None
) -> None:
    raw, _ = case
    raw["type"] = raw.get("type", "track") if endpoint else "track"
    shaper = Shaper(endpoint, parse_sent_at(batch_sent_at), RECEIVED, "10.0.0.1")
    try:
        fast = shaper._track(raw)
    except InvalidEvent as exc:  # e.g. an absurd time: refused the same way by both
        with pytest.raises(InvalidEvent) as general_error:
            shaper.general(raw)
        assert general_error.value.field == exc.field
        return
    if fast is None:
        return
    general = shaper.general(raw)  # raises if the flat path accepted something it should not have
    assert fast.traits == general.traits
    if not raw.get("messageId"):
        assert fast.row.pop("message_id").startswith("tagora-")
        assert general.row.pop("message_id").startswith("tagora-")
    assert fast.row == general.row


def test_an_absurd_timestamp_is_an_invalid_event_not_a_crash() -> None:
    raw = {"userId": "u", "event": "E", "timestamp": "0069-01-01T00:00:00", "sentAt": "2095-01-01T00:00:00"}
    with pytest.raises(InvalidEvent) as caught:
        shape(raw, "track", None, RECEIVED, None)
    assert caught.value.field == "timestamp"
    with pytest.raises(InvalidEvent) as caught:
        shape({"userId": "u", "timestamp": "0001-01-01T00:00:00+05:00"}, "page", None, RECEIVED, None)
    assert caught.value.field == "timestamp"


def test_the_inbox_keeps_events_packed_and_reads_old_uncompressed_payloads_too() -> None:
    event = b'{"type":"track","event":"Viewed","userId":"u1","properties":{"sku":"A-1"}}'
    many = b"[" + b",".join([event] * 100) + b"]"
    packed = pack(many)
    assert len(packed) < len(many) / 5 and unpack(packed) == many
    few = b"[" + event + b"]"
    assert pack(few) == few and unpack(few) == few  # small calls (and rows from before packing): as is


_CONTEXTS = st.sampled_from([
    {}, {"ip": "1.2.3.4"}, {"app": {"name": "shop"}}, {"device": {"type": "ios"}}, {"userAgent": "Mozilla"},
    {"page": {"url": "https://shop.example.cn/?utm_source=wechat&utm_medium=social"}},
    {"page": {"url": "https://shop.example.cn/?utm_campaign=spring"}, "campaign": {"name": "own"}},
    {"traits": {"email": "li@example.cn", "firstName": "Li"}}, {"traits": {}}, {"traits": "not an object"},
])  # fmt: skip


_IDS = st.one_of(st.none(), st.text(min_size=1, max_size=12))
_TIMES = st.one_of(st.none(), st.sampled_from(
    ["2026-11-24T10:00:00Z", "2026-11-24T10:00:00.123+08:00", "2026-11-24T10:00:00.123456",
     "2026-11-24T10:00:00.123Z", "2026-11-24T10:00:00-05:00", "1999-01-01T00:00:00"]
))  # fmt: skip


@st.composite
def track_calls(draw: st.DrawFn) -> dict[str, object]:
    """Track events as SDKs send them: ids, times in the usual layouts, properties, a context."""
    raw: dict[str, object] = {"event": draw(st.text(min_size=1, max_size=20))}
    for name, values in (("messageId", _IDS), ("userId", _IDS), ("anonymousId", _IDS), ("timestamp", _TIMES),
                         ("originalTimestamp", _TIMES), ("sentAt", _TIMES)):  # fmt: skip
        value = draw(values)
        if value is not None or draw(st.booleans()):
            raw[name] = value
    if draw(st.booleans()):
        raw["properties"] = draw(st.fixed_dictionaries({}, optional={
            "sku": st.one_of(st.text(max_size=70), st.integers(), st.lists(st.integers(), max_size=2)),
            "product_id": st.text(max_size=5), "price": st.floats(allow_nan=False),
        }))  # fmt: skip
    if draw(st.booleans()):
        raw["context"] = draw(_CONTEXTS)
    if draw(st.booleans()):
        raw["integrations"] = draw(st.sampled_from([{}, {"All": True}]))
    return raw


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(track_calls(), min_size=1, max_size=6),
    st.sampled_from([None, "track"]),
    st.sampled_from([None, "2026-11-24T09:00:00Z"]),
)
def test_plain_track_events_shaped_a_column_at_a_time_give_the_rows_shaped_one_by_one(
    events: list[dict[str, object]], endpoint: str | None, batch_sent_at: str | None
) -> None:
    for raw in events:
        raw["type"] = "track"
    sent_at = parse_sent_at(batch_sent_at)
    sizes = [len(json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode()) for e in events]
    if not Checker(endpoint, sent_at, RECEIVED, "10.0.0.1").plain("track", events, sizes):
        assert any(raw.get("userId") is None and raw.get("anonymousId") is None for raw in events)
        return  # the loader shapes them one by one
    shaper = Shaper(endpoint, sent_at, RECEIVED, "10.0.0.1")
    columns = shaper.tracks(events)
    for i, raw in enumerate(events):
        one = shaper(raw)
        row = {name: values[i] for name, values in columns.items()}
        assert row.pop("traits") == one.traits
        if raw.get("messageId") is None:
            assert row.pop("message_id").startswith("tagora-") and one.row.pop("message_id").startswith(
                "tagora-"
            )
        one.row.pop("received_at")
        assert row == one.row
