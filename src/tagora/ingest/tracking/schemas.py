"""Segment message shapes (validated with pydantic), the tracking settings and the API's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _stringify(value: Any) -> Any:
    # Segment libraries send ids as strings, but numeric ids are common in hand-written clients.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Id = Annotated[str, BeforeValidator(_stringify), Field(min_length=1, max_length=128)]
JsonObject = dict[str, Any]


class Message(BaseModel):
    """Fields every Segment call shares; unknown fields are kept (and land in the dead letter as sent)."""

    model_config = ConfigDict(extra="allow")

    type: str | None = None
    messageId: Id | None = None
    userId: Id | None = None
    anonymousId: Id | None = None
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None
    sentAt: datetime | None = None
    context: JsonObject = Field(default_factory=dict)
    integrations: JsonObject = Field(default_factory=dict)


class Track(Message):
    event: str = Field(min_length=1, max_length=256)
    properties: JsonObject = Field(default_factory=dict)


class Page(Message):
    name: str | None = Field(default=None, max_length=256)
    category: str | None = Field(default=None, max_length=256)
    properties: JsonObject = Field(default_factory=dict)


class Screen(Page):
    pass


class Identify(Message):
    traits: JsonObject = Field(default_factory=dict)


class Group(Message):
    groupId: Id
    traits: JsonObject = Field(default_factory=dict)


class Alias(Message):
    previousId: Id


MESSAGE_TYPES: dict[str, type[Message]] = {
    "track": Track,
    "page": Page,
    "screen": Screen,
    "identify": Identify,
    "group": Group,
    "alias": Alias,
}


class RejectedEvent(BaseModel):
    index: int
    messageId: str | None = None
    field: str
    reason: str


class TrackingAck(BaseModel):
    """Segment answers ``{"success": true}``; the counts and rejections are Tagora's additions."""

    success: bool = True
    accepted: int = 0
    rejected: list[RejectedEvent] = Field(default_factory=list)


class WriteKeyPublic(BaseModel):
    id: int
    name: str
    created_at: datetime
    revoked: bool


class LoadReport(BaseModel):
    loaded: int = 0
    already_in_warehouse: int = 0  # events already loaded before, or twice in the inbox
    dead_letters: int = 0  # events the loader could not shape (the request's check lets none through)
    batches: int = 0
    seconds: float = 0.0


class TrackingSettings(BaseSettings):
    """``TAGORA_TRACKING_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="TAGORA_TRACKING_", env_file=".env", extra="ignore")

    max_backlog: int = Field(default=200_000, ge=1)  # events waiting for the loader before 429
    retry_after_s: int = Field(default=5, ge=1)
    loader_interval_s: float = Field(default=1.0, ge=0)  # 0 turns the server's background loader off
    # events a loader batch holds (whole calls): a batch's lookups and commits cost about the same for many
    loader_batch_size: int = Field(default=20_000, ge=1)
    keep_loaded_days: float = Field(default=7, ge=0)  # loaded inbox calls kept this long; 0 = forever
