"""Pure shaping of one Segment message into its inbox row: validate, correct the clock, keep context."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from functools import lru_cache, partial
from itertools import repeat
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import orjson
import pyarrow as pa
from pydantic import ValidationError

from tagora.core.clock import as_utc
from tagora.ingest.tracking.schemas import MESSAGE_TYPES, Message

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
PACK_FROM = 2048
LZ4 = b"\x01"
_LZ4 = pa.Codec("lz4")
UTM = {"utm_source": "source", "utm_medium": "medium", "utm_campaign": "name", "utm_term": "term",
       "utm_content": "content"}  # fmt: skip
CUSTOMER_TRAITS = {"name": 256, "email": 256, "phone": 32}


class InvalidEvent(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Shaped(NamedTuple):
    row: dict[str, Any]  # an inbox row
    # Customer fields of a call with a userId: an identify call's traits, merged over ``context.traits``
    # (where RudderStack's SDKs send them); on any other call ``context.traits`` alone, the user's traits
    # as the Segment spec has them there. None when the call has none.
    traits: dict[str, str] | None


def loads(body: bytes) -> Any:
    """The parsed body; not JSON is a 400 that says so."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # orjson refuses what Python's json reads (NaN, integers over 64 bits): ask it too
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent("body", f"not valid JSON ({exc})") from exc
    except RecursionError as exc:  # past what Python's parser nests (orjson stops at 1,024 levels)
        raise InvalidEvent("body", "not valid JSON (nested too deeply)") from exc


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError: an integer over 64 bits that the json fallback read
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def pack(events: bytes) -> bytes:
    """A call's events (a JSON array) as the inbox keeps them: LZ4-compressed from ``PACK_FROM`` bytes.

    Event JSON shrinks 5-15x, and LZ4 compresses a 44 KB batch in ~16 us (zlib at level 1: ~65 us), less
    than SQLite spends writing the bytes saved to its WAL and copying them again at the checkpoint. Below
    ``PACK_FROM`` it does not pay. The form: ``LZ4`` (one byte), the JSON's length (4 bytes, little
    endian), then an LZ4 frame (pyarrow's codec, which needs the length to decompress).
    """
    if len(events) < PACK_FROM:
        return events
    return LZ4 + len(events).to_bytes(4, "little") + _LZ4.compress(events, asbytes=True)


def unpack(stored: bytes) -> bytes:
    """The JSON array back; a payload kept as it is starts with ``[``."""
    if stored[:1] != LZ4:
        return stored
    size = int.from_bytes(stored[1:5], "little")
    return bytes(_LZ4.decompress(stored[5:], decompressed_size=size, asbytes=True))


def utf8_json(raw: Any) -> bytes:
    """An event as the UTF-8 JSON text it is stored as; one holding a lone surrogate is refused.

    orjson refuses to read or write a lone surrogate (``"\\ud800"``), but Python's json, which reads what
    orjson does not, lets one through, and no UTF-8 store (SQLite, PostgreSQL, DuckDB) can keep it.
    """
    try:
        return orjson.dumps(raw)
    except TypeError:  # an integer over 64 bits that the json fallback read, or a lone surrogate
        pass
    try:
        return dumps(raw).encode()
    except UnicodeEncodeError:
        raise _lone_surrogate(raw) from None


def encoded_size(raw: Any) -> int:
    return len(utf8_json(raw))


_SURROGATE = re.compile(r"[\ud800-\udfff]")  # json pairs the valid ones into one character: these are lone


def safe_text(text: str) -> str:
    """Text that a UTF-8 store can keep and show: a lone surrogate written as its JSON escape."""
    return text.encode("utf-8", "backslashreplace").decode()


def _lone_surrogate(raw: Any) -> InvalidEvent:
    """The refusal of an event holding a lone surrogate, naming the field (or key) that holds it."""
    stack: list[tuple[str, Any]] = [("", raw)]
    while stack:  # not recursive: the event may be nested as deep as the JSON reader allowed
        path, value = stack.pop()
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found:
                return InvalidEvent(path or "body", _surrogate_reason(found.group()))
        elif isinstance(value, dict):
            items = [
                (f"{path}.{safe_text(str(k))}" if path else safe_text(str(k)), k, v) for k, v in value.items()
            ]
            for name, key, _ in items:
                found = _SURROGATE.search(key) if isinstance(key, str) else None
                if found:
                    return InvalidEvent(name, "the key " + _surrogate_reason(found.group()))
            stack.extend((name, item) for name, _, item in reversed(items))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}", value[i]) for i in reversed(range(len(value))))
    return InvalidEvent("body", "the event is not valid Unicode text")


def _surrogate_reason(char: str) -> str:
    return f"holds a lone surrogate (\\u{ord(char):04x}), which is not valid Unicode text"


def dead_letter(raw: Any, exc: InvalidEvent, received_at: datetime) -> dict[str, Any]:
    """A refused event as its dead letter keeps it: exactly as sent (a lone surrogate as its escape)."""
    message_id = raw.get("messageId") if isinstance(raw, dict) else None
    return {
        "message_id": None if message_id is None else safe_text(str(message_id)[:128]),
        "field": safe_text(exc.field)[:128],
        "reason": safe_text(exc.reason),
        "payload": safe_text(dumps(raw)),
        "received_at": received_at,
    }


def _first_error(exc: ValidationError) -> InvalidEvent:
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error["loc"]) or "body"
    return InvalidEvent(field, error["msg"])


def _kind(raw: Any, kind: str | None) -> str:
    if not isinstance(raw, dict):
        raise InvalidEvent("body", "an event must be a JSON object")
    declared = raw.get("type")
    kind = kind or declared
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:  # a list as a type is unhashable
        raise InvalidEvent("type", f"type must be one of {', '.join(MESSAGE_TYPES)}; got {declared!r}")
    return str(kind)


def validate(raw: Any, kind: str | None) -> Message:
    """``kind`` is the endpoint's type; inside a batch it is None and the message names its own."""
    kind = _kind(raw, kind)
    if encoded_size(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent("body", f"an event may be at most {MAX_EVENT_BYTES // 1024} KB")
    try:
        message = MESSAGE_TYPES[kind].model_validate(raw)
    except ValidationError as exc:
        raise _first_error(exc) from exc
    message.type = kind
    _check_ids(message.userId, message.anonymousId, kind)
    return message


def _check_ids(user_id: str | None, anonymous_id: str | None, kind: str) -> None:
    if user_id is None and anonymous_id is None:
        raise InvalidEvent("userId", "userId or anonymousId is required")
    if kind == "alias" and user_id is None:
        raise InvalidEvent("userId", "alias needs the new userId")


# --- the fast path ------------------------------------------------------------------------------------
# Validating with pydantic costs more than everything else an event needs. Most events are plain: the
# checks below accept only what the pydantic models accept with the same result, and hand anything else
# (a wrong type, a missing field, an unusual time format) to ``validate``, which names the problem.

_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?")
_UNSURE = object()
_IDS = ("messageId", "userId", "anonymousId")
_TIMES = ("timestamp", "originalTimestamp", "sentAt")
_OBJECTS = {
    "track": ("context", "integrations", "properties"),
    "page": ("context", "integrations", "properties"),
    "screen": ("context", "integrations", "properties"),
    "identify": ("context", "integrations", "traits"),
    "group": ("context", "integrations", "traits"),
    "alias": ("context", "integrations"),
}
_REQUIRED_IDS = {"group": ("groupId",), "alias": ("previousId",)}


def _fast_id(value: Any) -> Any:
    if type(value) is str:
        return value if 0 < len(value) <= 128 else _UNSURE
    if type(value) is int:
        return _fast_id(str(value))
    return None if value is None else _UNSURE


def _fast_time(value: Any) -> Any:
    """A UTC datetime for the usual ISO 8601 text (naive means UTC, as ``as_utc`` reads it)."""
    if value is None:
        return None
    if type(value) is not str or not _ISO_TIME.fullmatch(value):
        return _UNSURE
    try:
        return as_utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):  # OverflowError: a time near year 1 or 9999 with an offset
        return _UNSURE


def _fast_fields(raw: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The message's fields as ``validate`` would give them, or None when only pydantic can tell.

    Written out flat on purpose: this runs for every event, and each call and loop costs.
    """
    get = raw.get
    declared = get("type")
    message_id, user_id, anonymous_id = get("messageId"), get("userId"), get("anonymousId")
    if (
        (declared is not None and type(declared) is not str)
        or (message_id is not None and (type(message_id) is not str or not 0 < len(message_id) <= 128))
        or (user_id is not None and (type(user_id) is not str or not 0 < len(user_id) <= 128))
        or (anonymous_id is not None and (type(anonymous_id) is not str or not 0 < len(anonymous_id) <= 128))
    ):
        return None  # numeric ids and wrong types: the general path
    fields: dict[str, Any] = {"type": kind, "messageId": message_id, "userId": user_id,
                              "anonymousId": anonymous_id}  # fmt: skip
    for name in _TIMES:
        value = get(name)
        if value is not None:
            value = _fast_time(value)
            if value is _UNSURE:
                return None
        fields[name] = value
    for name in _OBJECTS[kind]:
        value = get(name, _UNSURE)
        if value is _UNSURE:
            value = {}
        elif type(value) is not dict:
            return None
        fields[name] = value
    if kind == "track":
        event = get("event")
        if type(event) is not str or not 0 < len(event) <= 256:
            return None
        fields["event"] = event
    elif kind == "page" or kind == "screen":
        title, category = get("name"), get("category")
        if (title is not None and (type(title) is not str or len(title) > 256)) or (
            category is not None and (type(category) is not str or len(category) > 256)
        ):
            return None
        fields["name"], fields["category"] = title, category
    else:
        for name in _REQUIRED_IDS.get(kind, ()):
            fields[name] = value = _fast_id(get(name))
            if value is None or value is _UNSURE:
                return None
    return fields


def _utc(value: datetime, field: str) -> datetime:
    try:
        return as_utc(value)
    except OverflowError as exc:
        raise InvalidEvent(field, "the time is out of range once converted to UTC") from exc


def message_fields(raw: Any, kind: str | None) -> dict[str, Any]:
    """Validate one message; its fields by name (a Segment message's, with ``type`` set)."""
    resolved = _kind(raw, kind)
    fields = _fast_fields(raw, resolved)
    if fields is None:
        fields = validate(raw, kind).model_dump()
        for name in _TIMES:  # as the fast path gives them
            if fields[name] is not None:
                fields[name] = _utc(fields[name], name)
        return fields
    if encoded_size(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent("body", f"an event may be at most {MAX_EVENT_BYTES // 1024} KB")
    _check_ids(fields["userId"], fields["anonymousId"], resolved)
    return fields


_NO_FIELDS: dict[str, Any] = {}  # an absent object field, read as empty: never changed


def _column(events: list[dict[str, Any]], name: str, default: Any = None) -> list[Any]:
    return list(map(dict.get, events, repeat(name), repeat(default)))


def _plain_times(values: list[Any]) -> list[datetime | None]:
    """Times in the layouts ``checks.plain_times`` accepts, as UTC (a time without a zone is UTC)."""
    if values.count(None) == len(values):
        return values
    return [None if v is None else as_utc(datetime.fromisoformat(v)) for v in values]


def _user_traits(user_id: str | None, context: dict[str, Any]) -> dict[str, str] | None:
    """Customer fields from a call's ``context.traits`` (see ``Shaped``)."""
    traits = context.get("traits")
    if user_id is None or type(traits) is not dict or not traits:
        return None
    return customer_traits(traits) or None


def _context(given: dict[str, Any], ip: str | None) -> dict[str, Any]:
    context = dict(given)
    if ip and not context.get("ip"):
        context["ip"] = ip
    page = context.get("page")
    url = page.get("url") if isinstance(page, dict) else None
    if "campaign" not in context and isinstance(url, str) and "utm_" in url:
        utm = _utm(url)
        if utm:
            context["campaign"] = dict(utm)
    return context


@lru_cache(maxsize=4096)  # the same landing pages come again and again
def _utm(url: str) -> tuple[tuple[str, str], ...]:
    return tuple({UTM[k]: v for k, v in parse_qsl(urlsplit(url).query) if k in UTM}.items())


def _channel(kind: str, context: dict[str, Any]) -> str:
    device = context.get("device")
    if kind == "screen" or "app" in context or (isinstance(device, dict) and "type" in device):
        return "app"
    if kind == "page" or "page" in context or "userAgent" in context:
        return "web"
    return "server"


def _sku(properties: dict[str, Any]) -> str | None:
    value = properties.get("sku", properties.get("product_id"))
    return None if value is None or isinstance(value, dict | list) else str(value)[:64]


def _body(message: dict[str, Any]) -> dict[str, Any]:
    kind = message["type"]
    body: dict[str, Any] = {}
    if kind in ("track", "page", "screen"):
        body["properties"] = message["properties"]
    if kind in ("page", "screen"):
        body.update(name=message["name"], category=message["category"])
    if kind in ("identify", "group"):
        body["traits"] = message["traits"]
    if kind == "group":
        body["groupId"] = message["groupId"]
    if kind == "alias":
        body["previousId"] = message["previousId"]
    return body


def customer_traits(traits: dict[str, Any]) -> dict[str, str]:
    """Name, email and phone from identify traits; values too long for the profile are left out."""
    out: dict[str, str] = {}
    name = traits.get("name")
    if not name and (traits.get("firstName") or traits.get("lastName")):
        name = " ".join(str(traits.get(k) or "") for k in ("firstName", "lastName")).strip()
    for field, value in (("name", name), ("email", traits.get("email")), ("phone", traits.get("phone"))):
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value).strip()
            if text and len(text) <= CUSTOMER_TRAITS[field]:
                out[field] = text
    return out


class Shaper:
    """Shapes the messages of one call: what is the same for all of them is worked out once."""

    def __init__(
        self, kind: str | None, batch_sent_at: datetime | None, received_at: datetime, ip: str | None
    ) -> None:
        self.kind, self.ip = kind, ip
        self.received_at = as_utc(received_at)
        self.batch_sent_at = None if batch_sent_at is None else as_utc(batch_sent_at)
        self.received_iso = self.received_at.isoformat()
        self.batch_sent_iso = None if self.batch_sent_at is None else self.batch_sent_at.isoformat()

    def __call__(self, raw: Any) -> Shaped:
        if type(raw) is dict and (self.kind or raw.get("type")) == "track":
            shaped = self._track(raw)
            if shaped is not None:
                return shaped
        return self.general(raw)

    def _track(self, raw: dict[str, Any]) -> Shaped | None:
        """A plain track call (most of the traffic) in one go; None hands it to ``general``.

        The same checks as ``_fast_fields`` and the same row as ``general``, flattened: this is the
        innermost loop of the API. ``test_messages`` holds the two paths to the same answers.
        """
        get = raw.get
        declared, message_id, user_id, anonymous_id = (
            get("type"), get("messageId"), get("userId"), get("anonymousId")
        )  # fmt: skip
        event, properties, context, integrations = (
            get("event"), get("properties", _UNSURE), get("context", _UNSURE), get("integrations", _UNSURE)
        )  # fmt: skip
        if (
            (declared is not None and type(declared) is not str)
            or (message_id is not None and (type(message_id) is not str or not 0 < len(message_id) <= 128))
            or (user_id is not None and (type(user_id) is not str or not 0 < len(user_id) <= 128))
            or (
                anonymous_id is not None
                and (type(anonymous_id) is not str or not 0 < len(anonymous_id) < 129)
            )
            or (user_id is None and anonymous_id is None)
            or type(event) is not str
            or not 0 < len(event) <= 256
        ):
            return None
        if properties is _UNSURE:
            properties = {}
        if context is _UNSURE:
            context = {}
        if integrations is _UNSURE:
            integrations = {}
        if type(properties) is not dict or type(context) is not dict or type(integrations) is not dict:
            return None
        stamp, original, sent_at = get("timestamp"), get("originalTimestamp"), get("sentAt")
        if stamp is not None and (stamp := _fast_time(stamp)) is _UNSURE:
            return None
        if original is not None and (original := _fast_time(original)) is _UNSURE:
            return None
        if sent_at is not None and (sent_at := _fast_time(sent_at)) is _UNSURE:
            return None
        if encoded_size(raw) > MAX_EVENT_BYTES:
            return None
        stamp = stamp or original
        context = _context(context, self.ip)
        shaped = {
            "type": "track",
            "properties": properties,
            "context": context,
            "originalTimestamp": None if stamp is None else stamp.isoformat(),
            "sentAt": self.batch_sent_iso if sent_at is None else sent_at.isoformat(),
            "receivedAt": self.received_iso,
        }
        if integrations:
            shaped["integrations"] = integrations
        row = {
            "message_id": message_id or f"tagora-{uuid.uuid4()}",
            "type": "track",
            "event": event,
            "user_id": user_id,
            "anonymous_id": anonymous_id,
            "channel": _channel("track", context),
            "sku": _sku(properties),
            "occurred_at": self._occurred_at(stamp, sent_at),
            "received_at": self.received_at,
            "properties": dumps(shaped),
        }
        return Shaped(row, _user_traits(user_id, context))

    def tracks(self, events: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """The rows of track events ``checks.Checker.plain`` accepts, a column at a time.

        The loader's path for most of the traffic: the same rows as ``_track`` gives one by one, without
        checking each field again (the check of the group did) and with a step per column rather than a
        function per event.
        """
        n = len(events)
        column = partial(_column, events)
        users, anonymous = column("userId"), column("anonymousId")
        properties, contexts = column("properties", _NO_FIELDS), column("context", _NO_FIELDS)
        ip = self.ip
        contexts = [_context(c, ip) for c in contexts]
        stamps = [
            t if t is not None else o
            for t, o in zip(column("timestamp"), column("originalTimestamp"), strict=True)
        ]
        stamps, sent = _plain_times(stamps), _plain_times(column("sentAt"))
        received_iso, batch_iso = self.received_iso, self.batch_sent_iso
        documents = [
            {"type": "track", "properties": p, "context": c,
             "originalTimestamp": None if t is None else t.isoformat(),
             "sentAt": batch_iso if a is None else a.isoformat(), "receivedAt": received_iso}
            for p, c, t, a in zip(properties, contexts, stamps, sent, strict=True)
        ]  # fmt: skip
        for document, integrations in zip(documents, column("integrations", _NO_FIELDS), strict=True):
            if integrations:
                document["integrations"] = integrations
        ids = column("messageId")
        if None in ids:
            ids = [f"tagora-{uuid.uuid4()}" if i is None else i for i in ids]
        return {
            "message_id": ids,
            "type": ["track"] * n,
            "event": column("event"),
            "user_id": users,
            "anonymous_id": anonymous,
            "channel": [_channel("track", c) for c in contexts],
            "sku": list(map(_sku, properties)),
            "occurred_at": [self._occurred_at(t, a) for t, a in zip(stamps, sent, strict=True)],
            "properties": list(map(dumps, documents)),
            "traits": [_user_traits(u, c) for u, c in zip(users, contexts, strict=True)],
        }

    def general(self, raw: Any) -> Shaped:
        """Any message: validated by ``message_fields`` (pydantic when unsure), which names what is wrong."""
        message = message_fields(raw, self.kind)
        kind = message["type"]
        context = _context(message["context"], self.ip)
        user_traits = context.get("traits")
        user_traits = user_traits if isinstance(user_traits, dict) else {}
        if kind == "identify" and user_traits:
            message["traits"] = {**user_traits, **message["traits"]}
        stamp = message["timestamp"] or message["originalTimestamp"]
        sent_at = message["sentAt"]
        properties = {
            "type": kind,
            **_body(message),
            "context": context,
            "originalTimestamp": None if stamp is None else stamp.isoformat(),
            "sentAt": self.batch_sent_iso if sent_at is None else sent_at.isoformat(),
            "receivedAt": self.received_iso,
        }
        if message["integrations"]:
            properties["integrations"] = message["integrations"]
        row = {
            "message_id": message["messageId"] or f"tagora-{uuid.uuid4()}",
            "type": kind,
            "event": message["event"] if kind == "track" else kind,
            "user_id": message["userId"],
            "anonymous_id": message["anonymousId"],
            "channel": _channel(kind, context),
            "sku": _sku(message["properties"]) if kind in ("track", "page", "screen") else None,
            "occurred_at": self._occurred_at(stamp, sent_at),
            "received_at": self.received_at,
            "properties": dumps(properties),
        }
        traits = None
        if kind == "identify" and message["userId"] is not None:
            traits = customer_traits(message["traits"])
        elif user_traits and message["userId"] is not None:  # the user's, not a group's own traits
            traits = customer_traits(user_traits) or None
        return Shaped(row, traits)

    def _occurred_at(self, stamp: datetime | None, sent_at: datetime | None) -> datetime:
        """The client's timestamp shifted by the client's clock error (``receivedAt - sentAt``)."""
        if stamp is None:
            return self.received_at
        sent_at = sent_at or self.batch_sent_at
        try:
            return stamp if sent_at is None else stamp + (self.received_at - sent_at)
        except OverflowError as exc:  # an absurd timestamp or sentAt, not a server error
            raise InvalidEvent(
                "timestamp", "corrected by sentAt, the timestamp falls outside years 1-9999"
            ) from exc


def shape(
    raw: Any, kind: str | None, batch_sent_at: datetime | None, received_at: datetime, ip: str | None
) -> Shaped:
    return Shaper(kind, batch_sent_at, received_at, ip)(raw)


def parse_sent_at(value: Any) -> datetime | None:
    """A batch's top-level ``sentAt``; an unreadable one is ignored rather than failing the whole batch."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None
