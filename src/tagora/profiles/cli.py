"""``tagora customers ...`` and ``tagora stats``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tagora.core.cli_support import cli_stores, print_json, print_table
from tagora.core.errors import not_found

if TYPE_CHECKING:
    from tagora.core.auth import Principal
    from tagora.core.stores import Stores

customers_app = typer.Typer(help="Search, show and export customers.", no_args_is_help=True)
AsUser = Annotated[
    str | None, typer.Option("--as", help="Act as this console user (masking follows the role).")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _actor(stores: Stores, username: str | None) -> Principal:
    from sqlalchemy import select

    from tagora.core.auth import CLI_OPERATOR, principal_for
    from tagora.core.models import User

    if username is None:
        return CLI_OPERATOR
    with stores.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise not_found("user", username)
        return principal_for(user)


@customers_app.command("search")
def search(
    q: Annotated[str, typer.Argument(help="Name, phone, email or external key.")] = "",
    page: int = 1,
    page_size: int = 20,
    as_user: AsUser = None,
    json: Json = False,
) -> None:
    """Find customers."""
    from tagora.profiles import logic

    with cli_stores() as stores:
        result = logic.search_customers(stores, _actor(stores, as_user), q, page, page_size)
        if json:
            print_json(result)
        else:
            print_table(f"{result.total} customers", [i.model_dump() for i in result.items])


@customers_app.command("show")
def show(
    key: Annotated[str, typer.Argument(help="External key (or uid).")],
    timeline_page: int = 1,
    as_user: AsUser = None,
    json: Json = False,
) -> None:
    """A customer's 360 view: attributes, identities, order summary and timeline."""
    from tagora.profiles import logic

    with cli_stores() as stores:
        actor = _actor(stores, as_user)
        view = logic.view_customer(stores, actor, key)
        events = logic.view_timeline(stores, actor, key, timeline_page, 20)
        if json:
            print_json({**view.model_dump(mode="json"), "timeline": events.model_dump(mode="json")})
            return
        print_table("customer", [view.customer.model_dump()])
        print_table("orders", [view.orders.model_dump()])
        print_table("identities", [i.model_dump() for i in view.identities])
        print_table(
            f"timeline (page {events.page}, {events.total} items)",
            [{"at": i.at, "kind": i.kind, "title": i.title} for i in events.items],
        )


@customers_app.command("export")
def export(
    q: Annotated[str, typer.Argument()] = "",
    output: Annotated[str, typer.Option("--output", "-o", help="A .csv or .xlsx file; - for stdout.")] = "-",
    fmt: Annotated[str | None, typer.Option("--format", help="csv or xlsx (default: from the name).")] = None,
    phone_format: Annotated[
        str, typer.Option("--phone-format", help="e164 (+8613800000000) or national (13800000000).")
    ] = "e164",
    as_user: AsUser = None,
) -> None:
    """Export matching customers to CSV or Excel (masked for roles without pii:view)."""
    from tagora.profiles import logic

    chosen = fmt or ("xlsx" if output.lower().endswith(".xlsx") else "csv")
    with cli_stores() as stores:
        body = logic.export_customers(stores, _actor(stores, as_user), q, chosen, phone_format)
    if output == "-":
        sys.stdout.buffer.write(body)
    else:
        Path(output).write_bytes(body)


@customers_app.command("reindex")
def reindex(json: Json = False) -> None:
    """Recompute the blind index of phones, e-mails and ID numbers (run it after changing the secret key)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.identity import facade as identity

    with cli_stores() as stores:
        count = identity.reindex_identities(stores, CLI_OPERATOR)
    if json:
        print_json({"indexed": count})
    else:
        typer.echo(f"indexed {count} phones, e-mails and ID numbers")


def stats(json: Json = False) -> None:
    """Counts of everything in the stores."""
    from tagora.profiles import queries

    with cli_stores() as stores, stores.sessions() as session:
        counts = queries.store_counts(session, stores.warehouse)
    if json:
        print_json(counts)
    else:
        print_table("Tagora stores", [{"store": k, "count": v} for k, v in counts.items()])
