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


def test_users_and_tokens_are_administered_from_the_shell(cli_home: Path) -> None:
    import json

    from typer.testing import CliRunner

    from tagora.cli import app
    from tests.conftest import run_cli

    def run(*args: str, stdin: str | None = None) -> str:
        result = CliRunner().invoke(app, list(args), input=stdin)
        assert result.exit_code == 0, result.output
        return result.stdout

    run("createuser", "ops", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    run("createuser", "lin", "--role", "sales", "--password-stdin", stdin=PASSWORD + "\n")
    run("users", "role", "lin", "marketer")
    run("users", "set-password", "lin", "--password-stdin", stdin="a-fresh-passphrase\n")
    issued = json.loads(run("users", "tokens", "issue", "lin", "sync", "--scope", "customers:read", "--json"))
    assert issued["token"].startswith("tgr_")
    tokens = json.loads(run_cli("users", "tokens", "list", "--user", "lin", "--json"))
    assert [(t["name"], t["scopes"]) for t in tokens] == [("sync", ["customers:read"])]
    run("users", "deactivate", "lin")
    users = {u["username"]: u for u in json.loads(run("users", "list", "--json"))}
    assert users["lin"]["role"] == "marketer" and users["lin"]["is_active"] is False
    assert json.loads(run("users", "tokens", "list", "--json"))[0]["revoked_at"] is not None

    weak = CliRunner().invoke(
        app, ["users", "set-password", "ops", "--password-stdin"], input="qwerty123456\n"
    )
    assert weak.exit_code == 2 and "most common" in weak.output
    last_admin = CliRunner().invoke(app, ["users", "deactivate", "ops"])
    assert last_admin.exit_code == 2 and "last active admin" in last_admin.output
