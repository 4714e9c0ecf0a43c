"""Roles, permissions, password and token hashing, and the one FastAPI dependency that checks them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from sqlalchemy import select

from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.models import ApiToken, User


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


def new_token() -> tuple[str, str]:
    """A fresh API token and the hash that is stored (the token itself never is)."""
    token = "tgr_" + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is acting: a console/API user, or the local operator running the CLI."""

    username: str
    role: Role
    user_id: int | None = None
    locale: str = "en"

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


CLI_OPERATOR = Principal(username="cli", role=Role.ADMIN)


def principal_for(user: User) -> Principal:
    return Principal(username=user.username, role=Role(user.role), user_id=user.id, locale=user.locale)


def current_principal(request: Request) -> Principal:
    """The user behind a request: a bearer API token, else the console session cookie."""
    sessions = request.app.state.stores.sessions
    header = request.headers.get("authorization", "")
    with sessions() as session:
        if header.lower().startswith("bearer "):
            token_hash = hash_token(header[7:].strip())
            user = session.scalar(
                select(User)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == token_hash)
            )
        else:
            user_id = request.session.get("user_id") if "session" in request.scope else None
            user = session.get(User, user_id) if user_id else None
        if user is None or not user.is_active:
            raise AppError(CoreErrorCode.UNAUTHENTICATED, "sign in or send a valid API token", 401)
        return principal_for(user)


def require(permission: Permission) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if not principal.can(permission):
            raise AppError(
                CoreErrorCode.FORBIDDEN,
                f"role {principal.role.value!r} lacks permission {permission.value!r}",
                403,
                {"permission": permission.value},
            )
        return principal

    return dependency
