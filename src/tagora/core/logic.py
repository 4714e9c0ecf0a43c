"""Kernel write verbs: users and API tokens. Each is one transaction with its audit row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit
from tagora.core.auth import Principal, Role, hash_password, new_token, principal_for, verify_password
from tagora.core.db import transaction
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.models import ApiToken, User


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise AppError(
            CoreErrorCode.INVALID_INPUT,
            "password must have at least 8 characters",
            422,
            {"field": "password"},
        )


def _check_locale(locale: str) -> None:
    if locale not in ("en", "zh"):
        raise AppError(CoreErrorCode.INVALID_INPUT, "locale must be 'en' or 'zh'", 422, {"field": "locale"})


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AppError(CoreErrorCode.NOT_FOUND, f"user {username!r} not found", 404, {"field": "username"})
    return user


def create_user(
    sessions: sessionmaker[Session],
    actor: Principal,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    locale: str = "en",
) -> int:
    username = username.strip()
    if not username:
        raise AppError(CoreErrorCode.INVALID_INPUT, "username must not be empty", 422, {"field": "username"})
    _check_password(password)
    if role not in Role.__members__.values():
        raise AppError(
            CoreErrorCode.INVALID_INPUT,
            f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}",
            422,
            {"field": "role"},
        )
    _check_locale(locale)
    with transaction(sessions) as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise AppError(
                CoreErrorCode.CONFLICT, f"user {username!r} already exists", 409, {"field": "username"}
            )
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role,
            locale=locale,
        )
        session.add(user)
        session.flush()
        audit.record(session, actor.username, "user.create", "user", user.id, role=role)
        return user.id


def issue_api_token(sessions: sessionmaker[Session], actor: Principal, username: str, name: str) -> str:
    token, token_hash = new_token()
    with transaction(sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise AppError(
                CoreErrorCode.NOT_FOUND, f"user {username!r} not found", 404, {"field": "username"}
            )
        session.add(ApiToken(user_id=user.id, name=name, token_hash=token_hash))
        audit.record(session, actor.username, "token.issue", "user", user.id, name=name)
    return token


def authenticate(sessions: sessionmaker[Session], username: str, password: str) -> Principal:
    with transaction(sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_active or not verify_password(user.password_hash, password):
            audit.record(session, username or "?", "login.failed", "user", "")
            failed = True
        else:
            audit.record(session, user.username, "login", "user", user.id)
            failed = False
            principal = principal_for(user)
    if failed:
        raise AppError(CoreErrorCode.UNAUTHENTICATED, "wrong username or password", 401)
    return principal


def set_locale(sessions: sessionmaker[Session], actor: Principal, locale: str) -> None:
    _check_locale(locale)
    with transaction(sessions) as session:
        user = session.get(User, actor.user_id)
        if user is None:
            raise AppError(CoreErrorCode.NOT_FOUND, "user not found", 404)
        user.locale = locale
        audit.record(session, actor.username, "user.locale", "user", user.id, locale=locale)


def set_password(sessions: sessionmaker[Session], actor: Principal, username: str, password: str) -> None:
    _check_password(password)
    with transaction(sessions) as session:
        user = _user(session, username)
        user.password_hash = hash_password(password)
        audit.record(session, actor.username, "user.password", "user", user.id)


def user_exists(sessions: sessionmaker[Session], username: str) -> bool:
    with sessions() as session:
        return session.scalar(select(User.id).where(User.username == username)) is not None
