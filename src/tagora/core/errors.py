"""``AppError``: the one error type a user sees, rendered as ``{"error": {"code", "message", "data"}}``."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self


class ErrorCode(StrEnum):
    """An area's error codes. Each member carries the HTTP status it answers with, everywhere
    (``NAME = "code", status``), so one failure has one status whichever route, page or job meets it."""

    status: int

    def __new__(cls, value: str, status: int = 400) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        return member


class CoreErrorCode(ErrorCode):
    NOT_FOUND = "not_found", 404
    BAD_REQUEST = "bad_request", 400  # a body that cannot be read as what it claims to be
    INVALID_INPUT = "invalid_input", 422
    UNAUTHENTICATED = "unauthenticated", 401
    FORBIDDEN = "forbidden", 403
    CONFLICT = "conflict", 409
    BAD_FILE = "bad_file", 422


class AppError(Exception):
    def __init__(
        self,
        code: ErrorCode | str,
        message: str,
        status: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        # the code's own status; an explicit one is for codes that are plain strings (tests/test_errors.py
        # checks that no call gives an ErrorCode member another status than its own)
        self.status = status if status is not None else getattr(code, "status", 400)
        self.data = data or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "data": self.data}}


def not_found(what: str, key: object) -> AppError:
    return AppError(
        CoreErrorCode.NOT_FOUND, f"{what} {key!r} not found", 404, {"what": what, "key": str(key)}
    )
