"""Administering a live system over the API: users, API tokens and tracking write keys (users:manage)."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tagora.core.models import AuditEntry
from tagora.core.stores import Stores
from tests.conftest import PASSWORD, login


def _actions(stores: Stores) -> list[str]:
    with stores.sessions() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_admin_creates_changes_deactivates_and_resets_a_user(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    login(client, "admin1")
    created = client.post(
        "/api/users", json={"username": "lin", "password": PASSWORD, "role": "sales", "display_name": "Lin"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "sales" and created.json()["is_active"] is True
    assert "lin" in [u["username"] for u in client.get("/api/users").json()]

    changed = client.patch("/api/users/lin", json={"role": "marketer"})
    assert changed.status_code == 200 and changed.json()["role"] == "marketer"

    with TestClient(client.app) as lin:
        login(lin, "lin")
        assert lin.get("/api/auth/me").json()["role"] == "marketer"
        assert (
            client.post("/api/users/lin/password", json={"password": "a-fresh-passphrase"}).status_code == 204
        )
        assert lin.get("/api/auth/me").status_code == 401  # the reset ended Lin's session
        response = lin.post("/api/auth/login", json={"username": "lin", "password": "a-fresh-passphrase"})
        assert response.status_code == 200
        assert client.patch("/api/users/lin", json={"is_active": False}).json()["is_active"] is False
        assert lin.get("/api/auth/me").status_code == 401
    assert client.patch("/api/users/lin", json={"is_active": True}).json()["is_active"] is True
    for action in ("user.create", "user.role", "user.password", "user.deactivate", "user.reactivate"):
        assert action in _actions(stores)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "lin", "password": "short", "role": "sales"}, "password"),
        ({"username": "lin", "password": "1q2w3e4r5t6y", "role": "sales"}, "password"),
        ({"username": "lin", "password": PASSWORD, "role": "king"}, "role"),
        ({"username": " ", "password": PASSWORD, "role": "sales"}, "username"),
    ],
)
def test_creating_a_user_with_bad_input_is_a_422_naming_the_field(
    client: TestClient, users: dict[str, str], body: dict[str, str], field: str
) -> None:
    login(client, "admin1")
    response = client.post("/api/users", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["data"]["field"] == field


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(
    client: TestClient, users: dict[str, str]
) -> None:
    login(client, "admin1")
    for body in ({"is_active": False}, {"role": "sales"}):
        response = client.patch("/api/users/admin1", json=body)
        assert response.status_code == 409
        assert "last active admin" in response.json()["error"]["message"]


def test_an_unknown_user_is_a_404(client: TestClient, users: dict[str, str]) -> None:
    login(client, "admin1")
    response = client.patch("/api/users/nobody", json={"role": "sales"})
    assert response.status_code == 404
    assert response.json()["error"]["data"] == {"field": "username"}


def test_tokens_are_issued_listed_and_revoked_over_the_api(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    login(client, "admin1")
    issued = client.post(
        "/api/tokens",
        json={
            "username": "sales1",
            "name": "crm-sync",
            "scopes": ["customers:read"],
            "expires_at": "2099-01-01T00:00:00Z",
        },
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    assert token.startswith("tgr_")
    with TestClient(client.app, headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get("/api/auth/me").json()["permissions"] == ["customers:read"]
    listed = client.get("/api/tokens", params={"username": "sales1"}).json()
    assert [(t["name"], t["scopes"]) for t in listed] == [("crm-sync", ["customers:read"])]
    assert listed[0]["last_used_at"] is not None and listed[0]["expires_at"].startswith("2099-01-01")
    assert token not in str(listed)
    assert client.delete(f"/api/tokens/{listed[0]['id']}").status_code == 204
    with TestClient(client.app, headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get("/api/auth/me").status_code == 401
    assert client.get("/api/tokens").json()[0]["revoked_at"] is not None
    assert client.delete("/api/tokens/9999").status_code == 404
    for too_big in (2**31, 2**64):  # past the id column's range: a 422 naming the field, never a 500
        refused = client.delete(f"/api/tokens/{too_big}")
        assert refused.status_code == 422 and "token_id" in refused.json()["error"]["message"]
    bad = client.post("/api/tokens", json={"username": "sales1", "name": "x", "scopes": ["users:manage"]})
    assert bad.status_code == 422 and bad.json()["error"]["data"] == {"field": "scopes"}
    assert {"token.issue", "token.revoke"} <= set(_actions(stores))


def test_write_keys_are_created_listed_and_revoked_over_the_api(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    login(client, "admin1")
    created = client.post("/api/tracking/keys", json={"name": "web"})
    assert created.status_code == 201, created.text
    key = created.json()["write_key"]
    basic = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    event = {"userId": "u1", "event": "Viewed", "messageId": "m-1"}
    with TestClient(client.app) as sdk:
        assert sdk.post("/v1/track", json=event, headers=basic).status_code == 200
    assert [k["name"] for k in client.get("/api/tracking/keys").json()] == ["web"]
    assert client.post("/api/tracking/keys", json={"name": "web"}).status_code == 409
    assert client.delete("/api/tracking/keys/web").status_code == 204
    assert client.get("/api/tracking/keys").json()[0]["revoked"] is True
    with TestClient(client.app) as sdk:
        assert sdk.post("/v1/track", json={**event, "messageId": "m-2"}, headers=basic).status_code == 401
    assert {"tracking.key.create", "tracking.key.revoke"} <= set(_actions(stores))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"username": "x", "password": PASSWORD, "role": "admin"}),
        ("PATCH", "/api/users/admin1", {"role": "sales"}),
        ("POST", "/api/users/admin1/password", {"password": "taken-over-passphrase"}),
        ("GET", "/api/tokens", None),
        ("POST", "/api/tokens", {"username": "analyst1", "name": "x"}),
        ("DELETE", "/api/tokens/1", None),
        ("GET", "/api/tracking/keys", None),
        ("POST", "/api/tracking/keys", {"name": "mine"}),
        ("DELETE", "/api/tracking/keys/web", None),
    ],
)
def test_administration_is_refused_to_users_without_users_manage(
    client: TestClient, users: dict[str, str], method: str, path: str, body: object
) -> None:
    login(client, "analyst1")
    response = client.request(method, path, json=body)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["data"] == {"permission": "users:manage"}
    client.cookies.clear()
    assert client.request(method, path, json=body).status_code == 401
