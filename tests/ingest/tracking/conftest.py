"""Tracking fixtures: an app whose background loader is off (tests load explicitly) and a write key."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tagora.app import create_app
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.tracking import logic
from tagora.ingest.tracking.schemas import TrackingSettings
from tagora.settings import Settings


@pytest.fixture
def write_key(stores: Stores) -> str:
    return logic.create_write_key(stores.sessions, CLI_OPERATOR, "website")


@pytest.fixture
def tracking_settings() -> TrackingSettings:
    return TrackingSettings(loader_interval_s=0, max_backlog=1000)


@pytest.fixture
def api(settings: Settings, stores: Stores, tracking_settings: TrackingSettings) -> Iterator[TestClient]:
    app = create_app(settings, stores)
    app.state.tracking_settings = tracking_settings
    with TestClient(app) as c:
        yield c


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def gzipped(body: Any) -> bytes:
    return gzip.compress(json.dumps(body).encode())
