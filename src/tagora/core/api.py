"""Sign-in, sign-out and the caller's identity; users and API tokens for those who manage them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response

from tagora.core import logic
from tagora.core.auth import SESSION_KEY, Principal, current_principal
from tagora.core.deps import get_stores
from tagora.core.schemas import (
    LoginIn,
    MePublic,
    PasswordChange,
    PasswordReset,
    TokenCreate,
    TokenIssued,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from tagora.core.stores import Stores
from tagora.core.throttle import Throttled

router = APIRouter(prefix="/api")
StoresDep = Annotated[Stores, Depends(get_stores)]
Caller = Annotated[Principal, Depends(current_principal)]
# Row ids are 32-bit integers on PostgreSQL (64-bit on SQLite): a larger one is a 422, not a driver error.
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy uvicorn's --forwarded-allow-ips sets it)."""
    return request.client.host if request.client else ""


def throttled_response(exc: Throttled) -> JSONResponse:
    return JSONResponse(exc.to_dict(), 429, headers={"Retry-After": str(exc.retry_after_s)})


def start_cookie_session(request: Request, sign_in: logic.SignIn) -> None:
    request.session.clear()  # a fresh cookie on sign-in: nothing carried over, no fixation
    request.session[SESSION_KEY] = sign_in.session_id


def _me(p: Principal) -> MePublic:
    return MePublic(
        username=p.username, role=p.role.value, permissions=sorted(p.permissions), locale=p.locale
    )


@router.post(
    "/auth/login",
    tags=["auth"],
    response_model=MePublic,
    responses={429: {"description": "too many failed sign-ins"}},
)
def login(request: Request, body: LoginIn, stores: StoresDep) -> MePublic | JSONResponse:
    try:
        sign_in = logic.authenticate(stores, body.username, body.password, client_address(request))
    except Throttled as exc:
        return throttled_response(exc)
    start_cookie_session(request, sign_in)
    return _me(sign_in.principal)


@router.post("/auth/logout", tags=["auth"], status_code=204)
def logout(request: Request, stores: StoresDep) -> Response:
    session_id = request.session.get(SESSION_KEY)
    if isinstance(session_id, str):
        logic.end_session(stores, session_id)
    request.session.clear()
    return Response(status_code=204)


@router.get("/auth/me", tags=["auth"], response_model=MePublic)
def me(principal: Caller) -> MePublic:
    return _me(principal)


@router.post("/auth/password", tags=["auth"], response_model=MePublic)
def change_password(request: Request, body: PasswordChange, stores: StoresDep, principal: Caller) -> MePublic:
    """Change your own password: every session of yours ends; this client gets a fresh one."""
    sign_in = logic.change_own_password(stores, principal, body.current_password, body.new_password)
    if SESSION_KEY in request.session:
        start_cookie_session(request, sign_in)
    return _me(sign_in.principal)


@router.get("/users", tags=["users"], response_model=list[UserPublic])
def list_users(stores: StoresDep, principal: Caller) -> list[UserPublic]:
    return logic.list_users(stores.sessions, principal)


@router.post("/users", tags=["users"], response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, stores: StoresDep, principal: Caller) -> UserPublic:
    logic.create_user(
        stores.sessions, principal, body.username, body.password, body.role, body.display_name, body.locale
    )
    return logic.get_user(stores.sessions, principal, body.username.strip())


@router.patch("/users/{username}", tags=["users"], response_model=UserPublic)
def update_user(username: str, body: UserUpdate, stores: StoresDep, principal: Caller) -> UserPublic:
    """Change a user's role, or deactivate (ending their sessions and tokens) or reactivate them."""
    if body.role is not None:
        logic.set_role(stores.sessions, principal, username, body.role)
    if body.is_active is False:
        logic.deactivate_user(stores.sessions, principal, username)
    elif body.is_active is True:
        logic.reactivate_user(stores.sessions, principal, username)
    return logic.get_user(stores.sessions, principal, username)


@router.post("/users/{username}/password", tags=["users"], status_code=204)
def reset_password(username: str, body: PasswordReset, stores: StoresDep, principal: Caller) -> Response:
    """Set another user's password; their sessions end."""
    logic.set_password(stores.sessions, principal, username, body.password)
    return Response(status_code=204)


@router.get("/tokens", tags=["users"], response_model=list[TokenPublic])
def list_tokens(stores: StoresDep, principal: Caller, username: str | None = None) -> list[TokenPublic]:
    return logic.list_api_tokens(stores.sessions, principal, username)


@router.post("/tokens", tags=["users"], response_model=TokenIssued, status_code=201)
def issue_token(body: TokenCreate, stores: StoresDep, principal: Caller) -> TokenIssued:
    token = logic.issue_api_token(
        stores.sessions, principal, body.username, body.name, body.scopes, body.expires_at
    )
    return TokenIssued(token=token, username=body.username, name=body.name.strip())


@router.delete("/tokens/{token_id}", tags=["users"], status_code=204)
def revoke_token(token_id: TokenId, stores: StoresDep, principal: Caller) -> Response:
    logic.revoke_api_token(stores.sessions, principal, token_id)
    return Response(status_code=204)
