"""The tracking gateway: only the ``/v1`` Segment routes, on the metadata database alone.

``tagora serve`` holds the DuckDB warehouse, which one process at a time may open, so it runs as one
process. The gateway never touches the warehouse (events go to the inbox; the loader inside
``tagora serve`` moves them on), so it can run as several worker processes and use every core.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import sessionmaker

from tagora.core.db import make_engine
from tagora.core.errors import AppError
from tagora.core.http import HttpGuard
from tagora.ingest.tracking.messages import MAX_BATCH_BYTES
from tagora.ingest.tracking.schemas import TrackingSettings
from tagora.ingest.tracking.workers import run_workers
from tagora.settings import Settings, get_settings

# The gateway's production uvicorn settings (the benchmark serves its baseline with the same).
SERVER_OPTIONS: dict[str, Any] = {
    "factory": True,
    "loop": "auto",  # uvloop when installed
    "http": "auto",  # httptools when installed
    "log_level": "warning",
    "access_log": False,  # one log line per event call would cost more than the call
    "backlog": 4096,
}


def serve(app: str, host: str, port: int, workers: int) -> None:
    """Serve an app factory (an import string) as the gateway is served: one process, or ``workers``
    processes with a listening socket each (``workers.run_workers``)."""
    if workers == 1:
        import uvicorn

        uvicorn.run(app, host=host, port=port, **SERVER_OPTIONS)
    else:
        run_workers(app, host, port, workers, **SERVER_OPTIONS)


def create_gateway(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        app.state.tracking_sessions = sessionmaker(engine, expire_on_commit=False)
        # The gateway has no warehouse: its loader stays off whatever the environment says.
        app.state.tracking_settings = TrackingSettings(loader_interval_s=0)
        # Every event allocates a few dozen short-lived objects: collect the young generation less often,
        # and never rescan what start-up left behind (a few percent of CPU per event).
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        # Where the inbox commits in a writer thread (PostgreSQL; SQLite commits in the event loop), that
        # thread needs the GIL between its database calls: hand the GIL over within 1 ms rather than 5.
        sys.setswitchinterval(0.001)
        yield
        engine.dispose()

    # No docs here: the main app documents the /v1 routes (with its vendored assets, behind a login).
    app = FastAPI(
        title="Tagora tracking gateway",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    from tagora.ingest.tracking.api import router

    app.include_router(router)
    app.add_middleware(
        HttpGuard,
        body_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        exempt=("/v1/",),
        exempt_limit=MAX_BATCH_BYTES,
    )
    return app
