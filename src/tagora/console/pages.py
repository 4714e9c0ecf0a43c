"""Console pages (server-rendered Jinja2 + HTMX): login, dashboard, customer list and customer 360."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from tagora.console.i18n import negotiate, supported
from tagora.console.rendering import render
from tagora.core import logic as core_logic
from tagora.core.api import client_address, start_cookie_session
from tagora.core.auth import SESSION_KEY, Permission, Principal, current_principal
from tagora.core.deps import get_stores
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.stores import Stores
from tagora.core.throttle import Throttled
from tagora.profiles import facade
from tagora.profiles import logic as profiles_logic

router = APIRouter(include_in_schema=False)
STATIC = StaticFiles(directory=Path(__file__).parent / "static")
PAGE_SIZE = 20
TIMELINE_PAGE_SIZE = 20
StoresDep = Annotated[Stores, Depends(get_stores)]


def safe_next(target: str | None) -> str:
    """Only same-site paths, so ``?next=`` cannot send a user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_redirect(request: Request) -> HTTPException:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/login" if here == "/" else "/login?" + urlencode({"next": here})
    if request.headers.get("hx-request"):
        # htmx follows an HX-Redirect header with a full page load instead of swapping the login page in.
        return HTTPException(401, "sign in", headers={"HX-Redirect": url})
    return HTTPException(303, "sign in", headers={"Location": url})


def console_user(request: Request) -> Principal:
    """The signed-in user; a request without a valid session is sent to the login page."""
    try:
        return current_principal(request)
    except AppError as exc:
        if exc.status != 401:
            raise
        raise _login_redirect(request) from exc


def customer_reader(principal: Annotated[Principal, Depends(console_user)]) -> Principal:
    if not principal.can(Permission.CUSTOMERS_READ):
        raise AppError(CoreErrorCode.FORBIDDEN, "you may not read customers", 403)
    return principal


User = Annotated[Principal, Depends(console_user)]
Reader = Annotated[Principal, Depends(customer_reader)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, token: str) -> None:
    expected = request.session.get("csrf") or ""
    if not token or not secrets.compare_digest(str(expected), token):
        raise AppError(CoreErrorCode.FORBIDDEN, "the form expired; reload the page and try again", 403)


def anonymous_locale(request: Request) -> str:
    default = request.app.state.stores.settings.default_locale
    return supported(request.session.get("locale")) or negotiate(
        request.headers.get("accept-language", ""), default
    )


def show(
    request: Request, template: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    locale = (supported(principal.locale) if principal else None) or anonymous_locale(request)
    context.update(principal=principal, csrf=csrf_token(request), next=safe_next(request.url.path))
    return render(request, template, locale, context, status_code)


def error_page(request: Request, principal: Principal | None, exc: AppError) -> HTMLResponse:
    return show(request, "error.html", principal, exc.status, error=exc)


API_PATHS = ("/api/", "/v1/", "/health", "/docs", "/redoc", "/openapi.json")


def is_api(path: str) -> bool:
    """Paths answered in JSON; the rest are console pages."""
    return path.startswith(API_PATHS)


def console_error(request: Request, exc: AppError) -> HTMLResponse:
    """The error page for an error a console page did not handle itself (a refused step, say)."""
    try:
        principal: Principal | None = current_principal(request)
    except AppError:
        principal = None
    return error_page(request, principal, exc)


def customer_url(key: str) -> str:
    return "/customers/" + quote(key, safe="")


def customer_ref(uid: int, shown_key: str) -> str:
    """What a link names a customer by: its key, unless the key is shown masked (then its uid)."""
    return str(uid) if "*" in shown_key else shown_key


@router.get("/static/{path:path}")
async def static(path: str, request: Request) -> Response:
    return await STATIC.get_response(path, request.scope)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    try:
        current_principal(request)
        return RedirectResponse(safe_next(next), status_code=303)
    except AppError:
        return show(request, "login.html", None, login_next=safe_next(next), username="", failed=False)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    stores: StoresDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        check_csrf(request, csrf)
        sign_in = core_logic.authenticate(stores, username.strip(), password, client_address(request))
    except AppError as exc:
        status = exc.status if exc.status in (403, 429) else 401
        wait = exc.retry_after_s if isinstance(exc, Throttled) else 0
        response = show(
            request,
            "login.html",
            None,
            status,
            login_next=safe_next(next),
            username=username,
            failed=True,
            retry_minutes=-(-wait // 60),
        )
        if wait:
            response.headers["Retry-After"] = str(wait)
        return response
    locale = request.session.get("locale")
    start_cookie_session(request, sign_in)
    principal = sign_in.principal
    if locale and locale != principal.locale and principal.user_id is not None:
        core_logic.set_locale(stores.sessions, principal, locale)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, stores: StoresDep, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    session_id = request.session.get(SESSION_KEY)
    if isinstance(session_id, str):
        core_logic.end_session(stores, session_id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/locale")
def switch_locale(
    request: Request,
    stores: StoresDep,
    locale: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf)
    try:
        principal: Principal | None = current_principal(request)
    except AppError:
        principal = None
    if principal is not None:
        core_logic.set_locale(stores.sessions, principal, locale)
    elif supported(locale) == locale:
        request.session["locale"] = locale
    else:
        raise AppError(CoreErrorCode.INVALID_INPUT, "locale must be 'en' or 'zh'", 422, {"field": "locale"})
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, stores: StoresDep, principal: Reader) -> Response:
    with stores.sessions() as session:
        counts = facade.store_counts(session, stores.warehouse)
    monthly = facade.monthly_revenue(stores.warehouse)
    return show(request, "dashboard.html", principal, counts=counts, monthly=monthly)


def _customer_results(stores: Stores, principal: Principal, q: str, page: int) -> dict[str, Any]:
    result = profiles_logic.search_customers(stores, principal, q, max(page, 1), PAGE_SIZE)
    pages = max(1, -(-result.total // result.page_size))
    return {
        "q": q,
        "result": result,
        "pages": pages,
        "customer_url": customer_url,
        "customer_ref": customer_ref,
    }


@router.get("/customers", response_class=HTMLResponse)
def customers(request: Request, stores: StoresDep, principal: Reader, q: str = "", page: int = 1) -> Response:
    context = _customer_results(stores, principal, q, page)
    return show(request, "customers.html", principal, **context)


@router.get("/partials/customers", response_class=HTMLResponse)
def customer_results(
    request: Request, stores: StoresDep, principal: Reader, q: str = "", page: int = 1
) -> Response:
    context = _customer_results(stores, principal, q, page)
    response = show(request, "_customer_results.html", principal, **context)
    params = {k: v for k, v in (("q", q), ("page", str(page) if page > 1 else "")) if v}
    response.headers["HX-Replace-Url"] = "/customers" + (f"?{urlencode(params)}" if params else "")
    return response


# Keys may contain "/" (a %2F is decoded before routing), hence ``:path``; the timeline route goes first.
@router.get("/customers/{key:path}/timeline", response_class=HTMLResponse)
def customer_timeline(
    request: Request, stores: StoresDep, principal: Reader, key: str, page: int = 1
) -> Response:
    try:
        timeline = profiles_logic.view_timeline(stores, principal, key, max(page, 1), TIMELINE_PAGE_SIZE)
    except AppError as exc:
        return error_page(request, principal, exc)
    return show(request, "_timeline_items.html", principal, timeline=timeline, customer_url=customer_url(key))


@router.get("/customers/{key:path}", response_class=HTMLResponse)
def customer_360(request: Request, stores: StoresDep, principal: Reader, key: str) -> Response:
    try:
        view = profiles_logic.view_customer(stores, principal, key)
        timeline = profiles_logic.view_timeline(stores, principal, key, 1, TIMELINE_PAGE_SIZE)
    except AppError as exc:
        return error_page(request, principal, exc)
    return show(
        request,
        "customer.html",
        principal,
        view=view,
        timeline=timeline,
        customer_url=customer_url(key),
        identity_url="/identity/" + quote(key, safe=""),
    )
