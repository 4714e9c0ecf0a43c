"""The HTTP guard every Tagora app runs outermost, before sessions, parsing or authentication work.

It bounds request bodies while they stream in (a body over the limit is refused with 413 as soon as its
``Content-Length`` or its running size says so, so memory never grows with what a client sends), decodes
``Content-Encoding`` with bounded inflation, refuses JSON nested deeper than any request needs and strings
that are not Unicode text (lone UTF-16 surrogates, which no database can store), refuses cookie-borne
writes that another site started, and puts the security headers on every response.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tagora.core.errors import AppError, CoreErrorCode, ErrorCode

MAX_JSON_DEPTH = 64  # a segment expression, the deepest body Tagora reads, needs about 35
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_ORIGIN_FETCH = frozenset({b"same-origin", b"none"})  # "none": typed or bookmarked by the user

# No inline script anywhere: the console and the API docs load their scripts from /static. Styles stay
# 'unsafe-inline' because ECharts, HTMX's request indicator, Swagger UI and ReDoc set inline styles.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",  # ReDoc's search index runs in a worker made from a blob
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # console URLs can hold a customer key: never sent to other sites
    (b"cross-origin-opener-policy", b"same-origin"),
)
SECURITY_HEADERS_HTTPS = (*SECURITY_HEADERS, (b"strict-transport-security", b"max-age=31536000"))

# Lone surrogates reach Python strings only through a \uD800-\uDFFF escape or raw surrogate bytes (json
# decodes with "surrogatepass"); bodies without either are not walked for them.
_SURROGATE_HINT = re.compile(rb"\\[uU][dD][89abcdefABCDEF]|\xed[\xa0-\xbf]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class HttpErrorCode(ErrorCode):
    TOO_LARGE = "too_large", 413
    UNSUPPORTED_ENCODING = "unsupported_encoding", 415
    BAD_ENCODING = "bad_encoding", 400
    CROSS_SITE = "cross_site", 403


class BodyError(Exception):
    """A body refused before parsing; each caller renders it with its own error codes."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def inflate(raw: bytes, encoding: str, limit: int) -> bytes:
    """``raw`` decoded by its ``Content-Encoding``, never inflated past ``limit`` bytes.

    Refused: an encoding other than gzip/deflate (415), a corrupt or truncated stream, bytes after it (400),
    and more than ``limit`` bytes once inflated (413)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BodyError(415, f"Content-Encoding {encoding!r} is not supported; send gzip, deflate or none")
    out: list[bytes] = []
    size = 0
    rest = raw
    while True:  # a gzip file may hold several members, one after another
        inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
        try:
            part = inflater.decompress(rest, limit - size + 1)
        except zlib.error as exc:
            raise BodyError(400, f"the {encoding} body is corrupt: {exc}") from exc
        size += len(part)
        if size > limit or inflater.unconsumed_tail:
            raise BodyError(413, f"the body inflates to more than {_size(limit)}")
        if not inflater.eof:
            raise BodyError(400, f"the {encoding} body is corrupt: it ends before its compressed stream")
        out.append(part)
        rest = inflater.unused_data
        if not rest:
            return b"".join(out)
        if not rest.startswith(b"\x1f\x8b"):
            raise BodyError(400, f"the {encoding} body is corrupt: bytes follow its compressed stream")


def json_problem(body: bytes) -> AppError | None:
    """Why a JSON body must be refused before anything parses it for real, or None.

    Syntax errors are left to the framework's parser, which names them; this only looks for what would
    otherwise crash later: nesting past ``MAX_JSON_DEPTH`` and lone surrogates, each named by its field."""
    surrogates = _SURROGATE_HINT.search(body) is not None
    if not surrogates and body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return None  # too few brackets to nest too deep: no need to parse here
    try:
        value = json.loads(body)
    except RecursionError:
        return _too_deep("body")
    except ValueError:
        return None
    return _walk(value, surrogates)


def _walk(value: Any, surrogates: bool) -> AppError | None:
    # Paths are (parent, key) links, spelled out only for the one node that is refused.
    stack: list[tuple[Any, Any, int]] = [(value, None, 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict):
            if depth >= MAX_JSON_DEPTH:
                return _too_deep(_spell(path))
            for key, item in node.items():
                if surrogates and _SURROGATE.search(key):
                    return _not_text(_spell((path, key)))
                stack.append((item, (path, key), depth + 1))
        elif isinstance(node, list):
            if depth >= MAX_JSON_DEPTH:
                return _too_deep(_spell(path))
            stack.extend((item, (path, i), depth + 1) for i, item in enumerate(node))
        elif surrogates and isinstance(node, str) and _SURROGATE.search(node):
            return _not_text(_spell(path))
    return None


def _spell(path: Any) -> str:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    text = ""
    for key in reversed(keys):
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return _SURROGATE.sub("\ufffd", text) or "body"  # the name itself may hold the bad character


def _invalid(field: str, message: str) -> AppError:
    return AppError(
        CoreErrorCode.BAD_REQUEST,
        f"{field}: {message}",
        None,
        {"field": field, "errors": [{"field": field, "message": message}]},
    )


def _too_deep(field: str) -> AppError:
    return _invalid(field, f"JSON nested more than {MAX_JSON_DEPTH} levels deep")


def _not_text(field: str) -> AppError:
    return _invalid(field, "holds a lone UTF-16 surrogate (such as \\ud800), which is not Unicode text")


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def too_large(limit: int) -> AppError:
    return AppError(
        HttpErrorCode.TOO_LARGE,
        f"the request body is larger than {_size(limit)}, the most this endpoint accepts",
        413,
        {"limit_bytes": limit},
    )


def body_error(error: BodyError, limit: int) -> AppError:
    if error.status == 413:
        return too_large(limit)
    code = HttpErrorCode.UNSUPPORTED_ENCODING if error.status == 415 else HttpErrorCode.BAD_ENCODING
    return AppError(code, error.reason, error.status)


class _Gone(Exception):
    """The client went away while its body was being read."""


class _Overflow(Exception):
    """A streamed body passed its limit while the app was reading it."""


class HttpGuard:
    """Pure ASGI middleware (it sees the body as it arrives, which ``BaseHTTPMiddleware`` would not).

    ``exempt`` paths (the tracking API) read and decode their own bodies within their own, smaller limits;
    here they get only the checks that cost nothing: a declared length over ``exempt_limit`` and the
    headers. They are also exempt from the same-origin rule: write keys, not cookies, and cross-site by
    design."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limit: int,
        upload_limit: int,
        exempt: tuple[str, ...] = (),
        exempt_limit: int = 0,
        trusted_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.body_limit = body_limit
        self.upload_limit = upload_limit
        self.exempt = exempt
        self.exempt_limit = exempt_limit
        self.trusted_origins = frozenset(o.rstrip("/").encode() for o in trusted_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(scope, send)
        if scope["path"].startswith(self.exempt):  # the hot path: as little work as possible
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.exempt_limit:
                    await _refuse(too_large(self.exempt_limit), scope, receive, send)
                    return
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = _content_length(headers)
        refusal = self._cross_site(scope, headers)
        if refusal is not None:
            await _refuse(refusal, scope, receive, send)
            return
        if length == 0 or (length is None and b"transfer-encoding" not in headers):
            await self.app(scope, receive, send)  # no body at all (most GETs): nothing to bound or check
            return
        content_type = headers.get(b"content-type", b"").partition(b";")[0].strip().lower()
        limit = self.upload_limit if content_type.startswith(b"multipart/") else self.body_limit
        if length is not None and length > limit:
            await _refuse(too_large(limit), scope, receive, send)
            return
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        is_json = content_type in (b"", b"application/json") or content_type.endswith(b"+json")
        if is_json or encoding not in (b"", b"identity"):
            await self._checked(scope, receive, send, encoding, is_json)
        else:
            await self._streamed(scope, receive, send, limit)

    def _cross_site(self, scope: Scope, headers: dict[bytes, bytes]) -> AppError | None:
        """A browser says where a request comes from (Sec-Fetch-Site, else Origin); requests that say
        nothing (scripts, command-line clients) and bearer-token requests, which no browser sends across
        sites without CORS, pass."""
        if scope["method"] not in STATE_CHANGING:
            return None
        if headers.get(b"authorization", b"")[:7].lower() == b"bearer ":
            return None
        site = headers.get(b"sec-fetch-site")
        origin = headers.get(b"origin")
        if site is None and origin is None:
            return None
        if origin is not None and origin.rstrip(b"/") in self.trusted_origins:
            return None
        if site is not None:
            allowed = site.lower() in SAME_ORIGIN_FETCH
        else:
            # Without fetch metadata, the Origin's host must be the one the browser sent the request to (the
            # scheme is not compared: behind a TLS proxy the server itself may be spoken to over http).
            allowed = origin is not None and origin.partition(b"://")[2] == headers.get(b"host", b"")
        if allowed:
            return None
        return AppError(
            HttpErrorCode.CROSS_SITE,
            "a request started by another site may not change anything here (send an API token instead)",
            403,
            {"origin": (origin or b"").decode("latin-1"), "sec_fetch_site": (site or b"").decode("latin-1")},
        )

    async def _checked(
        self, scope: Scope, receive: Receive, send: Send, encoding: bytes, is_json: bool
    ) -> None:
        """Bodies read whole here, within the limit, then decoded and checked: JSON, and encoded bodies."""
        try:
            raw = await _read(receive, self.body_limit)
        except _Gone:
            return
        except _Overflow:
            await _refuse(too_large(self.body_limit), scope, receive, send)
            return
        try:
            body = inflate(raw, encoding.decode("latin-1"), self.body_limit)
        except BodyError as error:
            await _refuse(body_error(error, self.body_limit), scope, receive, send)
            return
        problem = json_problem(body) if is_json and body else None
        if problem is not None:
            await _refuse(problem, scope, receive, send)
            return
        if body is not raw:
            scope = dict(scope)
            scope["headers"] = [
                (name, value)
                for name, value in scope["headers"]
                if name not in (b"content-encoding", b"content-length")
            ] + [(b"content-length", str(len(body)).encode())]
        await self.app(scope, _replay(body, receive), send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Forms and uploads stream on to the app (a multipart parser spools them to disk); counted as they
        arrive, and refused as soon as they pass the limit."""
        received = 0
        overflow = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflow = True
                    raise _Overflow
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if overflow:
                return  # whatever the app made of the overflow (a parse error, say), the answer is 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not overflow:
                raise
        if overflow and not started:
            await _refuse(too_large(limit), scope, receive, send)


def _content_length(headers: dict[bytes, bytes]) -> int | None:
    value = headers.get(b"content-length")
    return int(value) if value is not None and value.isdigit() else None


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Overflow
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # a disconnect, when the app waits for one
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _with_security_headers(scope: Scope, send: Send) -> Send:
    # The guard owns these headers: no route sets them, so they are appended without looking.
    extra = SECURITY_HEADERS_HTTPS if scope.get("scheme") == "https" else SECURITY_HEADERS

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return send_with_headers


async def _refuse(error: AppError, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse(error.to_dict(), status_code=error.status)(scope, receive, send)
