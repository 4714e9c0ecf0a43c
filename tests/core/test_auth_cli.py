"""``tagora createuser`` in scripts: the password from standard input, without a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tagora.core import logic
from tagora.core.stores import open_stores
from tagora.settings import Settings
from tests.conftest import PASSWORD

SECRET = "cli-secret-0123456789-abcdefghijklmn"


def _tagora(home: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAGORA_HOME": str(home),
        "TAGORA_ENV": "test",
        "TAGORA_SECRET_KEY": SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "tagora.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_createuser_reads_the_password_from_stdin_without_a_terminal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = _tagora(
        home, "createuser", "ops", "--role", "admin", "--password-stdin", "--json", stdin=PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    assert '"username": "ops"' in done.stdout

    refused = _tagora(home, "createuser", "weak", "--password-stdin", stdin="qwerty123456\n")
    assert refused.returncode == 2
    assert "password" in refused.stderr and "most common" in refused.stderr

    # without a terminal and without --password-stdin it says what to do (it printed "Aborted." before)
    unasked = _tagora(home, "createuser", "nobody", stdin="")
    assert unasked.returncode == 2
    assert "--password-stdin" in unasked.stderr and "Aborted" not in unasked.stderr + unasked.stdout

    stores = open_stores(Settings(env="test", home=home, secret_key=SECRET))  # type: ignore[arg-type]
    try:
        assert logic.authenticate(stores, "ops", PASSWORD).principal.role.value == "admin"
        assert not logic.user_exists(stores.sessions, "weak") and not logic.user_exists(
            stores.sessions, "nobody"
        )
    finally:
        stores.close()
