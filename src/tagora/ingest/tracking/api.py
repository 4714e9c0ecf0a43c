"""Segment-compatible HTTP tracking API (``/v1/track``, ``/v1/batch``, ...) and its background loader."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tagora.core.auth import hash_token
from tagora.core.clock import utcnow
from tagora.core.errors import AppError
from tagora.core.http import BodyError, body_error, inflate
from tagora.ingest.tracking import checks, logic
from tagora.ingest.tracking.inbox import Inbox
from tagora.ingest.tracking.loader import BackgroundLoader
from tagora.ingest.tracking.logic import Overloaded, TrackingErrorCode
from tagora.ingest.tracking.messages import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    InvalidEvent,
    loads,
    parse_sent_at,
)
from tagora.ingest.tracking.schemas import TrackingAck, TrackingSettings


def _inbox(app: FastAPI, settings: TrackingSettings) -> Inbox:
    """The gateway has only the metadata database and its settings; the full app has its stores."""
    sessions = getattr(app.state, "tracking_sessions", None)
    return Inbox(sessions if sessions is not None else app.state.stores.sessions, settings)


@asynccontextmanager
async def _tracking_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = getattr(app.state, "tracking_settings", None) or TrackingSettings()
    app.state.tracking_settings = settings
    app.state.tracking_inbox = inbox = _inbox(app, settings)
    inbox.start()
    loader = None
    if settings.loader_interval_s > 0 and getattr(app.state, "stores", None) is not None:
        loader = BackgroundLoader(
            app.state.stores,
            settings.loader_interval_s,
            settings.loader_batch_size,
            settings.keep_loaded_days,
        )
        loader.start()
    try:
        yield
    finally:
        await run_in_threadpool(inbox.stop)
        if loader is not None:
            await run_in_threadpool(loader.stop)


router = APIRouter(prefix="/v1", tags=["tracking"], lifespan=_tracking_lifespan)


def _too_large(limit: int, what: str) -> AppError:
    return AppError(
        TrackingErrorCode.TOO_LARGE,
        f"{what} is larger than {limit // 1024} KB, the most the tracking API accepts",
        413,
        {"limit_bytes": limit},
    )


async def read_body(request: Request, limit: int, what: str) -> bytes:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _too_large(limit, what)
    try:
        return inflate(bytes(raw), request.headers.get("content-encoding", ""), limit)
    except BodyError as error:  # bounded inflation, no bytes after the stream, known encodings only
        if error.status == 413:
            raise _too_large(limit, what) from error
        if error.status == 415:
            raise body_error(error, limit) from error
        raise AppError(TrackingErrorCode.INVALID_EVENT, error.reason, 400) from error


def _basic_username(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def _invalid(field: str, reason: str, message_id: str | None = None) -> AppError:
    return AppError(
        TrackingErrorCode.INVALID_EVENT, f"{field}: {reason}", 400, {"field": field, "messageId": message_id}
    )


def _key(request: Request, payload: dict[str, Any]) -> str:
    key = _basic_username(request) or payload.get("writeKey")
    if not key or not isinstance(key, str):
        raise AppError(
            TrackingErrorCode.BAD_WRITE_KEY,
            "send a write key as the HTTP Basic username (or as writeKey in the body)",
            401,
        )
    if not key.isascii():  # no key Tagora makes is; one with a lone surrogate could not even be hashed
        raise AppError(TrackingErrorCode.BAD_WRITE_KEY, "unknown or revoked write key", 401)
    return key


# A site sends with a handful of write keys: hash each once, not on every call.
_key_hash = functools.lru_cache(maxsize=1024)(hash_token)


def _ack(receipt: logic.Receipt) -> Response:
    if not receipt.rejected:  # the common answer, without building a model for it
        return Response(b'{"success":true,"accepted":%d,"rejected":[]}' % receipt.accepted,
                        media_type="application/json")  # fmt: skip
    ack = TrackingAck(accepted=receipt.accepted, rejected=receipt.rejected)
    return Response(ack.model_dump_json(), media_type="application/json")


async def _receive(request: Request, kind: str | None) -> Response:
    limit, what = (MAX_BATCH_BYTES, "the batch") if kind is None else (MAX_EVENT_BYTES, "the event")
    body = await read_body(request, limit, what)
    client_ip = request.client.host if request.client else None
    # Checking is pure CPU work of a few microseconds an event: done here, not in a thread. (Shaping each
    # event into its warehouse row is the loader's.) A batch's events are checked from their text.
    batch = checks.envelope(body) if kind is None else None
    if batch is not None:
        key = _key(request, {"writeKey": batch.writeKey})
        accepted = logic.accept_texts(batch.batch, parse_sent_at(batch.sentAt), utcnow(), client_ip)
    else:
        try:
            payload = loads(body)
        except InvalidEvent as exc:
            raise _invalid(exc.field, exc.reason) from exc
        if not isinstance(payload, dict):
            raise _invalid("body", "the body must be a JSON object")
        key = _key(request, payload)
        if kind is None:
            events = payload.get("batch")
            if not isinstance(events, list):
                raise _invalid("batch", "a batch body needs a list named batch")
        else:
            events = [payload]
        accepted = logic.accept(kind, events, parse_sent_at(payload.get("sentAt")), utcnow(), client_ip)
    inbox: Inbox = request.app.state.tracking_inbox
    try:
        receipt = await inbox.submit(_key_hash(key), accepted)
    except Overloaded as error:
        headers = {"Retry-After": str(error.retry_after_s)}
        return JSONResponse(error.to_dict(), 429, headers=headers)
    if kind is not None and receipt.rejected:
        bad = receipt.rejected[0]
        raise _invalid(bad.field, bad.reason, bad.messageId)
    return _ack(receipt)


@router.post("/identify", response_model=TrackingAck)
async def identify(request: Request) -> Response:
    return await _receive(request, "identify")


@router.post("/track", response_model=TrackingAck)
async def track(request: Request) -> Response:
    return await _receive(request, "track")


@router.post("/page", response_model=TrackingAck)
async def page(request: Request) -> Response:
    return await _receive(request, "page")


@router.post("/screen", response_model=TrackingAck)
async def screen(request: Request) -> Response:
    return await _receive(request, "screen")


@router.post("/group", response_model=TrackingAck)
async def group(request: Request) -> Response:
    return await _receive(request, "group")


@router.post("/alias", response_model=TrackingAck)
async def alias(request: Request) -> Response:
    return await _receive(request, "alias")


@router.post("/batch", response_model=TrackingAck)
async def batch(request: Request) -> Response:
    """Up to 500 KB of events, each at most 32 KB; invalid ones are dead-lettered, the rest kept."""
    return await _receive(request, None)
