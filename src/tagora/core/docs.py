"""The API documentation pages, served from the vendored Swagger UI and ReDoc (nothing from a CDN, so they
work offline and under a Content-Security-Policy without inline script). In production, only for signed-in
users: the document maps every route an attacker could try."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tagora.core.auth import current_principal
from tagora.core.errors import AppError
from tagora.settings import Settings

VENDOR = "/static/vendor"
OPENAPI_URL = "/openapi.json"

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tagora API</title>
<link rel="stylesheet" href="{VENDOR}/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{OPENAPI_URL}"></div>
<script src="{VENDOR}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/js/docs.js"></script>
</body>
</html>
"""

REDOC_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tagora API</title>
</head>
<body>
<redoc spec-url="{OPENAPI_URL}"></redoc>
<script src="{VENDOR}/redoc/redoc.standalone.js"></script>
</body>
</html>
"""


def add_docs(app: FastAPI, settings: Settings) -> None:
    """Create the app with ``docs_url=redoc_url=openapi_url=None`` and call this instead."""
    private = settings.env == "production"
    signed_in = [Depends(current_principal)] if private else []

    def page(html: str, request: Request) -> Response:
        if private:
            try:
                current_principal(request)
            except AppError:  # a person at a browser: to the sign-in page, and back here afterwards
                return RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303)
        return HTMLResponse(html)

    @app.get(OPENAPI_URL, include_in_schema=False, dependencies=signed_in)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> Response:
        return page(SWAGGER_PAGE, request)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> Response:
        return page(REDOC_PAGE, request)
