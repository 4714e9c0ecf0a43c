"""The request's check of a call's events against the loader's Shaper: the same events refused, for the
same reasons, and the usual SDK payloads judged without shaping."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagora.ingest.tracking import checks, logic, messages
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
    if isinstance(kind, str) and kind in checks._OBJECTS and checker.plain(kind, events, sizes):
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
    assert checker.plain("track", events, [len(orjson.dumps(e)) for e in events])


def test_an_invalid_event_in_a_batch_is_refused_alone_with_the_shapers_reason() -> None:
    events: list[Any] = [sdk_event(i, "2026-11-24T10:15:30Z") for i in range(5)]
    events[1]["timestamp"] = "2026-02-30T10:00:00Z"
    events[2]["userId"] = None
    events[3] = ["not", "an", "event"]
    assert refused_by_check(events, None, None) == {1: "timestamp", 2: "userId", 3: "body"}


# --- a batch checked from its text (``checks.envelope`` + ``logic.accept_texts``) ------------------------


def _body(events: list[Any], spaced: bool) -> bytes:
    try:
        body = json.dumps(
            {"batch": events}, indent=1 if spaced else None, ensure_ascii=spaced, allow_nan=True
        )
    except ValueError:
        body = json.dumps({"batch": events}, default=str)
    return body.encode()


_SERVER_ID = re.compile(r"tagora-[0-9a-f-]{36}")


def _outcome(accepted: logic.Accepted) -> tuple[Any, ...]:
    stored = messages.loads(messages.unpack(accepted.payload))
    ids = [_SERVER_ID.sub("tagora-x", str(e.get("messageId"))) for e in stored]
    rejected = [(r.index, r.field, r.reason) for r in accepted.receipt.rejected]
    return accepted.count, rejected, [{**e, "messageId": i} for e, i in zip(stored, ids, strict=True)]


def _same_as_parsed(events: list[Any], spaced: bool, batch_sent_at: str | None) -> None:
    body = _body(events, spaced)
    sent_at = parse_sent_at(batch_sent_at)
    batch = checks.envelope(body)
    parsed = messages.loads(body)["batch"]
    if batch is None:  # JSON only Python reads (NaN): the API parses such a body whole
        assert not body.isascii() or b"NaN" in body or b"Infinity" in body
        return
    by_text = logic.accept_texts(batch.batch, sent_at, RECEIVED, "10.0.0.1")
    by_parsing = logic.accept(None, parsed, sent_at, RECEIVED, "10.0.0.1")
    assert _outcome(by_text) == _outcome(by_parsing)
    refused = {r.index: r.field for r in by_text.receipt.rejected}
    assert refused == refused_by_shaper(parsed, None, sent_at)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_messages(), min_size=1, max_size=8), st.booleans(), st.booleans(), _BATCH_SENT_AT)
def test_a_batch_checked_from_its_text_gives_what_parsing_it_gives(
    cases: list[tuple[dict[str, object], str]], typed: bool, spaced: bool, batch_sent_at: str | None
) -> None:
    _same_as_parsed([{**raw, "type": kind} if typed else raw for raw, kind in cases], spaced, batch_sent_at)


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sdk_events(), min_size=1, max_size=8), st.booleans(), _BATCH_SENT_AT)
def test_sdk_like_batches_checked_from_their_text_give_what_parsing_gives(
    events: list[Any], spaced: bool, batch_sent_at: str | None
) -> None:
    _same_as_parsed(events, spaced, batch_sent_at)


def test_a_usual_batch_is_stored_as_sent_and_judged_without_parsing() -> None:
    events = [sdk_event(i, "2026-11-24T10:15:30.123Z") for i in range(50)]
    body = orjson.dumps({"batch": events})
    batch = checks.envelope(body)
    assert batch is not None
    check = checks.sure_of_texts(Checker(None, None, RECEIVED, None), batch.batch)
    assert all(check.sure) and check.unnamed == []
    accepted = logic.accept_texts(batch.batch, None, RECEIVED, None)
    assert messages.unpack(accepted.payload) == check.joined == body[len(b'{"batch":') : -1]


def test_texts_the_check_cannot_read_alone_are_judged_as_parsed() -> None:
    texts = [
        b'{"type":"track","userId":"","userId":"u1","event":"e","messageId":"d"}',  # the last one counts
        b'{"type":"track","userId":"u2","event":"e","properties":{"n":1e15},"messageId":"big"}',
        b"[1, 2]",
        b'{"type":"track","anonymousId":"a","event":"e"}',  # no messageId: the server gives one
        b'{"type":"track","userId":"u3","event":"e","messageId":"m","context":null}',
    ]
    floats = ",".join(f'"k{i}":1e15' for i in range(1700))
    texts[1] = texts[1].replace(b'"n":1e15', floats.encode())  # 14 KB sent, 35 KB as the Shaper counts it
    body = b'{"batch":[' + b",".join(texts) + b"]}"
    batch = checks.envelope(body)
    assert batch is not None
    accepted = logic.accept_texts(batch.batch, None, RECEIVED, None)
    assert [(r.index, r.field) for r in accepted.receipt.rejected] == [
        (1, "body"),
        (2, "body"),
        (4, "context"),
    ]
    stored = messages.loads(messages.unpack(accepted.payload))
    assert [e["userId"] if "userId" in e else e["anonymousId"] for e in stored] == ["u1", "a"]
    assert stored[1]["messageId"].startswith("tagora-")
    assert _outcome(accepted) == _outcome(
        logic.accept(None, messages.loads(body)["batch"], None, RECEIVED, None)
    )


@pytest.mark.parametrize(
    "body",
    [b'{"batch":[{"type":"track","userId":"u","event":"\xff"}]}',  # not UTF-8
     b'{"batch":[{"type":"track","userId":"u","event":"e","properties":{"x":NaN}}]}',
     b'{"batch":{"type":"track"}}', b'[{"type":"track"}]', b'{"batch":[1,]}'],
)  # fmt: skip
def test_a_body_that_is_not_a_plain_batch_is_left_to_the_parser(body: bytes) -> None:
    assert checks.envelope(body) is None
