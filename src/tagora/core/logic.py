"""Kernel write verbs: users, sign-ins and their sessions, API tokens. Each is one transaction with its
audit row; each that manages other people's accounts needs ``users:manage``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from tagora.core import audit, throttle
from tagora.core.auth import (
    ROLE_PERMISSIONS,
    Permission,
    Principal,
    Role,
    ensure,
    hash_password,
    hash_token,
    new_token,
    principal_for,
    verify_nobody,
    verify_password,
)
from tagora.core.clock import as_utc, utcnow
from tagora.core.db import transaction
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.models import ApiToken, User, UserSession
from tagora.core.passwords import check_password
from tagora.core.schemas import TokenPublic, UserPublic
from tagora.core.stores import Stores

ACTOR_LENGTH = 64  # audit_log.actor: a failed login's made-up username is cut to fit


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: who, and the session id for the cookie (only its hash is kept)."""

    principal: Principal
    session_id: str


def _invalid(message: str, field: str) -> AppError:
    return AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": field})


def _require_manager(actor: Principal) -> None:
    ensure(actor, Permission.USERS_MANAGE)


def _check_locale(locale: str) -> None:
    if locale not in ("en", "zh"):
        raise _invalid("locale must be 'en' or 'zh'", "locale")


def _check_role(role: str) -> Role:
    if role not in Role.__members__.values():
        raise _invalid(f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}", "role")
    return Role(role)


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AppError(CoreErrorCode.NOT_FOUND, f"user {username!r} not found", 404, {"field": "username"})
    return user


def _user_public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        locale=user.locale,
        is_active=user.is_active,
        created_at=user.created_at,
    )


def _end_sessions(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to take away the last active admin: nobody could manage users any more."""
    if user.role != Role.ADMIN.value or not user.is_active:
        return
    others = session.scalar(
        select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True), User.id != user.id)
    )
    if others is None:
        raise AppError(
            CoreErrorCode.CONFLICT,
            f"{user.username!r} is the last active admin; make another admin first",
            409,
            {"field": "username"},
        )


# --- users ------------------------------------------------------------------------------------------


def create_user(
    sessions: sessionmaker[Session],
    actor: Principal,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    locale: str = "en",
) -> int:
    _require_manager(actor)
    username = username.strip()
    if not username:
        raise _invalid("username must not be empty", "username")
    if len(username) > 64:
        raise _invalid("username must have at most 64 characters", "username")
    if len(display_name) > 128:
        raise _invalid("display_name must have at most 128 characters", "display_name")
    check_password(password, username)
    _check_role(role)
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


def list_users(sessions: sessionmaker[Session], actor: Principal) -> list[UserPublic]:
    _require_manager(actor)
    with sessions() as session:
        return [_user_public(u) for u in session.scalars(select(User).order_by(User.username))]


def get_user(sessions: sessionmaker[Session], actor: Principal, username: str) -> UserPublic:
    _require_manager(actor)
    with sessions() as session:
        return _user_public(_user(session, username))


def set_role(sessions: sessionmaker[Session], actor: Principal, username: str, role: str) -> UserPublic:
    """Change a user's role; their sessions and tokens act with the new role's permissions at once."""
    _require_manager(actor)
    new = _check_role(role)
    with transaction(sessions) as session:
        user = _user(session, username)
        if user.role != new.value:
            if new != Role.ADMIN:
                _keep_an_admin(session, user)
            audit.record(session, actor.username, "user.role", "user", user.id, old=user.role, new=new.value)
            user.role = new.value
        return _user_public(user)


def deactivate_user(sessions: sessionmaker[Session], actor: Principal, username: str) -> UserPublic:
    """A deactivated user can't sign in, and every session and API token of theirs ends now."""
    _require_manager(actor)
    now = utcnow()
    with transaction(sessions) as session:
        user = _user(session, username)
        _keep_an_admin(session, user)
        user.is_active = False
        ended = _end_sessions(session, user.id, now)
        tokens = session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        revoked = int(getattr(tokens, "rowcount", 0) or 0)
        audit.record(
            session, actor.username, "user.deactivate", "user", user.id, sessions=ended, tokens=revoked
        )
        return _user_public(user)


def reactivate_user(sessions: sessionmaker[Session], actor: Principal, username: str) -> UserPublic:
    """Let a user sign in again (their old tokens stay revoked: issue new ones)."""
    _require_manager(actor)
    with transaction(sessions) as session:
        user = _user(session, username)
        user.is_active = True
        audit.record(session, actor.username, "user.reactivate", "user", user.id)
        return _user_public(user)


def set_password(sessions: sessionmaker[Session], actor: Principal, username: str, password: str) -> None:
    """Reset a user's password (an admin's verb); every session of theirs ends."""
    _require_manager(actor)
    check_password(password, username)
    with transaction(sessions) as session:
        user = _user(session, username)
        user.password_hash = hash_password(password)
        ended = _end_sessions(session, user.id, utcnow())
        audit.record(session, actor.username, "user.password", "user", user.id, sessions=ended)


def change_own_password(stores: Stores, actor: Principal, current: str, new: str) -> SignIn:
    """A user changes their own password: every session of theirs ends, and a fresh one is handed back."""
    check_password(new, actor.username, "new_password")
    with transaction(stores.sessions) as session:
        user = session.get(User, actor.user_id) if actor.user_id is not None else None
        if user is None or not user.is_active:
            raise AppError(CoreErrorCode.UNAUTHENTICATED, "sign in to change your password", 401)
        if not verify_password(user.password_hash, current):
            raise AppError(
                CoreErrorCode.FORBIDDEN, "the current password is wrong", 403, {"field": "current_password"}
            )
        user.password_hash = hash_password(new)
        now = utcnow()
        ended = _end_sessions(session, user.id, now)
        audit.record(session, actor.username, "user.password", "user", user.id, sessions=ended, own=True)
        session_id = _start_session(session, stores, user, "", now)
        return SignIn(principal_for(user), session_id)


def set_locale(sessions: sessionmaker[Session], actor: Principal, locale: str) -> None:
    _check_locale(locale)
    with transaction(sessions) as session:
        user = session.get(User, actor.user_id)
        if user is None:
            raise AppError(CoreErrorCode.NOT_FOUND, "user not found", 404)
        user.locale = locale
        audit.record(session, actor.username, "user.locale", "user", user.id, locale=locale)


def user_exists(sessions: sessionmaker[Session], username: str) -> bool:
    with sessions() as session:
        return session.scalar(select(User.id).where(User.username == username)) is not None


# --- sign-in and sessions ---------------------------------------------------------------------------


def _start_session(session: Session, stores: Stores, user: User, client: str, now: datetime) -> str:
    # The user's sessions past their lifetime are dead whatever else they say: drop them as we go.
    session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=hash_token(session_id),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=stores.settings.session_max_age_s),
            client=client[:64],
        )
    )
    return session_id


def authenticate(stores: Stores, username: str, password: str, client: str = "") -> SignIn:
    """Check a password and open a session. Throttled per account and per client (429); an unknown user
    costs the same time as a wrong password, so timing does not tell which names exist."""
    now = utcnow()
    actor = (username or "?")[:ACTOR_LENGTH]
    with transaction(stores.sessions) as session:
        wait = throttle.retry_after(session, stores.settings, username, client, now)
        if wait:
            audit.record(session, actor, "login.throttled", "user", "", client=client[:64])
        else:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                verify_nobody(password)
            if user is None or not verify_password(user.password_hash, password) or not user.is_active:
                throttle.record_failure(session, stores.settings, username, client, now)
                audit.record(session, actor, "login.failed", "user", "", client=client[:64])
            else:
                throttle.forget_failures(session, username)
                audit.record(session, user.username, "login", "user", user.id, client=client[:64])
                return SignIn(principal_for(user), _start_session(session, stores, user, client, now))
    if wait:
        raise throttle.Throttled(wait)
    raise AppError(CoreErrorCode.UNAUTHENTICATED, "wrong username or password", 401)


def end_session(stores: Stores, session_id: str) -> None:
    """Sign out: the session's row is revoked, so its cookie is worth nothing from now on."""
    with transaction(stores.sessions) as session:
        row = session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(session_id)))
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            user = session.get(User, row.user_id)
            audit.record(session, user.username if user else "?", "logout", "user", row.user_id)


# --- API tokens -------------------------------------------------------------------------------------


def _scopes(role: Role, scopes: list[str] | None) -> list[str] | None:
    if scopes is None:
        return None
    known = {p.value for p in Permission}
    for scope in scopes:
        if scope not in known:
            raise _invalid(
                f"unknown scope {scope!r}; scopes are permissions such as 'customers:read'", "scopes"
            )
        if Permission(scope) not in ROLE_PERMISSIONS[role]:
            raise _invalid(f"scope {scope!r} is not a permission of the user's role {role.value!r}", "scopes")
    return sorted(set(scopes))


def issue_api_token(
    sessions: sessionmaker[Session],
    actor: Principal,
    username: str,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new API token for ``username``; only its hash is stored, so the token is shown this once.

    ``scopes`` (permissions, within the user's role) limit what it may do; None lets it do what its user may.
    """
    _require_manager(actor)
    name = name.strip()
    if not name or len(name) > 128:
        raise _invalid("a token needs a name of 1 to 128 characters", "name")
    if expires_at is not None:
        expires_at = as_utc(expires_at)
        if expires_at <= utcnow():
            raise _invalid("expires_at must be in the future", "expires_at")
    token, token_hash = new_token()
    with transaction(sessions) as session:
        user = _user(session, username)
        kept = _scopes(Role(user.role), scopes)
        row = ApiToken(user_id=user.id, name=name, token_hash=token_hash, scopes=kept, expires_at=expires_at)
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor.username,
            "token.issue",
            "user",
            user.id,
            token_id=row.id,
            name=name,
            scopes=kept,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    return token


def list_api_tokens(
    sessions: sessionmaker[Session], actor: Principal, username: str | None = None
) -> list[TokenPublic]:
    _require_manager(actor)
    query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    with sessions() as session:
        if username is not None:
            query = query.where(User.id == _user(session, username).id)
        return [
            TokenPublic(
                id=t.id,
                username=owner,
                name=t.name,
                scopes=t.scopes,
                created_at=t.created_at,
                expires_at=t.expires_at,
                last_used_at=t.last_used_at,
                revoked_at=t.revoked_at,
            )
            for t, owner in session.execute(query)
        ]


def revoke_api_token(sessions: sessionmaker[Session], actor: Principal, token_id: int) -> None:
    _require_manager(actor)
    with transaction(sessions) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise AppError(CoreErrorCode.NOT_FOUND, f"API token {token_id} not found", 404, {"field": "id"})
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(session, actor.username, "token.revoke", "user", row.user_id, token_id=row.id)
