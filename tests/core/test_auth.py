import pytest
from sqlalchemy import select

from tagora.core import logic
from tagora.core.auth import CLI_OPERATOR, ROLE_PERMISSIONS, Permission, Role, hash_password, verify_password
from tagora.core.db import transaction
from tagora.core.errors import AppError
from tagora.core.models import AuditEntry, User
from tagora.core.stores import Stores


def test_passwords_are_stored_as_argon2_hashes(stores: Stores) -> None:
    logic.create_user(stores.sessions, CLI_OPERATOR, "alice", "s3cret-pass-2026", "sales")
    with stores.sessions() as session:
        user = session.scalars(select(User)).one()
    assert user.password_hash.startswith("$argon2")
    assert verify_password(user.password_hash, "s3cret-pass-2026")
    assert not verify_password(user.password_hash, "wrong")
    assert not verify_password("garbage", "s3cret-pass-2026")


def test_only_admin_may_view_personal_data() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] >= set(Permission)
    for role in (Role.MARKETER, Role.SALES, Role.ANALYST):
        assert Permission.PII_VIEW not in ROLE_PERMISSIONS[role]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("password", {"password": "short"}),
        ("role", {"role": "king"}),
        ("username", {"username": "  "}),
        ("username", {"username": "u" * 65}),
        ("display_name", {"display_name": "d" * 129}),
        ("locale", {"locale": "fr"}),
    ],
)
def test_creating_a_user_with_bad_input_names_the_field(
    stores: Stores, field: str, kwargs: dict[str, str]
) -> None:
    args = {"username": "bob", "password": "long-enough-pw", "role": "sales", **kwargs}
    with pytest.raises(AppError) as err:
        logic.create_user(stores.sessions, CLI_OPERATOR, **args)
    assert err.value.data["field"] == field
    assert err.value.status == 422


def test_a_duplicate_username_is_a_conflict_and_writes_nothing(stores: Stores) -> None:
    logic.create_user(stores.sessions, CLI_OPERATOR, "bob", "long-enough-pw", "sales")
    with pytest.raises(AppError) as err:
        logic.create_user(stores.sessions, CLI_OPERATOR, "bob", "other-pass-2026", "admin")
    assert err.value.status == 409
    with stores.sessions() as session:
        assert len(session.scalars(select(User)).all()) == 1


def test_user_creation_and_failed_logins_are_audited(stores: Stores) -> None:
    logic.create_user(stores.sessions, CLI_OPERATOR, "bob", "long-enough-pw", "sales")
    with pytest.raises(AppError):
        logic.authenticate(stores, "bob", "nope-nope")
    assert logic.authenticate(stores, "bob", "long-enough-pw").principal.username == "bob"
    with stores.sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["user.create", "login.failed", "login"]


def test_the_audit_log_is_append_only(stores: Stores) -> None:
    logic.create_user(stores.sessions, CLI_OPERATOR, "bob", "long-enough-pw", "sales")
    with pytest.raises(RuntimeError, match="append-only"), transaction(stores.sessions) as session:
        entry = session.scalars(select(AuditEntry)).first()
        assert entry is not None
        entry.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"), transaction(stores.sessions) as session:
        session.delete(session.scalars(select(AuditEntry)).first())


def test_a_hash_of_one_password_does_not_verify_another() -> None:
    assert not verify_password(hash_password("one-password"), "another-password")
