"""Shared fixtures: real SQLite + DuckDB stores in a temp dir, PostgreSQL when CI provides one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tagora.app import create_app
from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.settings import Settings, get_settings

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ONLINE_RETAIL = SHARED_DATA / "online-retail" / "online_retail_2010-12-01_2011-09-30.csv.gz"
REQUIRE_SERVICES = os.environ.get("TAGORA_TEST_REQUIRE_SERVICES") == "1"
PASSWORD = "correct-horse-battery"


def need(condition: bool, reason: str) -> None:
    """Skip when a service or data set is missing, but fail in CI where everything must be present."""
    if not condition:
        if REQUIRE_SERVICES:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


def make_settings(home: Path, **overrides: object) -> Settings:
    return Settings(env="test", home=home, secret_key="test-secret-key-0123456789", **overrides)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture
def stores(settings: Settings) -> Iterator[Stores]:
    s = open_stores(settings)
    yield s
    s.close()


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("TAGORA_TEST_POSTGRES_URL", "")
    need(bool(url), "TAGORA_TEST_POSTGRES_URL is not set")
    return url


@pytest.fixture
def pg_stores(postgres_url: str, tmp_path: Path) -> Iterator[Stores]:
    """Stores whose metadata database is a fresh schema on the CI PostgreSQL, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"  # generated here, never user input
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    # A home of its own: beside the ``stores`` fixture's, its warehouse would belong to another store.
    stores = open_stores(make_settings(tmp_path / "pg-home", database_url=url))
    try:
        yield stores
    finally:
        stores.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def online_retail_path() -> Path:
    need(ONLINE_RETAIL.exists(), f"{ONLINE_RETAIL} is missing")
    return ONLINE_RETAIL


@pytest.fixture
def users(stores: Stores) -> dict[str, str]:
    """One user per role; returns role -> username (password is PASSWORD)."""
    for role in ("admin", "marketer", "sales", "analyst"):
        core_logic.create_user(stores.sessions, CLI_OPERATOR, f"{role}1", PASSWORD, role)
    return {role: f"{role}1" for role in ("admin", "marketer", "sales", "analyst")}


@pytest.fixture
def client(settings: Settings, stores: Stores) -> Iterator[TestClient]:
    with TestClient(create_app(settings, stores)) as c:
        yield c


def login(client: TestClient, username: str) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """TAGORA_* pointing the ``tagora`` command at fresh stores under ``tmp_path``."""
    monkeypatch.setenv("TAGORA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TAGORA_ENV", "test")
    monkeypatch.setenv("TAGORA_SECRET_KEY", "cli-test-secret-0123456789")
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def run_cli(*args: str) -> str:
    """Run ``tagora ARGS`` in-process; it must succeed; returns its standard output."""
    from tagora.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout
