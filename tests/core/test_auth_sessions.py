"""Sign-in throttling, equal timing, server-side sessions and scoped API tokens, through HTTP."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tagora.app import create_app
from tagora.core import logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.clock import utcnow
from tagora.core.errors import AppError
from tagora.core.models import ApiToken, AuditEntry, UserSession
from tagora.core.stores import Stores, open_stores
from tests.conftest import PASSWORD, login, make_settings


def _fail(client: TestClient, username: str) -> int:
    response = client.post("/api/auth/login", json={"username": username, "password": "wrong-password!"})
    return response.status_code


def test_failed_sign_ins_to_one_account_are_throttled_with_retry_after(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    limit = stores.settings.login_failures_per_account
    assert [_fail(client, "sales1") for _ in range(limit)] == [401] * limit
    throttled = client.post("/api/auth/login", json={"username": "sales1", "password": PASSWORD})
    assert throttled.status_code == 429  # even the right password: the account is locked for now
    assert 0 < int(throttled.headers["Retry-After"]) <= stores.settings.login_window_s
    error = throttled.json()["error"]
    assert error["code"] == "too_many_attempts"
    assert error["data"]["retry_after_s"] == int(throttled.headers["Retry-After"])
    login(client, "admin1")  # another account from the same client is not locked
    with stores.sessions() as session:
        actions = [
            a for (a,) in session.execute(select(AuditEntry.action).where(AuditEntry.actor == "sales1"))
        ]
    assert actions.count("login.failed") == limit and "login.throttled" in actions


def test_the_lock_lifts_when_the_window_has_passed(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    for _ in range(stores.settings.login_failures_per_account):
        _fail(client, "sales1")
    assert _fail(client, "sales1") == 429
    from tagora.core.models import LoginFailure

    with stores.sessions() as session, session.begin():
        session.execute(update(LoginFailure).values(at=utcnow() - timedelta(hours=1)))
    login(client, "sales1")


def test_many_accounts_guessed_from_one_client_are_throttled_per_client(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", login_failures_per_client=4, login_failures_per_account=100)
    stores = open_stores(settings)
    try:
        logic.create_user(stores.sessions, CLI_OPERATOR, "sales1", PASSWORD, "sales")
        with TestClient(create_app(settings, stores)) as client:
            assert [_fail(client, f"guess{i}") for i in range(4)] == [401] * 4
            assert _fail(client, "guess-next") == 429
            # the same client is refused even for a real account and the right password ...
            refused = client.post("/api/auth/login", json={"username": "sales1", "password": PASSWORD})
            assert refused.status_code == 429 and "Retry-After" in refused.headers
        # ... while another client is not (the failures are counted per address)
        with TestClient(create_app(settings, stores), client=("10.1.2.3", 5000)) as other:
            login(other, "sales1")
    finally:
        stores.close()


def test_throttling_is_shared_by_processes_through_the_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    first, second = open_stores(settings), open_stores(settings)  # two servers on one metadata database
    try:
        logic.create_user(first.sessions, CLI_OPERATOR, "sales1", PASSWORD, "sales")
        with TestClient(create_app(settings, first)) as a, TestClient(create_app(settings, second)) as b:
            for i in range(settings.login_failures_per_account):
                assert _fail(a if i % 2 else b, "sales1") == 401
            assert _fail(a, "sales1") == 429 and _fail(b, "sales1") == 429
    finally:
        first.close()
        second.close()


def _median_login_s(stores: Stores, username: str, runs: int = 7) -> float:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        with pytest.raises(AppError) as err:
            logic.authenticate(stores, username, f"wrong-password-{i}", client=f"10.0.0.{i}")
        assert err.value.status == 401
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_an_unknown_user_takes_as_long_as_a_wrong_password(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", login_failures_per_account=100)
    stores = open_stores(settings)
    try:
        logic.create_user(stores.sessions, CLI_OPERATOR, "sales1", PASSWORD, "sales")
        _median_login_s(stores, "warm-up", 1)
        known, unknown = _median_login_s(stores, "sales1"), _median_login_s(stores, "nobody-here")
    finally:
        stores.close()
    assert known > 0.01  # a real argon2 check ran
    assert 1 / 3 < unknown / known < 3, (known, unknown)  # before: 3 ms against 105 ms


def test_a_session_cookie_is_worth_nothing_after_logout(client: TestClient, users: dict[str, str]) -> None:
    login(client, "sales1")
    stolen = dict(client.cookies)
    assert client.post("/api/auth/logout").status_code == 204
    client.cookies.clear()
    client.cookies.update(stolen)  # replaying the cookie from before the logout
    assert client.get("/api/auth/me").status_code == 401


def test_a_cookie_naming_a_user_without_a_live_session_is_refused(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    """The signed cookie alone is not enough: the shape older releases used ({"user_id": 1}) is refused."""
    import base64
    import json

    from itsdangerous import TimestampSigner

    signer = TimestampSigner(stores.settings.secret_key.get_secret_value())

    def cookie(content: dict[str, object]) -> str:
        return signer.sign(base64.b64encode(json.dumps(content).encode())).decode()

    live = logic.authenticate(stores, "admin1", PASSWORD).session_id
    client.cookies.set("tagora_session", cookie({"sid": live}))
    assert client.get("/api/auth/me").json()["username"] == "admin1"  # the cookie is made as the server does
    client.cookies.set("tagora_session", cookie({"user_id": 1}))
    assert client.get("/api/auth/me").status_code == 401
    client.cookies.set("tagora_session", cookie({"sid": "made-up"}))
    assert client.get("/api/auth/me").status_code == 401


def test_a_password_reset_ends_the_users_sessions(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    login(client, "sales1")
    assert client.get("/api/auth/me").status_code == 200
    logic.set_password(stores.sessions, CLI_OPERATOR, "sales1", "a-brand-new-passphrase")
    assert client.get("/api/auth/me").status_code == 401


def test_changing_your_own_password_ends_your_other_sessions_but_keeps_this_one(
    settings: object, stores: Stores, users: dict[str, str]
) -> None:
    app = create_app(stores.settings, stores)
    with TestClient(app) as laptop, TestClient(app) as phone:
        login(laptop, "sales1")
        login(phone, "sales1")
        changed = laptop.post(
            "/api/auth/password",
            json={"current_password": PASSWORD, "new_password": "a-brand-new-passphrase"},
        )
        assert changed.status_code == 200, changed.text
        assert laptop.get("/api/auth/me").status_code == 200
        assert phone.get("/api/auth/me").status_code == 401


def test_deactivating_a_user_ends_their_sessions_and_tokens(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    token = logic.issue_api_token(stores.sessions, CLI_OPERATOR, "sales1", "script")
    login(client, "sales1")
    assert client.get("/api/auth/me").status_code == 200
    logic.deactivate_user(stores.sessions, CLI_OPERATOR, "sales1")
    assert client.get("/api/auth/me").status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/me", headers=bearer).status_code == 401
    logic.reactivate_user(stores.sessions, CLI_OPERATOR, "sales1")
    assert client.get("/api/auth/me", headers=bearer).status_code == 401  # tokens stay revoked
    assert _fail(client, "sales1") == 401
    login(client, "sales1")


def test_a_session_idle_too_long_or_past_its_lifetime_is_refused(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    login(client, "sales1")
    idle = timedelta(seconds=stores.settings.session_idle_s + 1)
    with stores.sessions() as session, session.begin():
        session.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
    assert client.get("/api/auth/me").status_code == 401

    login(client, "sales1")
    with stores.sessions() as session, session.begin():
        session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/auth/me").status_code == 401
    login(client, "sales1")  # a new sign-in clears away the sessions past their lifetime
    with stores.sessions() as session:
        assert len(session.scalars(select(UserSession)).all()) == 1


def test_a_used_session_stays_alive_and_records_when_it_was_last_seen(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    login(client, "sales1")
    earlier = utcnow() - timedelta(seconds=stores.settings.session_idle_s - 30)
    with stores.sessions() as session, session.begin():
        session.execute(update(UserSession).values(last_seen_at=earlier))
    assert client.get("/api/auth/me").status_code == 200
    with stores.sessions() as session:
        row = session.scalars(select(UserSession)).one()
    assert row.last_seen_at > earlier + timedelta(seconds=60)
    assert row.expires_at - row.created_at == timedelta(seconds=stores.settings.session_max_age_s)


def test_a_token_can_do_only_what_its_scopes_allow(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    token = logic.issue_api_token(stores.sessions, CLI_OPERATOR, "admin1", "reader", ["customers:read"])
    bearer = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/auth/me", headers=bearer).json()
    assert me["permissions"] == ["customers:read"]
    assert client.get("/api/customers", headers=bearer).status_code == 200
    refused = client.get("/api/users", headers=bearer)
    assert refused.status_code == 403
    assert refused.json()["error"]["data"]["permission"] == "users:manage"


def test_a_token_cannot_be_given_a_scope_its_user_lacks(stores: Stores, users: dict[str, str]) -> None:
    for scopes in (["users:manage"], ["no-such:scope"]):
        with pytest.raises(AppError) as err:
            logic.issue_api_token(stores.sessions, CLI_OPERATOR, "sales1", "x", scopes)
        assert err.value.status == 422 and err.value.data == {"field": "scopes"}


def test_expired_and_revoked_tokens_are_refused_and_use_is_recorded(
    client: TestClient, stores: Stores, users: dict[str, str]
) -> None:
    soon = utcnow() + timedelta(hours=1)
    token = logic.issue_api_token(stores.sessions, CLI_OPERATOR, "sales1", "short-lived", expires_at=soon)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/me", headers=bearer).status_code == 200
    with stores.sessions() as session:
        row = session.scalars(select(ApiToken)).one()
    assert row.last_used_at is not None and abs((row.last_used_at - utcnow()).total_seconds()) < 60

    with stores.sessions() as session, session.begin():
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/auth/me", headers=bearer).status_code == 401

    other = logic.issue_api_token(stores.sessions, CLI_OPERATOR, "sales1", "revoked")
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    token_id = max(t.id for t in logic.list_api_tokens(stores.sessions, CLI_OPERATOR, "sales1"))
    logic.revoke_api_token(stores.sessions, CLI_OPERATOR, token_id)
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401


def test_a_token_that_expired_before_it_was_issued_is_refused(stores: Stores, users: dict[str, str]) -> None:
    with pytest.raises(AppError) as err:
        logic.issue_api_token(
            stores.sessions, CLI_OPERATOR, "sales1", "x", expires_at=utcnow() - timedelta(days=1)
        )
    assert err.value.data == {"field": "expires_at"}


@pytest.mark.postgres
def test_sessions_throttling_and_tokens_work_on_postgresql(pg_stores: Stores) -> None:
    logic.create_user(pg_stores.sessions, CLI_OPERATOR, "sales1", PASSWORD, "sales")
    long_name = "x" * 300  # longer than the columns: counted by its first 64 characters, never a 500
    with TestClient(create_app(pg_stores.settings, pg_stores)) as client:
        for _ in range(pg_stores.settings.login_failures_per_account):
            assert _fail(client, long_name) == 401
        assert _fail(client, long_name) == 429
        login(client, "sales1")
        assert client.get("/api/auth/me").status_code == 200
        logic.deactivate_user(pg_stores.sessions, CLI_OPERATOR, "sales1")
        assert client.get("/api/auth/me").status_code == 401
        logic.reactivate_user(pg_stores.sessions, CLI_OPERATOR, "sales1")
        token = logic.issue_api_token(pg_stores.sessions, CLI_OPERATOR, "sales1", "t", ["customers:read"])
        me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["permissions"] == ["customers:read"]
