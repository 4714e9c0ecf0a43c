"""Pure shaping of one Segment message into its inbox row: validate, correct the clock, keep context."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import ValidationError

from tagora.core.clock import as_utc
from tagora.ingest.tracking.schemas import MESSAGE_TYPES, Alias, Group, Identify, Message, Page, Track

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
UTM = {"utm_source": "source", "utm_medium": "medium", "utm_campaign": "name", "utm_term": "term",
       "utm_content": "content"}  # fmt: skip
CUSTOMER_TRAITS = {"name": 256, "email": 256, "phone": 32}


class InvalidEvent(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Shaped:
    row: dict[str, Any]  # an inbox row
    traits: dict[str, str] | None  # customer fields of an identify call with a userId


def encoded_size(raw: Any) -> int:
    return len(json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def _first_error(exc: ValidationError) -> InvalidEvent:
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error["loc"]) or "body"
    return InvalidEvent(field, error["msg"])


def validate(raw: Any, kind: str | None) -> Message:
    """``kind`` is the endpoint's type; inside a batch it is None and the message names its own."""
    if not isinstance(raw, dict):
        raise InvalidEvent("body", "an event must be a JSON object")
    declared = raw.get("type")
    kind = kind or declared
    if kind not in MESSAGE_TYPES:
        raise InvalidEvent("type", f"type must be one of {', '.join(MESSAGE_TYPES)}; got {declared!r}")
    if encoded_size(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent("body", f"an event may be at most {MAX_EVENT_BYTES // 1024} KB")
    try:
        message = MESSAGE_TYPES[kind].model_validate(raw)
    except ValidationError as exc:
        raise _first_error(exc) from exc
    message.type = kind
    if message.userId is None and message.anonymousId is None:
        raise InvalidEvent("userId", "userId or anonymousId is required")
    if isinstance(message, Alias) and message.userId is None:
        raise InvalidEvent("userId", "alias needs the new userId")
    return message


def corrected_time(message: Message, batch_sent_at: datetime | None, received_at: datetime) -> datetime:
    """The client's timestamp shifted by the client's clock error (``receivedAt - sentAt``)."""
    stamp = message.timestamp or message.originalTimestamp
    if stamp is None:
        return received_at
    sent_at = message.sentAt or batch_sent_at
    if sent_at is None:
        return as_utc(stamp)
    return as_utc(stamp) + (received_at - as_utc(sent_at))


def _context(message: Message, ip: str | None) -> dict[str, Any]:
    context = dict(message.context)
    if ip and not context.get("ip"):
        context["ip"] = ip
    page = context.get("page")
    url = page.get("url") if isinstance(page, dict) else None
    if "campaign" not in context and isinstance(url, str):
        utm = {UTM[k]: v for k, v in parse_qsl(urlsplit(url).query) if k in UTM}
        if utm:
            context["campaign"] = utm
    return context


def _channel(message: Message, context: dict[str, Any]) -> str:
    device = context.get("device")
    if message.type == "screen" or "app" in context or (isinstance(device, dict) and "type" in device):
        return "app"
    if message.type == "page" or "page" in context or "userAgent" in context:
        return "web"
    return "server"


def _sku(properties: dict[str, Any]) -> str | None:
    value = properties.get("sku", properties.get("product_id"))
    return None if value is None or isinstance(value, dict | list) else str(value)[:64]


def _body(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if isinstance(message, Track | Page):
        body["properties"] = message.properties
    if isinstance(message, Page):
        body.update(name=message.name, category=message.category)
    if isinstance(message, Identify | Group):
        body["traits"] = message.traits
    if isinstance(message, Group):
        body["groupId"] = message.groupId
    if isinstance(message, Alias):
        body["previousId"] = message.previousId
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


def shape(
    raw: Any, kind: str | None, batch_sent_at: datetime | None, received_at: datetime, ip: str | None
) -> Shaped:
    message = validate(raw, kind)
    context = _context(message, ip)
    properties = {
        "type": message.type,
        **_body(message),
        "context": context,
        "originalTimestamp": (message.timestamp or message.originalTimestamp),
        "sentAt": message.sentAt or batch_sent_at,
        "receivedAt": received_at,
    }
    if message.integrations:
        properties["integrations"] = message.integrations
    row = {
        "message_id": message.messageId or f"tagora-{uuid.uuid4()}",
        "type": message.type,
        "event": message.event if isinstance(message, Track) else message.type,
        "user_id": message.userId,
        "anonymous_id": message.anonymousId,
        "channel": _channel(message, context),
        "sku": _sku(message.properties) if isinstance(message, Track | Page) else None,
        "occurred_at": corrected_time(message, batch_sent_at, received_at),
        "received_at": received_at,
        "properties": json.dumps(properties, ensure_ascii=False, default=_iso),
    }
    traits = None
    if isinstance(message, Identify) and message.userId is not None:
        traits = customer_traits(message.traits)
    return Shaped(row, traits)


def _iso(value: Any) -> str:
    return as_utc(value).isoformat() if isinstance(value, datetime) else str(value)


def parse_sent_at(value: Any) -> datetime | None:
    """A batch's top-level ``sentAt``; an unreadable one is ignored rather than failing the whole batch."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None
