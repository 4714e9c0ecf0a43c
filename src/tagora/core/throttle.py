"""Login throttling: failed sign-ins counted per account and per client address in the metadata database,
so every server process sees the same counts."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from tagora.core.errors import AppError, ErrorCode
from tagora.core.models import LoginFailure
from tagora.settings import Settings

KEY_LENGTH = 64  # the columns' width: a longer username or address is counted by its first 64 characters


class ThrottleErrorCode(ErrorCode):
    TOO_MANY_ATTEMPTS = "too_many_attempts", 429


class Throttled(AppError):
    """429: too many failed sign-ins; ``retry_after_s`` goes into the ``Retry-After`` header."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            ThrottleErrorCode.TOO_MANY_ATTEMPTS,
            f"too many failed sign-ins; try again in {retry_after_s} s",
            429,
            {"retry_after_s": retry_after_s},
        )
        self.retry_after_s = retry_after_s


def _key(value: str) -> str:
    return value[:KEY_LENGTH]


def retry_after(session: Session, settings: Settings, username: str, client: str, now: datetime) -> int:
    """Seconds until another attempt may be made (0: now). A sliding window: the wait ends when the oldest
    of the last ``limit`` failures leaves it."""
    window = timedelta(seconds=settings.login_window_s)
    checks: list[tuple[ColumnElement[bool], int]] = [
        (LoginFailure.username == _key(username), settings.login_failures_per_account),
        (LoginFailure.client == _key(client), settings.login_failures_per_client),
    ]
    wait = 0.0
    for match, limit in checks:
        times = session.scalars(
            select(LoginFailure.at)
            .where(match, LoginFailure.at > now - window)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        ).all()
        if len(times) >= limit:
            wait = max(wait, (times[-1] + window - now).total_seconds())
    return math.ceil(wait)


def record_failure(session: Session, settings: Settings, username: str, client: str, now: datetime) -> None:
    session.add(LoginFailure(at=now, username=_key(username), client=_key(client)))
    # Failures older than the window count for nothing: drop them as we go, so the table stays small.
    session.execute(
        delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=settings.login_window_s))
    )


def forget_failures(session: Session, username: str) -> None:
    """A successful sign-in clears its account's count (not its client's: one client may guess many)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))
