"""Pydantic models of one imported order line, event or interaction; validation normalizes every field.

Facts name their customer by ``customer_key``; whether that customer exists is checked per chunk
against the store (``facts.screen``), not here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from tagora.ingest.files import normalize
from tagora.ingest.files.rows import context_of, required_text
from tagora.profiles.facade import CANCELLATION, INTERACTION_KINDS, PURCHASE

PROPERTY_PREFIX = "properties."  # a mapping target ``properties.page`` folds that column into properties
GENERATED_ID_PREFIX = "gen:"
_KINDS = {
    PURCHASE: PURCHASE, "order": PURCHASE, "sale": PURCHASE, "购买": PURCHASE, "下单": PURCHASE,
    CANCELLATION: CANCELLATION, "cancel": CANCELLATION, "cancelled": CANCELLATION,
    "return": CANCELLATION, "refund": CANCELLATION, "退货": CANCELLATION, "退款": CANCELLATION,
    "取消": CANCELLATION,
}  # fmt: skip


def _key(value: Any) -> str | None:
    key = normalize.text(value)
    if key is not None and len(key) > 128:
        raise PydanticCustomError("too_long", "longer than 128 characters")
    return key


def _moment(value: Any, info: ValidationInfo) -> datetime:
    ctx, name = context_of(info), info.field_name or ""
    moment = normalize.timestamp(value, ctx.formats.get(name), ctx.zones.get(name, ctx.timezone))
    if moment is None:
        raise PydanticCustomError("missing_value", "a value is required")
    return moment


def quantity(value: Any) -> int:
    """A whole, non-zero number of items; ``3``, ``3.0`` and ``-1`` pass, ``2.5`` and ``abc`` do not."""
    raw = normalize.text(value)
    if raw is None:
        raise PydanticCustomError("missing_value", "a value is required")
    try:
        number = Decimal(raw.replace(",", ""))
    except ArithmeticError as exc:
        raise PydanticCustomError("invalid_quantity", "not a number: {value}", {"value": raw}) from exc
    if not number.is_finite() or number != number.to_integral_value() or abs(number) >= 10**15:
        raise PydanticCustomError("invalid_quantity", "not a whole number of items: {value}", {"value": raw})
    if number == 0:
        raise PydanticCustomError("zero_quantity", "a quantity of 0 is not an order line")
    return int(number)


class OrderLineRow(BaseModel):
    """One order line. A negative quantity, or a cancellation kind, is stored as a cancellation line with
    a negative quantity (whatever sign the file uses), as the other importers store them."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    customer_key: str
    ordered_at: datetime
    sku: str
    quantity: int
    unit_price: Decimal
    kind: str = PURCHASE
    channel: str | None = None
    country: str | None = None
    # Numbered in file order per order_id (``numbering``) unless the file has a column for it.
    line_no: int | None = None

    @field_validator("order_id", "sku", "customer_key", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> str:
        return required_text(_key(value))

    @field_validator("ordered_at", mode="before")
    @classmethod
    def _ordered_at(cls, value: Any, info: ValidationInfo) -> datetime:
        return _moment(value, info)

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        return quantity(value)

    @field_validator("unit_price", mode="before")
    @classmethod
    def _unit_price(cls, value: Any) -> Decimal:
        price = normalize.price(value)
        if price is None:
            raise PydanticCustomError("missing_value", "a value is required")
        return price

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> str:
        raw = normalize.text(value)
        if raw is None:
            return PURCHASE
        kind = _KINDS.get(raw.lower())
        if kind is None:
            raise PydanticCustomError("invalid_kind", "not purchase or cancellation: {value}", {"value": raw})
        return kind

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, value: Any) -> str | None:
        return normalize.text(value)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> str | None:
        return normalize.country(value)

    @field_validator("line_no", mode="before")
    @classmethod
    def _line_no(cls, value: Any) -> int | None:
        if value is None:
            return None
        number = quantity(value)
        if number < 1:
            raise PydanticCustomError("invalid_line_no", "a line number counts from 1")
        return number

    @model_validator(mode="after")
    def _sign(self) -> OrderLineRow:
        if self.quantity < 0 or self.kind == CANCELLATION:
            self.kind, self.quantity = CANCELLATION, -abs(self.quantity)
        return self


def _properties(value: Any) -> dict[str, Any]:
    if value is None or isinstance(value, dict):
        return dict(value or {})
    raw = str(value).strip()
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise PydanticCustomError("invalid_json", "not valid JSON: {value}", {"value": raw[:200]}) from exc
    if not isinstance(parsed, dict):
        raise PydanticCustomError("invalid_json", "not a JSON object: {value}", {"value": raw[:200]})
    return parsed


def canonical_json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


class EventRow(BaseModel):
    """A behaviour event. Without an ``event_id`` the id is a hash of the event's content (see ``_id``)."""

    model_config = ConfigDict(extra="forbid")

    event_id: str | None = None
    customer_key: str | None = None
    anonymous_id: str | None = None
    event: str
    occurred_at: datetime
    channel: str | None = None
    sku: str | None = None
    properties: str = "{}"  # a JSON object

    @model_validator(mode="before")
    @classmethod
    def _fold(cls, values: Any) -> Any:
        """Columns mapped to ``properties.NAME`` join the properties (over a same-named JSON key)."""
        if not isinstance(values, dict) or not any(k.startswith(PROPERTY_PREFIX) for k in values):
            return values
        out = {k: v for k, v in values.items() if not k.startswith(PROPERTY_PREFIX)}
        folded = {
            k.removeprefix(PROPERTY_PREFIX): v
            for k, v in values.items()
            if k.startswith(PROPERTY_PREFIX) and normalize.text(v) is not None
        }
        if folded:
            try:
                base = _properties(out.get("properties"))
            except PydanticCustomError:
                return out  # the properties validator reports the bad JSON
            out["properties"] = {**base, **folded}
        return out

    @field_validator("event_id", "customer_key", "anonymous_id", "channel", "sku", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> str | None:
        return _key(value)

    @field_validator("event", mode="before")
    @classmethod
    def _event(cls, value: Any) -> str:
        return required_text(_key(value))

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _occurred_at(cls, value: Any, info: ValidationInfo) -> datetime:
        return _moment(value, info)

    @field_validator("properties", mode="before")
    @classmethod
    def _props(cls, value: Any) -> str:
        return canonical_json(_properties(value))

    @model_validator(mode="after")
    def _id(self) -> EventRow:
        if self.customer_key is None and self.anonymous_id is None:
            raise PydanticCustomError(
                "missing_identity",
                "needs a customer_key or an anonymous_id",
                {"field": "customer_key"},
            )
        if self.event_id is None:
            self.event_id = generated_event_id(self)
        return self


def generated_event_id(row: EventRow) -> str:
    """Stable across runs and file formats: the same event content always gets the same id."""
    content = [row.customer_key, row.anonymous_id, row.event, row.occurred_at.isoformat(), row.channel,
               row.sku, row.properties]  # fmt: skip
    digest = hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()
    return GENERATED_ID_PREFIX + digest[:32]


class InteractionRow(BaseModel):
    """A CRM note, call or visit. Rows with the same customer, kind, time and body are one interaction."""

    model_config = ConfigDict(extra="forbid")

    customer_key: str
    kind: str
    body: str = ""
    author: str = ""
    occurred_at: datetime

    @field_validator("customer_key", mode="before")
    @classmethod
    def _customer(cls, value: Any) -> str:
        return required_text(_key(value))

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> str:
        kind = required_text(value).lower()
        if kind not in INTERACTION_KINDS:
            raise PydanticCustomError(
                "invalid_kind",
                "not one of {kinds}: {value}",
                {"kinds": ", ".join(INTERACTION_KINDS), "value": kind},
            )
        return kind

    @field_validator("body", mode="before")
    @classmethod
    def _body(cls, value: Any) -> str:
        return "" if value is None else str(value).strip()  # keeps the note's own line breaks

    @field_validator("author", mode="before")
    @classmethod
    def _author(cls, value: Any) -> str:
        author = normalize.text(value) or ""
        if len(author) > 64:
            raise PydanticCustomError("too_long", "longer than 64 characters")
        return author

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _occurred_at(cls, value: Any, info: ValidationInfo) -> datetime:
        return _moment(value, info)
