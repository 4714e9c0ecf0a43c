"""Write verbs of the tracking API: write keys, and accepting events into the durable inbox."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit
from tagora.core.auth import Principal, Role, hash_token
from tagora.core.clock import utcnow
from tagora.core.db import transaction, upsert
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.stores import Stores
from tagora.ingest.tracking import messages
from tagora.ingest.tracking.models import DeadLetter, InboxEvent, WriteKey
from tagora.ingest.tracking.schemas import RejectedEvent, WriteKeyPublic
from tagora.profiles.facade import upsert_customers

SOURCE_SYSTEM = "tracking"
TRACKER = Principal(username=SOURCE_SYSTEM, role=Role.ADMIN)  # the actor of profiles the tracker creates


class TrackingErrorCode(StrEnum):
    INVALID_EVENT = "invalid_event"
    TOO_LARGE = "too_large"
    OVERLOADED = "overloaded"
    BAD_WRITE_KEY = "bad_write_key"


class Overloaded(AppError):
    def __init__(self, backlog: int, retry_after_s: int) -> None:
        super().__init__(
            TrackingErrorCode.OVERLOADED,
            f"{backlog:,} events are waiting to be loaded; retry after {retry_after_s} s",
            429,
            {"backlog": backlog, "retry_after_s": retry_after_s},
        )
        self.retry_after_s = retry_after_s


@dataclass
class Receipt:
    accepted: int = 0
    rejected: list[RejectedEvent] = field(default_factory=list)


def create_write_key(sessions: sessionmaker[Session], actor: Principal, name: str) -> str:
    """A new write key; only its hash is stored, so the key is shown this once."""
    name = name.strip()
    if not name:
        raise AppError(CoreErrorCode.INVALID_INPUT, "a write key needs a name", 422, {"field": "name"})
    key = "tgw_" + secrets.token_urlsafe(24)
    with transaction(sessions) as session:
        if session.scalar(select(WriteKey.id).where(WriteKey.name == name)) is not None:
            raise AppError(
                CoreErrorCode.CONFLICT, f"write key {name!r} already exists", 409, {"field": "name"}
            )
        row = WriteKey(name=name, key_hash=hash_token(key))
        session.add(row)
        session.flush()
        audit.record(session, actor.username, "tracking.key.create", "write_key", row.id, name=name)
    return key


def revoke_write_key(sessions: sessionmaker[Session], actor: Principal, name: str) -> None:
    with transaction(sessions) as session:
        row = session.scalar(select(WriteKey).where(WriteKey.name == name))
        if row is None:
            raise AppError(CoreErrorCode.NOT_FOUND, f"write key {name!r} not found", 404, {"field": "name"})
        row.revoked_at = utcnow()
        audit.record(session, actor.username, "tracking.key.revoke", "write_key", row.id, name=name)


def list_write_keys(sessions: sessionmaker[Session]) -> list[WriteKeyPublic]:
    with sessions() as session:
        rows = session.scalars(select(WriteKey).order_by(WriteKey.id))
        return [
            WriteKeyPublic(id=k.id, name=k.name, created_at=k.created_at, revoked=k.revoked_at is not None)
            for k in rows
        ]


def check_write_key(sessions: sessionmaker[Session], key: str | None) -> int:
    if not key:
        raise AppError(
            TrackingErrorCode.BAD_WRITE_KEY,
            "send a write key as the HTTP Basic username (or as writeKey in the body)",
            401,
        )
    with sessions() as session:
        row = session.scalar(select(WriteKey).where(WriteKey.key_hash == hash_token(key)))
    if row is None or row.revoked_at is not None:
        raise AppError(TrackingErrorCode.BAD_WRITE_KEY, "unknown or revoked write key", 401)
    return row.id


def backlog(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).where(InboxEvent.loaded_at.is_(None))) or 0


def receive(
    stores: Stores,
    key_id: int,
    kind: str | None,
    raws: list[Any],
    batch_sent_at: datetime | None,
    received_at: datetime,
    ip: str | None,
) -> Receipt:
    """Validate each event; commit the valid ones to the inbox and the rest to the dead letters, together.

    Only after this returns may the caller acknowledge: the events are then durable. A ``messageId`` the
    inbox already holds is acknowledged again but not stored twice.
    """
    receipt = Receipt()
    rows: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []
    traits: dict[str, dict[str, str]] = {}
    for index, raw in enumerate(raws):
        try:
            shaped = messages.shape(raw, kind, batch_sent_at, received_at, ip)
        except messages.InvalidEvent as exc:
            message_id = raw.get("messageId") if isinstance(raw, dict) else None
            message_id = str(message_id)[:128] if message_id is not None else None
            receipt.rejected.append(
                RejectedEvent(index=index, messageId=message_id, field=exc.field, reason=exc.reason)
            )
            dead.append(
                {
                    "message_id": message_id,
                    "write_key_id": key_id,
                    "field": exc.field[:128],
                    "reason": exc.reason,
                    "payload": json.dumps(raw, ensure_ascii=False, default=str),
                    "received_at": received_at,
                }
            )
            continue
        rows.append({**shaped.row, "write_key_id": key_id})
        if shaped.traits is not None:
            user_id = shaped.row["user_id"]
            traits[user_id] = {**traits.get(user_id, {}), **shaped.traits}
    with transaction(stores.sessions) as session:
        upsert(session, InboxEvent.__table__, rows, ["message_id"])
        if dead:
            session.execute(insert(DeadLetter), dead)
        if traits:
            customers = [{"customer_key": key, **fields} for key, fields in traits.items()]
            upsert_customers(session, TRACKER, customers, SOURCE_SYSTEM, stores.settings.default_region)
    receipt.accepted = len(rows)
    return receipt


def dead_letters(sessions: sessionmaker[Session], limit: int = 100) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit))
        return [
            {
                "id": d.id,
                "message_id": d.message_id,
                "field": d.field,
                "reason": d.reason,
                "payload": d.payload,
                "received_at": d.received_at,
            }
            for d in rows
        ]
