"""The password policy, on create, on reset and on a user's own change."""

from __future__ import annotations

import pytest

from tagora.core import logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.passwords import common_passwords
from tagora.core.stores import Stores
from tests.conftest import PASSWORD


def test_the_common_password_list_ships_with_the_package() -> None:
    common = common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "qwerty123456", "1qaz2wsx3edc"} <= common


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pw-11", "at least 12 characters"),
        ("qwerty123456", "most common passwords"),
        ("QWERTY123456", "most common passwords"),
        ("1qaz2wsx3edc", "most common passwords"),
        ("GERALD.TANG.CN", "username"),
        ("x" * 1025, "at most 1024"),
    ],
)
def test_a_weak_password_is_refused_naming_the_field(stores: Stores, password: str, reason: str) -> None:
    with pytest.raises(AppError) as err:
        logic.create_user(stores.sessions, CLI_OPERATOR, "Gerald.Tang.CN", password, "sales")
    assert err.value.status == 422
    assert err.value.data == {"field": "password"}
    assert reason in err.value.message
    assert not logic.user_exists(stores.sessions, "Gerald.Tang.CN")


def test_a_passphrase_that_only_contains_the_username_is_accepted(stores: Stores) -> None:
    logic.create_user(stores.sessions, CLI_OPERATOR, "robot", "robot-password-long-enough", "analyst")


def test_the_test_password_and_a_passphrase_are_accepted(stores: Stores) -> None:
    logic.create_user(stores.sessions, CLI_OPERATOR, "mia", PASSWORD, "sales")
    logic.create_user(stores.sessions, CLI_OPERATOR, "leo", "稳定的长密码不是常见密码吧", "sales")


def test_a_reset_to_a_weak_password_is_refused_and_the_old_one_still_works(stores: Stores) -> None:
    logic.create_user(stores.sessions, CLI_OPERATOR, "mia", PASSWORD, "sales")
    with pytest.raises(AppError) as err:
        logic.set_password(stores.sessions, CLI_OPERATOR, "mia", "password1234")
    assert err.value.data == {"field": "password"}
    assert logic.authenticate(stores, "mia", PASSWORD).principal.username == "mia"


def test_changing_your_own_password_checks_the_new_one_and_the_current_one(stores: Stores) -> None:
    logic.create_user(stores.sessions, CLI_OPERATOR, "mia", PASSWORD, "sales")
    me = logic.authenticate(stores, "mia", PASSWORD).principal
    with pytest.raises(AppError) as weak:
        logic.change_own_password(stores, me, PASSWORD, "short")
    assert weak.value.data == {"field": "new_password"}
    with pytest.raises(AppError) as wrong:
        logic.change_own_password(stores, me, "not-my-password", "a-new-long-passphrase")
    assert wrong.value.data == {"field": "current_password"}
    logic.change_own_password(stores, me, PASSWORD, "a-new-long-passphrase")
    assert logic.authenticate(stores, "mia", "a-new-long-passphrase").principal.username == "mia"
