"""Console administration pages: users, API tokens and write keys for admins; refused to everyone else."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tagora.core import logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tests.conftest import PASSWORD
from tests.console.test_pages import csrf_of, sign_in


def _post(client: TestClient, path: str, page: str, **data: object) -> object:
    return client.post(path, data={**data, "csrf": csrf_of(client, page)}, follow_redirects=False)


def test_an_admin_manages_users_from_the_console(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    sign_in(client, "admin1")
    page = client.get("/admin/users")
    assert page.status_code == 200 and 'id="user-sales1"' in page.text
    created = _post(client, "/admin/users", "/admin/users", username="lin", password=PASSWORD, role="sales")
    assert created.status_code == 303
    assert 'id="user-lin"' in client.get("/admin/users").text

    assert _post(client, "/admin/users/lin/role", "/admin/users", role="analyst").status_code == 303
    assert logic.get_user(stores.sessions, CLI_OPERATOR, "lin").role == "analyst"

    reset = _post(client, "/admin/users/lin/password", "/admin/users", password="another-long-passphrase")
    assert reset.status_code == 200 and "was reset" in reset.text
    assert logic.authenticate(stores, "lin", "another-long-passphrase").principal.username == "lin"

    assert _post(client, "/admin/users/lin/active", "/admin/users", active="false").status_code == 303
    assert logic.get_user(stores.sessions, CLI_OPERATOR, "lin").is_active is False
    assert _post(client, "/admin/users/lin/active", "/admin/users", active="true").status_code == 303
    assert logic.get_user(stores.sessions, CLI_OPERATOR, "lin").is_active is True


def test_a_weak_password_in_the_console_is_shown_as_an_error_naming_the_field(
    client: TestClient, users: dict[str, str]
) -> None:
    sign_in(client, "admin1")
    response = _post(
        client, "/admin/users", "/admin/users", username="lin", password="qwerty123456", role="sales"
    )
    assert response.status_code == 422
    assert "password is one of the most common passwords" in response.text
    assert 'value="lin"' in response.text  # the form keeps what was typed, except the password
    assert 'id="user-lin"' not in response.text


def test_an_admin_issues_and_revokes_a_scoped_token_from_the_console(
    client: TestClient, users: dict[str, str]
) -> None:
    sign_in(client, "admin1")
    issued = _post(
        client,
        "/admin/tokens",
        "/admin/tokens",
        username="sales1",
        name="sync",
        scopes="customers:read",
        expires_days="30",
    )
    assert issued.status_code == 200
    secret = re.search(r'id="issued-secret">(tgr_[^<]+)<', issued.text)
    assert secret
    with TestClient(client.app, headers={"Authorization": f"Bearer {secret.group(1)}"}) as script:
        assert script.get("/api/auth/me").json()["permissions"] == ["customers:read"]
    listing = client.get("/admin/tokens").text
    assert secret.group(1) not in listing  # shown once only
    token_id = re.search(r'id="token-(\d+)"', listing)
    assert token_id
    assert _post(client, f"/admin/tokens/{token_id.group(1)}/revoke", "/admin/tokens").status_code == 303
    with TestClient(client.app, headers={"Authorization": f"Bearer {secret.group(1)}"}) as script:
        assert script.get("/api/auth/me").status_code == 401


def test_an_admin_creates_and_revokes_a_write_key_from_the_console(
    client: TestClient, users: dict[str, str]
) -> None:
    sign_in(client, "admin1")
    created = _post(client, "/admin/keys", "/admin/keys", name="app")
    assert created.status_code == 200
    assert re.search(r'id="issued-secret">tgw_', created.text)
    assert _post(client, "/admin/keys", "/admin/keys", name="app").status_code == 409  # names are unique
    assert _post(client, "/admin/keys/app/revoke", "/admin/keys").status_code == 303
    assert "revoked" in client.get("/admin/keys").text


@pytest.mark.parametrize("path", ["/admin/users", "/admin/tokens", "/admin/keys"])
def test_admin_pages_are_refused_to_other_roles_and_sign_in_first(
    client: TestClient, users: dict[str, str], path: str
) -> None:
    assert client.get(path, follow_redirects=False).status_code == 303
    sign_in(client, "marketer1")
    assert "/admin/users" not in client.get("/").text  # no Administration link
    page = client.get(path)
    assert page.status_code == 403 and "users:manage" in page.text
    posted = client.post(path, data={"csrf": csrf_of(client, "/account"), "name": "x", "username": "x"})
    assert posted.status_code == 403


def test_a_user_changes_their_own_password_and_their_other_sessions_end(
    client: TestClient, users: dict[str, str]
) -> None:
    sign_in(client, "sales1")
    with TestClient(client.app) as other:
        sign_in(other, "sales1")
        wrong = _post(client, "/account/password", "/account", current_password="nope", new_password="x" * 12)
        assert wrong.status_code == 403
        changed = _post(
            client,
            "/account/password",
            "/account",
            current_password=PASSWORD,
            new_password="my-new-passphrase",
        )
        assert changed.status_code == 200 and 'id="password-changed"' in changed.text
        assert client.get("/account").status_code == 200  # this browser keeps going
        assert other.get("/account", follow_redirects=False).status_code == 303  # the other is signed out


def test_console_logout_revokes_the_session_cookie(client: TestClient, users: dict[str, str]) -> None:
    sign_in(client, "sales1")
    stolen = dict(client.cookies)
    assert _post(client, "/logout", "/account").status_code == 303
    client.cookies.clear()
    client.cookies.update(stolen)
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_console_sign_in_is_throttled_with_a_message_and_retry_after(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    for _ in range(stores.settings.login_failures_per_account):
        response = _post(client, "/login", "/login", username="sales1", password="wrong-password!")
        assert response.status_code == 401
    response = _post(client, "/login", "/login", username="sales1", password=PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert int(response.headers["Retry-After"]) > 0
