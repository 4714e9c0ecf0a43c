"""The password policy: long enough, not a common password, not the username."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from tagora.core.errors import AppError, CoreErrorCode

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing work grows with the length: a bound keeps a login from being a heavy request
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, lower-cased (data/common-passwords.LICENSE.txt says whence)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def _weak(message: str, field: str) -> AppError:
    return AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": field})


def check_password(password: str, username: str, field: str = "password") -> None:
    """Refuse a weak password, naming the form or API ``field`` it came in."""
    if len(password) < MIN_LENGTH:
        raise _weak(f"{field} must have at least {MIN_LENGTH} characters", field)
    if len(password) > MAX_LENGTH:
        raise _weak(f"{field} must have at most {MAX_LENGTH} characters", field)
    folded = password.casefold()
    if folded in common_passwords():
        raise _weak(f"{field} is one of the most common passwords; choose another", field)
    if folded == username.strip().casefold():
        raise _weak(f"{field} must not be the username", field)
