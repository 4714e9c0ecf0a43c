"""The request's check of a call's events against the loader's Shaper: the same events refused, for the
same reasons, and the usual SDK payloads judged without shaping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagora.ingest.tracking import checks
from tagora.ingest.tracking.checks import Checker, plain_times
from tagora.ingest.tracking.messages import _ISO_TIME, InvalidEvent, Shaper, encoded_size, parse_sent_at
from tests.ingest.tracking.test_messages import _JUNK, _ODD_TIMES, raw_messages

RECEIVED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def sdk_event(i: int, stamp: str) -> dict[str, Any]:
    return {
        "type": "track", "event": "Product Viewed", "userId": f"u{i}", "anonymousId": None,
        "messageId": f"m-{i}", "timestamp": stamp, "properties": {"sku": "A", "price": 9.5},
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}}, "integrations": {},
    }  # fmt: skip


def refused_by_shaper(events: list[Any], kind: str | None, sent_at: datetime | None) -> dict[int, str]:
    shaper, out = Shaper(kind, sent_at, RECEIVED, "10.0.0.1"), {}
    for i, raw in enumerate(events):
        try:
            shaper(raw)
        except InvalidEvent as exc:
            out[i] = exc.field
    return out


def refused_by_check(events: list[Any], kind: str | None, sent_at: datetime | None) -> dict[int, str]:
    sizes = [encoded_size(e) for e in events]
    refused = Checker(kind, sent_at, RECEIVED, "10.0.0.1").refusals(events, sizes)
    return {i: exc.field for i, exc in refused.items()}


@st.composite
def sdk_events(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly what SDKs send, now and then with one field absent, empty, oversized or of the wrong sort."""
    kind = draw(st.sampled_from(["track", "track", "page", "screen", "identify"]))
    ids = st.one_of(st.none(), st.text(min_size=1, max_size=128))
    event: dict[str, Any] = {
        "type": kind, "messageId": draw(ids), "userId": draw(ids), "anonymousId": draw(ids),
        "timestamp": draw(st.one_of(st.none(), near_times())), "context": {"ip": "1.2.3.4"},
        "integrations": {}, "properties": {"sku": "A"}, "traits": {"name": "N"},
        "event": draw(st.text(min_size=1, max_size=256)),
        "name": draw(st.one_of(st.none(), st.text(max_size=256))),
    }  # fmt: skip
    if draw(st.booleans()):
        event["sentAt"] = draw(near_times())
    if draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(sorted(event)))
        event[name] = draw(st.one_of(_JUNK, _ODD_TIMES, st.just(""), st.text(min_size=129, max_size=300)))
    if draw(st.integers(0, 9)) == 0:
        del event[draw(st.sampled_from(sorted(event)))]
    return event


_BATCH_SENT_AT = st.sampled_from([None, "2026-11-24T09:00:00Z", "0005-01-01T00:00:00Z"])


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_messages(), min_size=1, max_size=8), st.booleans(), _BATCH_SENT_AT)
def test_a_batch_check_refuses_exactly_what_the_shaper_refuses(
    cases: list[tuple[dict[str, object], str]], typed: bool, batch_sent_at: str | None
) -> None:
    events: list[Any] = [{**raw, "type": kind} if typed else raw for raw, kind in cases]
    sent_at = parse_sent_at(batch_sent_at)
    assert refused_by_check(events, None, sent_at) == refused_by_shaper(events, None, sent_at)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sdk_events(), min_size=1, max_size=8), _BATCH_SENT_AT, st.sampled_from([None, "track"]))
def test_a_check_of_sdk_like_calls_refuses_exactly_what_the_shaper_refuses(
    events: list[Any], batch_sent_at: str | None, endpoint: str | None
) -> None:
    sent_at = parse_sent_at(batch_sent_at)
    events = events[:1] if endpoint else events
    assert refused_by_check(events, endpoint, sent_at) == refused_by_shaper(events, endpoint, sent_at)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(raw_messages(), _BATCH_SENT_AT)
def test_a_single_call_check_refuses_exactly_what_the_shaper_refuses(
    case: tuple[dict[str, object], str], batch_sent_at: str | None
) -> None:
    raw, kind = case
    sent_at = parse_sent_at(batch_sent_at)
    assert refused_by_check([raw], kind, sent_at) == refused_by_shaper([raw], kind, sent_at)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sdk_events(), min_size=1, max_size=6), _BATCH_SENT_AT)
def test_a_group_judged_plain_is_shaped_without_a_refusal(
    events: list[Any], batch_sent_at: str | None
) -> None:
    kind = events[0].get("type")
    events = [{**e, "type": kind} for e in events]
    sent_at = parse_sent_at(batch_sent_at)
    checker = Checker(None, sent_at, RECEIVED, None)
    sizes = [encoded_size(e) for e in events]
    if isinstance(kind, str) and kind in checks._OBJECTS and checker._plain(kind, events, sizes):
        assert refused_by_shaper(events, None, sent_at) == {}


_LAYOUT = st.sampled_from(sorted(checks._LAYOUTS.values()))


@st.composite
def near_times(draw: st.DrawFn) -> str:
    """A usual layout filled with digits, then now and then a character changed."""
    layout = draw(_LAYOUT)
    chars = [draw(st.sampled_from("0123456789")) if c == "0" else c for c in layout]
    chars[0] = draw(st.sampled_from("0123"))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(chars) - 1))
        chars[at] = draw(st.sampled_from("0123456789+-:.TZ ,W\n٣"))
    return "".join(chars)


@settings(max_examples=2000)
@given(st.lists(near_times(), min_size=1, max_size=4))
def test_plain_times_are_ones_the_shapers_fast_path_reads(values: list[str]) -> None:
    if plain_times(values):
        for value in values:
            assert _ISO_TIME.fullmatch(value), value
            assert 1000 <= datetime.fromisoformat(value).year <= 2999


@pytest.mark.parametrize(
    "stamp",
    ["2026-11-24T10:15:30.123456+00:00", "2026-11-24T10:15:30+08:00", "2026-11-24T10:15:30.123Z",
     "2026-11-24T10:15:30Z", "2026-11-24T10:15:30.123456", "2026-11-24T10:15:30.123-05:00"],
)  # fmt: skip
def test_the_usual_sdk_batches_are_judged_without_the_shaper(stamp: str) -> None:
    events = [sdk_event(i, stamp) for i in range(20)]
    checker = Checker(None, parse_sent_at("2026-11-24T10:15:31Z"), RECEIVED, None)
    assert checker._plain("track", events, [len(orjson.dumps(e)) for e in events])


def test_an_invalid_event_in_a_batch_is_refused_alone_with_the_shapers_reason() -> None:
    events: list[Any] = [sdk_event(i, "2026-11-24T10:15:30Z") for i in range(5)]
    events[1]["timestamp"] = "2026-02-30T10:00:00Z"
    events[2]["userId"] = None
    events[3] = ["not", "an", "event"]
    assert refused_by_check(events, None, None) == {1: "timestamp", 2: "userId", 3: "body"}
