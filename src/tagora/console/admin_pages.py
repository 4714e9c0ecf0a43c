"""Console administration: users (create, role, deactivate, reset password), API tokens and tracking write
keys, for those who manage users; and each user's own password."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tagora.console.pages import StoresDep, User, check_csrf, console_user, show
from tagora.core import logic as core_logic
from tagora.core.api import TokenId, start_cookie_session
from tagora.core.auth import Permission, Principal, Role, ensure
from tagora.core.clock import utcnow
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.ingest import facade as ingest

router = APIRouter(include_in_schema=False)


def manager(principal: Annotated[Principal, Depends(console_user)]) -> Principal:
    ensure(principal, Permission.USERS_MANAGE)
    return principal


Manager = Annotated[Principal, Depends(manager)]
CsrfField = Annotated[str, Form()]


def _users_page(
    request: Request, stores: Stores, principal: Principal, status_code: int = 200, **context: Any
) -> HTMLResponse:
    users = core_logic.list_users(stores.sessions, principal)
    return show(request, "admin_users.html", principal, status_code, users=users, roles=list(Role), **context)


def _tokens_page(
    request: Request, stores: Stores, principal: Principal, status_code: int = 200, **context: Any
) -> HTMLResponse:
    tokens = core_logic.list_api_tokens(stores.sessions, principal)
    users = [u for u in core_logic.list_users(stores.sessions, principal) if u.is_active]
    return show(
        request,
        "admin_tokens.html",
        principal,
        status_code,
        tokens=tokens,
        users=users,
        permissions=[p.value for p in Permission],
        now=utcnow(),
        **context,
    )


def _keys_page(
    request: Request, stores: Stores, principal: Principal, status_code: int = 200, **context: Any
) -> HTMLResponse:
    keys = ingest.list_write_keys(stores, principal)
    return show(request, "admin_keys.html", principal, status_code, keys=keys, **context)


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)  # post/redirect/get: a reload does not post again


# --- users ------------------------------------------------------------------------------------------


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, stores: StoresDep, principal: Manager) -> Response:
    return _users_page(request, stores, principal)


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    stores: StoresDep,
    principal: Manager,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    role: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form(max_length=128)] = "",
    csrf: CsrfField = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        core_logic.create_user(stores.sessions, principal, username, password, role, display_name)
    except AppError as exc:
        form = {"username": username, "role": role, "display_name": display_name}
        return _users_page(request, stores, principal, exc.status, error=exc, form=form)
    return _back("/admin/users")


@router.post("/admin/users/{username}/role", response_class=HTMLResponse)
def set_role(
    request: Request,
    stores: StoresDep,
    principal: Manager,
    username: str,
    role: Annotated[str, Form()] = "",
    csrf: CsrfField = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        core_logic.set_role(stores.sessions, principal, username, role)
    except AppError as exc:
        return _users_page(request, stores, principal, exc.status, error=exc)
    return _back("/admin/users")


@router.post("/admin/users/{username}/active", response_class=HTMLResponse)
def set_active(
    request: Request,
    stores: StoresDep,
    principal: Manager,
    username: str,
    active: Annotated[bool, Form()] = False,
    csrf: CsrfField = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        verb = core_logic.reactivate_user if active else core_logic.deactivate_user
        verb(stores.sessions, principal, username)
    except AppError as exc:
        return _users_page(request, stores, principal, exc.status, error=exc)
    return _back("/admin/users")


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    stores: StoresDep,
    principal: Manager,
    username: str,
    password: Annotated[str, Form(max_length=4096)] = "",
    csrf: CsrfField = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        core_logic.set_password(stores.sessions, principal, username, password)
    except AppError as exc:
        return _users_page(request, stores, principal, exc.status, error=exc)
    return _users_page(request, stores, principal, done=username)


# --- API tokens -------------------------------------------------------------------------------------


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, stores: StoresDep, principal: Manager) -> Response:
    return _tokens_page(request, stores, principal)


@router.post("/admin/tokens", response_class=HTMLResponse)
def issue_token(
    request: Request,
    stores: StoresDep,
    principal: Manager,
    username: Annotated[str, Form()] = "",
    name: Annotated[str, Form(max_length=128)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    expires_days: Annotated[int | None, Form(ge=1, le=3650)] = None,
    csrf: CsrfField = "",
) -> Response:
    """The token is shown on the page this once (no redirect: it is not stored anywhere to show again)."""
    check_csrf(request, csrf)
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    try:
        token = core_logic.issue_api_token(
            stores.sessions, principal, username, name, scopes or None, expires_at
        )
    except AppError as exc:
        return _tokens_page(request, stores, principal, exc.status, error=exc)
    return _tokens_page(
        request, stores, principal, issued={"name": name, "username": username, "token": token}
    )


@router.post("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(
    request: Request, stores: StoresDep, principal: Manager, token_id: TokenId, csrf: CsrfField = ""
) -> Response:
    check_csrf(request, csrf)
    core_logic.revoke_api_token(stores.sessions, principal, token_id)
    return _back("/admin/tokens")


# --- tracking write keys ----------------------------------------------------------------------------


@router.get("/admin/keys", response_class=HTMLResponse)
def keys_page(request: Request, stores: StoresDep, principal: Manager) -> Response:
    return _keys_page(request, stores, principal)


@router.post("/admin/keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    stores: StoresDep,
    principal: Manager,
    name: Annotated[str, Form(max_length=128)] = "",
    csrf: CsrfField = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        key = ingest.create_write_key(stores, principal, name)
    except AppError as exc:
        return _keys_page(request, stores, principal, exc.status, error=exc)
    return _keys_page(request, stores, principal, issued={"name": name.strip(), "key": key})


@router.post("/admin/keys/{name}/revoke", response_class=HTMLResponse)
def revoke_key(
    request: Request, stores: StoresDep, principal: Manager, name: str, csrf: CsrfField = ""
) -> Response:
    check_csrf(request, csrf)
    ingest.revoke_write_key(stores, principal, name)
    return _back("/admin/keys")


# --- one's own account ------------------------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, principal: User) -> Response:
    return show(request, "account.html", principal, permissions=sorted(principal.permissions))


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    stores: StoresDep,
    principal: User,
    current_password: Annotated[str, Form(max_length=4096)] = "",
    new_password: Annotated[str, Form(max_length=4096)] = "",
    csrf: CsrfField = "",
) -> Response:
    """Your other sessions end; this browser gets a fresh session."""
    check_csrf(request, csrf)
    permissions = sorted(principal.permissions)
    try:
        sign_in = core_logic.change_own_password(stores, principal, current_password, new_password)
    except AppError as exc:
        return show(request, "account.html", principal, exc.status, permissions=permissions, error=exc)
    start_cookie_session(request, sign_in)
    return show(request, "account.html", sign_in.principal, permissions=permissions, changed=True)
