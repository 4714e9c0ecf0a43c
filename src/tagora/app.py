"""FastAPI application factory: stores, middleware, error rendering and every area's router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from tagora.core.docs import add_docs
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.http import HttpGuard
from tagora.core.openapi import document_errors
from tagora.core.stores import Stores, open_stores
from tagora.ingest.tracking.messages import MAX_BATCH_BYTES
from tagora.settings import Settings, get_settings


def _field_of(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    return ".".join(loc) or "body"


HTTP_CODES = {
    401: CoreErrorCode.UNAUTHENTICATED,
    403: CoreErrorCode.FORBIDDEN,
    404: CoreErrorCode.NOT_FOUND,
    405: "method_not_allowed",
    409: CoreErrorCode.CONFLICT,
}


def create_app(settings: Settings | None = None, stores: Stores | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = stores is None
        app.state.stores = stores or open_stores(settings)
        yield
        if own:
            app.state.stores.close()

    # The docs pages and document come from add_docs: vendored assets, and a login in production.
    app = FastAPI(
        title="Tagora", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    add_docs(app, settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie="tagora_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.env == "production",
    )

    from tagora.console.pages import console_error, is_api

    @app.exception_handler(AppError)
    def _app_error(request: Request, exc: AppError) -> Response:
        if not is_api(request.url.path):
            return console_error(request, exc)  # a page, not JSON, for a console user
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": _field_of(e), "message": e.get("msg", "")} for e in exc.errors()]
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        error = AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"errors": errors})
        return _app_error(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # The framework's own 404/405 (an unknown path, a wrong method) in the error shape; a console
        # redirect to the login page (303, or 401 with HX-Redirect) stays what it is.
        if exc.status_code < 400 or (exc.headers or {}).get("HX-Redirect"):
            return await http_exception_handler(request, exc)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        error = AppError(code, str(exc.detail), exc.status_code, {"path": request.url.path})
        response = _app_error(request, error)
        response.headers.update(exc.headers or {})
        return response

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    from tagora.audiences.api import router as audiences_router
    from tagora.console.admin_pages import router as admin_pages_router
    from tagora.console.customer_panels import router as customer_panels_router
    from tagora.console.identity_pages import router as identity_pages_router
    from tagora.console.job_pages import router as job_pages_router
    from tagora.console.model_pages import router as model_pages_router
    from tagora.console.pages import router as console_router
    from tagora.console.segment_pages import router as segment_pages_router
    from tagora.console.tag_pages import router as tag_pages_router
    from tagora.core.api import router as core_router
    from tagora.core.audit_api import router as audit_router
    from tagora.core.jobs_api import router as jobs_router
    from tagora.identity.api import router as identity_router
    from tagora.ingest.tracking.api import router as tracking_router
    from tagora.ingest.tracking.keys_api import router as tracking_keys_router
    from tagora.profiles.api import router as profiles_router
    from tagora.recs.api import router as recs_router
    from tagora.scoring.api import router as scoring_router
    from tagora.tags.api import router as tags_router

    app.include_router(core_router)
    app.include_router(jobs_router)
    app.include_router(audit_router)
    app.include_router(profiles_router)
    app.include_router(identity_router)
    app.include_router(audiences_router)
    app.include_router(tracking_router)
    app.include_router(tracking_keys_router)
    app.include_router(tags_router)
    app.include_router(scoring_router)
    app.include_router(recs_router)
    app.include_router(customer_panels_router)
    app.include_router(identity_pages_router)
    app.include_router(segment_pages_router)
    app.include_router(model_pages_router)
    app.include_router(admin_pages_router)
    app.include_router(job_pages_router)
    app.include_router(tag_pages_router)
    app.include_router(console_router)
    document_errors(app)
    # Added last, so it runs first: before sessions, parsing and authentication see a request.
    app.add_middleware(
        HttpGuard,
        body_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        exempt=tuple(route.path for route in tracking_router.routes if isinstance(route, APIRoute)),
        exempt_limit=MAX_BATCH_BYTES,
        trusted_origins=settings.trusted_origins,
    )
    return app
