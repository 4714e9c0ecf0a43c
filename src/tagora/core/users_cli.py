"""``tagora users …`` and ``tagora users tokens …``: the console's Administration from the shell, as the
local operator (e.g. to reset the only admin's forgotten password)."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer

from tagora.core.cli_support import cli_stores, console, print_json, print_table

users_app = typer.Typer(help="Users: list, change role, deactivate, reset a password.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: issue (shown once), list, revoke.", no_args_is_help=True)
users_app.add_typer(tokens_app, name="tokens")

PasswordOption = Annotated[
    str | None,
    typer.Option(help="Asked for when left out; others may see a command line: prefer --password-stdin."),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input's first line.")
]


def read_password(given: str | None, from_stdin: bool) -> str:
    """The password from ``--password``, standard input or a prompt; without a terminal nothing is asked."""
    from tagora.core.errors import AppError, CoreErrorCode

    if from_stdin:
        if given is not None:
            raise AppError(CoreErrorCode.INVALID_INPUT, "give --password or --password-stdin, not both", 422)
        return sys.stdin.readline().rstrip("\r\n")
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise AppError(
            CoreErrorCode.INVALID_INPUT,
            "no terminal to ask for the password: pipe it in with --password-stdin",
            422,
            {"field": "password"},
        )
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("list")
def list_users(json: bool = False) -> None:
    """Every user with their role and whether they may sign in."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        users = logic.list_users(stores.sessions, CLI_OPERATOR)
    if json:
        print_json(users)
    else:
        print_table("users", [u.model_dump() for u in users])


@users_app.command("set-password")
def set_password(
    username: str, password: PasswordOption = None, password_stdin: PasswordStdin = False
) -> None:
    """Reset a user's password; every session of theirs ends."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        logic.set_password(stores.sessions, CLI_OPERATOR, username, read_password(password, password_stdin))
    console.print(f"new password set for {username}; their sessions have ended")


@users_app.command("role")
def set_role(
    username: str, role: Annotated[str, typer.Argument(help="admin, marketer, sales or analyst")]
) -> None:
    """Give a user another role (their sessions and tokens act with it at once)."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        logic.set_role(stores.sessions, CLI_OPERATOR, username, role)
    console.print(f"{username} is now {role}")


@users_app.command("deactivate")
def deactivate(username: str) -> None:
    """Stop a user signing in; every session and API token of theirs ends now."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        logic.deactivate_user(stores.sessions, CLI_OPERATOR, username)
    console.print(f"deactivated {username}")


@users_app.command("reactivate")
def reactivate(username: str) -> None:
    """Let a deactivated user sign in again (their old tokens stay revoked)."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        logic.reactivate_user(stores.sessions, CLI_OPERATOR, username)
    console.print(f"reactivated {username}")


@tokens_app.command("issue")
def issue_token(
    username: str,
    name: str,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="A permission the token may use (repeat); all of the user's if none."),
    ] = None,
    expires_days: Annotated[int | None, typer.Option(min=1, help="Days until it stops working.")] = None,
    json: bool = False,
) -> None:
    """Issue an API token and print it (shown once; only its hash is stored)."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR
    from tagora.core.clock import utcnow

    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    with cli_stores(warehouse=False) as stores:
        token = logic.issue_api_token(
            stores.sessions, CLI_OPERATOR, username, name, scope or None, expires_at
        )
    if json:
        print_json({"username": username, "name": name, "token": token})
    else:
        console.print(f"API token {name} for {username}: [bold]{token}[/bold]  (shown once; store it now)")


@tokens_app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None, json: bool = False
) -> None:
    """API tokens (never the tokens themselves): scopes, expiry, last use, revocation."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        tokens = logic.list_api_tokens(stores.sessions, CLI_OPERATOR, user)
    if json:
        print_json(tokens)
    else:
        print_table("API tokens", [t.model_dump() for t in tokens])


@tokens_app.command("revoke")
def revoke_token(token_id: int) -> None:
    """Revoke an API token by its id (``tagora users tokens list``): calls with it are refused from now on."""
    from tagora.core import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores(warehouse=False) as stores:
        logic.revoke_api_token(stores.sessions, CLI_OPERATOR, token_id)
    console.print(f"revoked API token {token_id}")
