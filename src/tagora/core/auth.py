"""Roles, permissions, password and token hashing, and the one FastAPI dependency that checks them:
a bearer API token or a console session, each valid only while its row in the database says so."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from tagora.core.clock import utcnow
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.models import ApiToken, User, UserSession
from tagora.settings import Settings


class Permission(StrEnum):
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    CUSTOMERS_EXPORT = "customers:export"
    PII_VIEW = "pii:view"
    IMPORT_RUN = "import:run"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    INTERACTIONS_WRITE = "interactions:write"
    IDENTITY_MERGE = "identity:merge"  # merge and unmerge people by hand
    TAGS_READ = "tags:read"
    TAGS_EDIT = "tags:edit"  # propose, edit and submit tag definitions
    TAGS_APPROVE = "tags:approve"  # approve or reject a submitted tag
    TAGS_PUBLISH = "tags:publish"  # publish an approved tag, deprecate and retire
    TAGS_COMPUTE = "tags:compute"
    TAGS_ASSIGN = "tags:assign"  # put manual tags on customers
    SEGMENTS_READ = "segments:read"  # counts, segments and portraits
    SEGMENTS_WRITE = "segments:write"  # save, change and archive segments
    MODELS_READ = "models:read"  # model runs, metrics and customer scores
    MODELS_TRAIN = "models:train"  # train models and record runs


class Role(StrEnum):
    ADMIN = "admin"
    MARKETER = "marketer"
    SALES = "sales"
    ANALYST = "analyst"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MARKETER: frozenset(
        {Permission.CUSTOMERS_READ, Permission.CUSTOMERS_EXPORT}
        | {Permission.TAGS_READ, Permission.TAGS_EDIT, Permission.TAGS_ASSIGN}
        | {Permission.SEGMENTS_READ, Permission.SEGMENTS_WRITE}
        | {Permission.MODELS_READ}
    ),
    Role.SALES: frozenset(
        {Permission.CUSTOMERS_READ, Permission.CUSTOMERS_EXPORT, Permission.INTERACTIONS_WRITE}
        | {Permission.TAGS_READ, Permission.TAGS_ASSIGN, Permission.SEGMENTS_READ}
    ),
    # Analysts develop and ship tags; approving a request stays with an admin.
    Role.ANALYST: frozenset(
        {Permission.CUSTOMERS_READ, Permission.CUSTOMERS_EXPORT}
        | {Permission.TAGS_READ, Permission.TAGS_EDIT, Permission.TAGS_PUBLISH, Permission.TAGS_COMPUTE}
        | {Permission.SEGMENTS_READ, Permission.SEGMENTS_WRITE}
        | {Permission.MODELS_READ, Permission.MODELS_TRAIN}
    ),
}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_nobody(password: str) -> None:
    """Spend the time a wrong password costs when there is no such user, so timing tells nothing."""
    verify_password(_dummy_hash(), password)


def new_token() -> tuple[str, str]:
    """A fresh API token and the hash that is stored (the token itself never is)."""
    token = "tgr_" + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


SESSION_KEY = "sid"  # the console session cookie carries this id; its hash names a user_sessions row
TOUCH_EVERY = timedelta(seconds=60)  # last-seen/last-used times are written at most this often


@dataclass(frozen=True)
class Principal:
    """Who is acting: a console/API user, or the local operator running the CLI.

    A principal from an API token with scopes holds only the scopes its role also grants.
    """

    username: str
    role: Role
    user_id: int | None = None
    locale: str = "en"
    scopes: frozenset[Permission] | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        granted = ROLE_PERMISSIONS[self.role]
        return granted if self.scopes is None else granted & self.scopes

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


CLI_OPERATOR = Principal(username="cli", role=Role.ADMIN)


def principal_for(user: User, scopes: frozenset[Permission] | None = None) -> Principal:
    return Principal(
        username=user.username, role=Role(user.role), user_id=user.id, locale=user.locale, scopes=scopes
    )


def _unauthenticated() -> AppError:
    return AppError(CoreErrorCode.UNAUTHENTICATED, "sign in or send a valid API token", 401)


def _stale(seen: datetime | None, now: datetime) -> bool:
    return seen is None or now - seen >= TOUCH_EVERY


def session_is_live(row: UserSession, settings: Settings, now: datetime) -> bool:
    idle = timedelta(seconds=settings.session_idle_s)
    return row.revoked_at is None and now < row.expires_at and now < row.last_seen_at + idle


def _token_principal(session: Session, token: str, now: datetime) -> Principal:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and now >= row.expires_at):
        raise _unauthenticated()
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise _unauthenticated()
    if _stale(row.last_used_at, now):
        row.last_used_at = now
    scopes = None if row.scopes is None else frozenset(Permission(s) for s in row.scopes)
    return principal_for(user, scopes)


def _session_principal(session: Session, settings: Settings, session_id: str, now: datetime) -> Principal:
    row = session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(session_id)))
    if row is None or not session_is_live(row, settings, now):
        raise _unauthenticated()
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise _unauthenticated()
    if _stale(row.last_seen_at, now):
        row.last_seen_at = now
    return principal_for(user)


def current_principal(request: Request) -> Principal:
    """The user behind a request: a bearer API token, else the console session cookie's live session."""
    stores = request.app.state.stores
    header = request.headers.get("authorization", "")
    session_id = request.session.get(SESSION_KEY) if "session" in request.scope else None
    if not header.lower().startswith("bearer ") and not isinstance(session_id, str):
        raise _unauthenticated()
    now = utcnow()
    with stores.sessions() as session, session.begin():
        if header.lower().startswith("bearer "):
            return _token_principal(session, header[7:].strip(), now)
        return _session_principal(session, stores.settings, str(session_id), now)


def ensure(principal: Principal, permission: Permission) -> None:
    """Refuse (403, naming the permission) unless ``principal`` holds ``permission``."""
    if not principal.can(permission):
        raise AppError(
            CoreErrorCode.FORBIDDEN,
            f"role {principal.role.value!r} lacks permission {permission.value!r}"
            + (" (or the API token's scopes leave it out)" if principal.scopes is not None else ""),
            403,
            {"permission": permission.value},
        )


def require(permission: Permission) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        ensure(principal, permission)
        return principal

    return dependency
