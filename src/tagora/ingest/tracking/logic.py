"""Write verbs of the tracking API: write keys, and accepting events into the durable inbox."""

from __future__ import annotations

import secrets
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import msgspec
import orjson
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit
from tagora.core.auth import Principal, Role, hash_token
from tagora.core.clock import as_utc, utcnow
from tagora.core.db import transaction
from tagora.core.errors import AppError, CoreErrorCode, ErrorCode
from tagora.core.stores import Stores
from tagora.ingest.tracking import messages
from tagora.ingest.tracking.checks import Checker, sure_of_texts
from tagora.ingest.tracking.models import DeadLetter, InboxCall, InboxEvent, WriteKey
from tagora.ingest.tracking.schemas import RejectedEvent, WriteKeyPublic

SOURCE_SYSTEM = "tracking"
TRACKER = Principal(username=SOURCE_SYSTEM, role=Role.ADMIN)  # the actor of profiles the tracker creates


class TrackingErrorCode(ErrorCode):
    INVALID_EVENT = "invalid_event", 400
    TOO_LARGE = "too_large", 413
    OVERLOADED = "overloaded", 429
    BAD_WRITE_KEY = "bad_write_key", 401


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
    """Events waiting for the loader (counted by call: a call row knows how many events it holds)."""
    with sessions() as session:
        calls = session.scalar(select(func.sum(InboxCall.events)).where(InboxCall.loaded_at.is_(None)))
        legacy = session.scalar(select(func.count()).where(InboxEvent.loaded_at.is_(None)))
        return int(calls or 0) + int(legacy or 0)


# A fixed statement run as is by the driver: SQLAlchemy's compiling of an ``IN`` list cost more than the
# query, and this runs for every group commit. A site has a handful of write keys.
_LIVE_KEYS = "SELECT key_hash, id FROM tracking_write_keys WHERE revoked_at IS NULL"


def key_ids(connection: Connection | sqlite3.Connection, key_hashes: set[str]) -> dict[str, int]:
    """The ids of the live write keys among these hashes."""
    if isinstance(connection, sqlite3.Connection):
        rows = connection.execute(_LIVE_KEYS).fetchall()
    else:
        rows = list(connection.exec_driver_sql(_LIVE_KEYS))
    return {h: i for h, i in rows if h in key_hashes}


@dataclass
class Accepted:
    """A call's events, checked and ready to be committed (no database touched yet).

    ``payload`` holds the accepted events as one JSON array, as sent (an event without a ``messageId``
    has been given one, so a reload of the call gives it the same), packed (``messages.pack``); the
    loader shapes them.
    """

    kind: str | None
    received_at: datetime
    sent_at: datetime | None
    ip: str | None
    payload: bytes = b"[]"
    count: int = 0
    dead: list[dict[str, Any]] = field(default_factory=list)
    receipt: Receipt = field(default_factory=Receipt)


def _checked(checker: Checker, raws: list[Any]) -> tuple[list[bytes], dict[int, messages.InvalidEvent]]:
    """The events' JSON texts, and the refused events by index: those no UTF-8 store can keep (a lone
    surrogate), then those the Checker refuses. A refused event's text is left empty."""
    try:
        parts = list(map(orjson.dumps, raws))
        unstorable: dict[int, messages.InvalidEvent] = {}
    except TypeError:  # an integer over 64 bits that the json fallback read, or a lone surrogate
        parts, unstorable = [], {}
        for i, raw in enumerate(raws):
            try:
                parts.append(messages.utf8_json(raw))
            except messages.InvalidEvent as exc:
                parts.append(b"")
                unstorable[i] = exc
    if not unstorable:
        return parts, checker.refusals(raws, list(map(len, parts)))
    rest = [i for i in range(len(raws)) if i not in unstorable]
    found = checker.refusals([raws[i] for i in rest], [len(parts[i]) for i in rest])
    return parts, {**unstorable, **{rest[j]: exc for j, exc in found.items()}}


def accept(
    kind: str | None, raws: list[Any], batch_sent_at: datetime | None, received_at: datetime, ip: str | None
) -> Accepted:
    """Check each event: the valid ones go into the call's payload, the others become dead letters."""
    out = Accepted(kind, received_at, batch_sent_at, ip)
    parts, refused = _checked(Checker(kind, batch_sent_at, received_at, ip), raws)
    kept = list(range(len(raws)))
    if refused:
        kept = [i for i in kept if i not in refused]
        for index, exc in sorted(refused.items()):
            _refuse(out, index, raws[index], exc)
    events = [raws[i] for i in kept]
    if None in map(dict.get, events, repeat("messageId")) or (kind is not None and events and
                                                               "writeKey" in events[0]):  # fmt: skip
        for i in kept:
            parts[i] = _stored(raws[i], kind)
    out.payload = messages.pack(b"[" + b",".join([parts[i] for i in kept]) + b"]")
    out.count = out.receipt.accepted = len(kept)
    return out


def accept_texts(
    texts: Sequence[msgspec.Raw], batch_sent_at: datetime | None, received_at: datetime, ip: str | None
) -> Accepted:
    """``accept`` for a batch's events as sent, each its JSON text (``checks.envelope``).

    The events the check is sure of are stored as sent, never built as Python objects (parsing a batch
    costs more than checking it); only the others are parsed, to be checked as ``accept`` checks them.
    """
    out = Accepted(None, received_at, batch_sent_at, ip)
    checker = Checker(None, batch_sent_at, received_at, ip)
    sure, unnamed, joined = sure_of_texts(checker, texts)
    parts: list[Any] = list(texts)
    unsure = [i for i, ok in enumerate(sure) if not ok]
    parsed = {i: messages.loads(bytes(texts[i])) for i in (*unsure, *unnamed)}  # JSON the envelope read
    refused: dict[int, messages.InvalidEvent] = {}
    if unsure:
        _, found = _checked(checker, [parsed[i] for i in unsure])
        refused = {unsure[j]: exc for j, exc in found.items()}
        unnamed += [i for i in unsure if i not in refused and parsed[i].get("messageId") is None]
    for index, exc in sorted(refused.items()):
        _refuse(out, index, parsed[index], exc)
    for i in unnamed:
        parts[i] = _stored(parsed[i], None)
    kept = [parts[i] for i in range(len(texts)) if i not in refused]
    out.payload = messages.pack(b"[" + b",".join(kept) + b"]" if refused or unnamed else joined)
    out.count = out.receipt.accepted = len(kept)
    return out


def _stored(raw: dict[str, Any], kind: str | None) -> bytes:
    """An event as stored: with a ``messageId`` (the server's when it has none), without a write key."""
    if kind is not None and "writeKey" in raw:  # a secret, sent in the body of a single call
        raw = {k: v for k, v in raw.items() if k != "writeKey"}
    if raw.get("messageId") is None:
        raw = {**raw, "messageId": f"tagora-{uuid.uuid4()}"}
    return messages.dumps(raw).encode()


def _refuse(out: Accepted, index: int, raw: Any, exc: messages.InvalidEvent) -> None:
    letter = messages.dead_letter(raw, exc, out.received_at)
    out.receipt.rejected.append(
        RejectedEvent(
            index=index, messageId=letter["message_id"], field=letter["field"], reason=letter["reason"]
        )
    )
    out.dead.append(letter)


def commit(connection: Connection | sqlite3.Connection, calls: list[tuple[int, Accepted]]) -> None:
    """Write the calls' inbox rows (one per call with accepted events) and dead letters in the caller's
    transaction: a Core connection, or the inbox writer's own SQLite connection (``sqlite.Writer``: it
    commits many times a second, and SQLAlchemy's pool and result objects cost more than SQLite's insert).
    Identify traits and ``messageId`` de-duplication are the loader's."""
    dead = [{**row, "write_key_id": key_id} for key_id, call in calls for row in call.dead]
    stored = [(key_id, call) for key_id, call in calls if call.count]
    if isinstance(connection, sqlite3.Connection):
        if stored:
            connection.executemany(_INSERT_CALLS, [(key_id, c.kind, _sqlite_time(c.received_at), None if
                                   c.sent_at is None else _sqlite_time(c.sent_at), c.ip, c.count, c.payload)
                                   for key_id, c in stored])  # fmt: skip
        if dead:
            columns = ("message_id", "write_key_id", "field", "reason", "payload")
            connection.executemany(
                _INSERT_DEAD, [(*(d[c] for c in columns), _sqlite_time(d["received_at"])) for d in dead]
            )
        return
    if stored:
        rows = [{"write_key_id": key_id, "kind": c.kind, "received_at": c.received_at, "sent_at": c.sent_at,
                 "ip": c.ip, "events": c.count, "payload": c.payload} for key_id, c in stored]  # fmt: skip
        connection.execute(insert(InboxCall), rows)
    if dead:
        connection.execute(insert(DeadLetter), dead)


# Fixed statements (no user input in them) for the writer's own SQLite connection.
_INSERT_CALLS = (
    "INSERT INTO tracking_inbox_calls (write_key_id, kind, received_at, sent_at, ip, events, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_DEAD = (
    "INSERT INTO tracking_dead_letters (message_id, write_key_id, field, reason, payload, received_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite ``DateTime`` stores (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC)."""
    if value.tzinfo is not UTC:
        value = as_utc(value)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def receive(
    stores: Stores,
    key_id: int,
    kind: str | None,
    raws: list[Any],
    batch_sent_at: datetime | None,
    received_at: datetime,
    ip: str | None,
) -> Receipt:
    """Check each event; commit the valid ones to the inbox and the rest to the dead letters, together.

    Only after this returns may the caller acknowledge: the events are then durable. (The API does the
    same through ``inbox.Inbox``, which commits many calls at once.)
    """
    accepted = accept(kind, raws, batch_sent_at, received_at, ip)
    with transaction(stores.sessions) as session:
        commit(session.connection(), [(key_id, accepted)])
    return accepted.receipt


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
