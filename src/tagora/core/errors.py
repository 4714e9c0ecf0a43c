"""``AppError``: the one error type a user sees, rendered as ``{"error": {"code", "message", "data"}}``."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class CoreErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    INVALID_INPUT = "invalid_input"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    BAD_FILE = "bad_file"


class AppError(Exception):
    def __init__(
        self, code: StrEnum | str, message: str, status: int = 400, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.status = status
        self.data = data or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "data": self.data}}


def not_found(what: str, key: object) -> AppError:
    return AppError(
        CoreErrorCode.NOT_FOUND, f"{what} {key!r} not found", 404, {"what": what, "key": str(key)}
    )
