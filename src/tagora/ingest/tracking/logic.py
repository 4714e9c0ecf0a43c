"""Write verbs of the tracking API: write keys, and accepting events into the durable inbox."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit
from tagora.core.auth import Principal, Role, hash_token
from tagora.core.clock import as_utc, utcnow
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


# Built once: building a select costs more than running it, and this one runs for every group commit.
_LIVE_KEYS = select(WriteKey.__table__.c.key_hash, WriteKey.__table__.c.id).where(
    WriteKey.__table__.c.key_hash.in_(bindparam("hashes", expanding=True)),
    WriteKey.__table__.c.revoked_at.is_(None),
)


def key_ids(session: Session, key_hashes: set[str]) -> dict[str, int]:
    """The ids of the live write keys among these hashes."""
    rows = session.connection().execute(_LIVE_KEYS, {"hashes": sorted(key_hashes)})
    return {h: i for h, i in rows}


@dataclass
class Prepared:
    """A call's events, validated and shaped, ready to be committed (no database touched yet)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    traits: dict[str, dict[str, str]] = field(default_factory=dict)
    receipt: Receipt = field(default_factory=Receipt)


def prepare(
    kind: str | None, raws: list[Any], batch_sent_at: datetime | None, received_at: datetime, ip: str | None
) -> Prepared:
    """Validate each event; the valid ones become inbox rows, the others dead letters."""
    out = Prepared()
    shape = messages.Shaper(kind, batch_sent_at, received_at, ip)
    for index, raw in enumerate(raws):
        try:
            shaped = shape(raw)
        except messages.InvalidEvent as exc:
            message_id = raw.get("messageId") if isinstance(raw, dict) else None
            message_id = str(message_id)[:128] if message_id is not None else None
            out.receipt.rejected.append(
                RejectedEvent(index=index, messageId=message_id, field=exc.field, reason=exc.reason)
            )
            out.dead.append(
                {
                    "message_id": message_id,
                    "field": exc.field[:128],
                    "reason": exc.reason,
                    "payload": messages.dumps(raw),
                    "received_at": received_at,
                }
            )
            continue
        out.rows.append(shaped.row)
        if shaped.traits is not None:
            user_id = shaped.row["user_id"]
            out.traits[user_id] = {**out.traits.get(user_id, {}), **shaped.traits}
    out.receipt.accepted = len(out.rows)
    return out


def commit(session: Session, calls: list[tuple[int, Prepared]], default_region: str) -> None:
    """Write the calls' inbox rows, dead letters and identify traits in the caller's transaction.

    ``default_region`` reads phone numbers in identify traits that have no country code.
    Many calls go in one statement each: a ``messageId`` already there (or twice here) is stored once.
    """
    dead = [{**row, "write_key_id": key_id} for key_id, call in calls for row in call.dead]
    traits: dict[str, dict[str, str]] = {}
    for _key_id, call in calls:
        for user_id, fields in call.traits.items():
            traits[user_id] = {**traits.get(user_id, {}), **fields}
    if session.get_bind().dialect.name == "sqlite":
        _insert_inbox_sqlite(session, calls)
    else:
        rows = [{**row, "write_key_id": key_id} for key_id, call in calls for row in call.rows]
        upsert(session, InboxEvent.__table__, rows, ["message_id"])
    if dead:
        session.execute(insert(DeadLetter), dead)
    if traits:
        customers = [{"customer_key": key, **fields} for key, fields in traits.items()]
        upsert_customers(session, TRACKER, customers, SOURCE_SYSTEM, default_region)


# A fixed statement (no user input in it); the same upsert ``core.db.upsert`` builds, written out.
_INSERT_INBOX_SQLITE = (
    "INSERT INTO tracking_inbox (message_id, write_key_id, type, event, user_id, anonymous_id, channel, sku,"
    " occurred_at, received_at, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (message_id) DO NOTHING"
)


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite ``DateTime`` stores (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC)."""
    if value.tzinfo is not UTC:
        value = as_utc(value)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _insert_inbox_sqlite(session: Session, calls: list[tuple[int, Prepared]]) -> None:
    """The same ``upsert`` as on PostgreSQL, with the parameters made here: SQLAlchemy's per-value
    processing cost more than SQLite's insert itself."""
    params = []
    for key_id, call in calls:
        if not call.rows:
            continue
        received = _sqlite_time(call.rows[0]["received_at"])  # one per call
        params += [
            (r["message_id"], key_id, r["type"], r["event"], r["user_id"], r["anonymous_id"], r["channel"],
             r["sku"], _sqlite_time(r["occurred_at"]), received, r["properties"])
            for r in call.rows
        ]  # fmt: skip
    if not params:
        return
    session.connection().exec_driver_sql(_INSERT_INBOX_SQLITE, params)


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
    inbox already holds is acknowledged again but not stored twice. (The API does the same through
    ``inbox.Inbox``, which commits many calls at once.)
    """
    prepared = prepare(kind, raws, batch_sent_at, received_at, ip)
    with transaction(stores.sessions) as session:
        commit(session, [(key_id, prepared)], stores.settings.default_region)
    return prepared.receipt


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
