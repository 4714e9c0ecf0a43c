"""No known secret: a placeholder is refused everywhere, development keeps a random one in its home, and a
server reachable from other machines needs a configured secret of at least 32 bytes."""

from __future__ import annotations

import json
import secrets
import stat
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from pydantic import ValidationError
from typer.testing import CliRunner

from tagora.app import create_app
from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import open_stores
from tagora.settings import SECRET_FILE, Settings, get_settings
from tests.conftest import PASSWORD


def _cookie_signed_with(secret: str, session: dict[str, object]) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it: what an attacker would forge."""
    data = b64encode(json.dumps(session).encode())
    return TimestampSigner(secret).sign(data).decode()


def test_a_cookie_forged_with_the_old_built_in_secret_signs_nobody_in(tmp_path: Path) -> None:
    settings = Settings(env="development", home=tmp_path / "home")
    stores = open_stores(settings)
    try:
        core_logic.create_user(stores.sessions, CLI_OPERATOR, "boss", PASSWORD, "admin")
        with TestClient(create_app(settings, stores)) as client:
            forged = _cookie_signed_with("development-only-secret", {"user_id": 1})
            client.cookies.set("tagora_session", forged)
            response = client.get("/api/auth/me")
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthenticated"
    finally:
        stores.close()


@pytest.mark.parametrize("env", ["development", "test", "production"])
@pytest.mark.parametrize("secret", ["development-only-secret", "changethis", "CHANGE-ME"])
def test_a_placeholder_secret_is_refused_in_every_mode(env: str, secret: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="TAGORA_SECRET_KEY is a well-known placeholder"):
        Settings(env=env, home=tmp_path, secret_key=secret)


@pytest.mark.parametrize("env", ["test", "production"])
def test_outside_development_a_secret_must_be_configured(env: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=f"TAGORA_SECRET_KEY must be set when TAGORA_ENV={env}"):
        Settings(env=env, home=tmp_path)
    assert not (tmp_path / SECRET_FILE).exists()


def test_development_makes_a_random_secret_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = Settings(env="development", home=tmp_path / "home")
    path = tmp_path / "home" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = first.secret_key.get_secret_value()
    assert len(secret) >= 32 and secret == path.read_text().strip()
    assert Settings(env="development", home=tmp_path / "home").secret_key.get_secret_value() == secret
    other = Settings(env="development", home=tmp_path / "elsewhere").secret_key.get_secret_value()
    assert other != secret
    assert not first.secret_configured


def test_a_configured_secret_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    settings = Settings(env="development", home=tmp_path, secret_key="x" * 40)
    assert settings.secret_key.get_secret_value() == "x" * 40 and settings.secret_configured
    assert not (tmp_path / SECRET_FILE).exists()


def test_sessions_signed_before_a_restart_still_sign_in_after_it(tmp_path: Path) -> None:
    settings = Settings(env="development", home=tmp_path / "home")
    stores = open_stores(settings)
    try:
        core_logic.create_user(stores.sessions, CLI_OPERATOR, "boss", PASSWORD, "admin")
        with TestClient(create_app(settings, stores)) as client:
            client.post("/api/auth/login", json={"username": "boss", "password": PASSWORD})
            cookie = client.cookies["tagora_session"]
        restarted = Settings(env="development", home=tmp_path / "home")
        with TestClient(create_app(restarted, stores)) as client:
            client.cookies.set("tagora_session", cookie)
            assert client.get("/api/auth/me").json()["username"] == "boss"
    finally:
        stores.close()


@pytest.fixture
def dev_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TAGORA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TAGORA_ENV", "development")
    monkeypatch.delenv("TAGORA_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_listening_beyond_loopback_without_a_configured_secret_refuses_to_start(
    command: str, dev_home: Path
) -> None:
    from tagora.cli import app

    result = CliRunner().invoke(app, [command, "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output
    assert "TAGORA_SECRET_KEY" in result.output
    assert not (dev_home / "tagora.db").exists()  # refused before any data was generated or served


def test_listening_beyond_loopback_with_a_short_secret_refuses_to_start(
    dev_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tagora.cli import app

    monkeypatch.setenv("TAGORA_SECRET_KEY", "short-but-not-a-placeholder")
    result = CliRunner().invoke(app, ["serve", "--host", "192.0.2.10", "--port", "1"])
    assert result.exit_code == 2
    assert "shorter than 32 bytes" in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.8.9.10"])
def test_loopback_addresses_may_use_the_generated_secret(host: str, tmp_path: Path) -> None:
    assert Settings(env="development", home=tmp_path).exposed_bind_problem(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_any_address_may_serve_with_a_configured_32_byte_secret(host: str, tmp_path: Path) -> None:
    settings = Settings(env="production", home=tmp_path, secret_key=secrets.token_urlsafe(24))
    assert len(settings.secret_key.get_secret_value()) == 32
    assert settings.exposed_bind_problem(host) is None


@pytest.mark.parametrize("secret", ["k" * 32, "ab" * 40, "0123456780123456780123456789"])
def test_a_long_secret_that_is_plainly_not_random_may_not_serve_beyond_loopback(
    secret: str, tmp_path: Path
) -> None:
    settings = Settings(env="production", home=tmp_path, secret_key=secret)
    problem = settings.exposed_bind_problem("0.0.0.0")
    assert problem is not None and ("does not look random" in problem or "shorter than" in problem)
