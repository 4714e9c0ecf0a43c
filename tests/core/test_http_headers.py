"""Security headers on every response, the API docs from vendored assets (behind a login in production),
and the same-origin rule for writes a browser sends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tagora.app import create_app
from tagora.core import logic as core_logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.settings import Settings
from tests.conftest import PASSWORD, login, make_settings

HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")
EVIL = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


def _assert_secure(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name in HEADERS:
        assert name in headers, name
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src is not None and "unsafe-inline" not in script_src.group(1)
    assert "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/login", 200),
        ("/health", 200),
        ("/api/auth/me", 401),
        ("/api/no-such-thing", 404),
        ("/customers", 303),
    ],
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == status
    _assert_secure(response)
    assert "strict-transport-security" not in response.headers  # plain http: HSTS would mean nothing


def test_a_refusal_made_before_the_app_carries_them_too(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login", content=b"[" * 10_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    _assert_secure(response)


def test_hsts_is_sent_over_https(settings: Settings, stores: Stores) -> None:
    with TestClient(create_app(settings, stores), base_url="https://testserver") as client:
        response = client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    _assert_secure(response)


@pytest.mark.parametrize(("page", "assets"), [("/docs", 3), ("/redoc", 1)])
def test_the_api_docs_load_nothing_from_another_host(client: TestClient, page: str, assets: int) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert re.search(r"https?://", response.text) is None
    assert "<script>" not in response.text  # no inline script: the policy would block it
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text)
    assert len(urls) == assets
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 300, url
    assert client.get("/openapi.json").json()["info"]["title"] == "Tagora"


@pytest.fixture
def production(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(env="production", home=tmp_path / "home", secret_key="p" * 40)
    stores = open_stores(settings)
    core_logic.create_user(stores.sessions, CLI_OPERATOR, "admin1", PASSWORD, "admin")
    try:
        # The production cookie is Secure: the client speaks https, as a browser behind the TLS proxy does.
        with TestClient(create_app(settings, stores), base_url="https://testserver") as client:
            yield client
    finally:
        stores.close()


def test_in_production_the_docs_need_a_login(production: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = production.get(page, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next=%2F{page[1:]}"
    response = production.get("/openapi.json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    login(production, "admin1")
    assert production.get("/docs").status_code == 200
    assert production.get("/redoc").status_code == 200
    assert production.get("/openapi.json").json()["paths"]


def test_outside_production_the_docs_are_open(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_a_cross_site_post_with_the_session_cookie_is_refused(
    client: TestClient, users: dict[str, str]
) -> None:
    login(client, users["admin"])
    response = client.post("/api/auth/logout", headers=EVIL)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "cross_site"
    assert error["data"] == {"origin": "https://evil.example", "sec_fetch_site": "cross-site"}
    assert client.get("/api/auth/me").status_code == 200  # still signed in: the logout never ran


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},  # a browser without fetch metadata
        {"Origin": "null"},  # a sandboxed frame or a data: page
        {"Sec-Fetch-Site": "same-site"},  # a sibling host name is not Tagora's own origin
        {"Origin": "http://testserver.evil.example", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_other_origins_may_not_write_by_cookie(
    client: TestClient, users: dict[str, str], headers: dict[str, str]
) -> None:
    login(client, users["admin"])
    for method, path in (
        ("POST", "/api/auth/logout"),
        ("PATCH", "/api/segments/x"),
        ("DELETE", "/api/tokens/1"),
    ):
        assert client.request(method, path, headers=headers).status_code == 403, (method, path)
    assert client.post("/logout", data={"csrf": "x"}, headers=headers).status_code == 403  # a console form


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a script or the test client: no browser said where it came from
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "none"},  # the user typed it
        {"Origin": "http://testserver"},  # a browser without fetch metadata, on this origin
    ],
)
def test_writes_from_tagoras_own_origin_pass(
    client: TestClient, users: dict[str, str], headers: dict[str, str]
) -> None:
    login(client, users["admin"])
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_reads_from_another_site_are_not_refused(client: TestClient, users: dict[str, str]) -> None:
    login(client, users["admin"])
    assert client.get("/api/auth/me", headers=EVIL).status_code == 200


def test_bearer_token_writes_and_tracking_calls_are_not_subject_to_the_rule(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    token = core_logic.issue_api_token(stores.sessions, CLI_OPERATOR, users["admin"], "script")
    response = client.post(
        "/api/segments/count",
        json={"expression": {"all": []}},
        headers={**EVIL, "Authorization": f"Bearer {token}"},
    )
    assert response.status_code != 403
    # Segment's analytics.js posts from the customer's own web site, with a write key.
    assert client.post("/v1/track", json={}, headers=EVIL).status_code == 401


def test_trusted_origins_may_write_by_cookie(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", trusted_origins=["https://crm.example.com"])
    stores = open_stores(settings)
    core_logic.create_user(stores.sessions, CLI_OPERATOR, "admin1", PASSWORD, "admin")
    try:
        with TestClient(create_app(settings, stores)) as client:
            login(client, "admin1")
            trusted = {"Origin": "https://crm.example.com", "Sec-Fetch-Site": "same-site"}
            assert client.post("/api/auth/logout", headers=trusted).status_code == 204
    finally:
        stores.close()
