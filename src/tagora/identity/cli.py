"""``tagora identity show|merge|unmerge|conflicts|resolve``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tagora.core.cli_support import cli_stores, console, print_json, print_table

if TYPE_CHECKING:
    from tagora.identity import logic

identity_app = typer.Typer(
    help="One person, many IDs: identity graph, merges and conflicts.", no_args_is_help=True
)
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Comment = Annotated[str, typer.Option("--comment", "-m", help="Why (kept in the audit log).")]


def _report(report: logic.ResolveReport, json: bool) -> None:
    if json:
        print_json(report.__dict__)
    else:
        console.print(
            f"{report.components} people re-resolved: {report.merged} records merged, "
            f"{report.separated} split off, {report.conflicts} conflicts"
        )


@identity_app.command("show")
def show(key: Annotated[str, typer.Argument(help="A customer key (or uid).")], json: Json = False) -> None:
    """A person's records, identities, merge history and conflicts."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.identity import logic

    with cli_stores() as stores:
        graph = logic.view_identity_graph(stores, CLI_OPERATOR, key)
    if json:
        print_json(graph)
        return
    print_table(f"person {graph.uid}: records", [r.model_dump() for r in graph.records])
    print_table("identities", [i.model_dump() for i in graph.identities])
    print_table("merge history", [m.model_dump(exclude={"actor"}) for m in graph.merges])
    if graph.conflicts:
        print_table("conflicts", [c.model_dump() for c in graph.conflicts])


@identity_app.command("merge")
def merge(
    a: Annotated[str, typer.Argument(help="Customer key.")],
    b: Annotated[str, typer.Argument(help="Customer key of the same person.")],
    comment: Comment = "",
    json: Json = False,
) -> None:
    """Merge two customers by hand (the identity rules still apply)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.identity import logic

    with cli_stores() as stores:
        _report(logic.merge_profiles(stores, CLI_OPERATOR, a, b, comment), json)


@identity_app.command("unmerge")
def unmerge(
    key: Annotated[str | None, typer.Argument(help="The merged customer's key.")] = None,
    merge_id: Annotated[int | None, typer.Option("--merge", help="A merge id from `identity show`.")] = None,
    comment: Comment = "",
    json: Json = False,
) -> None:
    """Split a merged customer back out, with its own orders, events and notes."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.identity import logic

    with cli_stores() as stores:
        _report(logic.unmerge_profile(stores, CLI_OPERATOR, key, merge_id, comment), json)


@identity_app.command("conflicts")
def conflicts(limit: int = 100, json: Json = False) -> None:
    """Shared identities the rules kept from merging two records, newest first."""
    from tagora.identity import queries

    with cli_stores() as stores, stores.sessions() as session:
        rows = queries.conflicts(session, limit, masked=False)
    if json:
        print_json(rows)
    else:
        print_table(f"{len(rows)} conflicts", [c.model_dump() for c in rows])


@identity_app.command("resolve")
def resolve(json: Json = False) -> None:
    """Re-resolve every record (after changing the identity rules); idempotent."""
    from sqlalchemy import select

    from tagora.core.auth import CLI_OPERATOR
    from tagora.identity import logic
    from tagora.identity.models import Identity

    with cli_stores() as stores:
        with stores.sessions() as session:
            records = list(session.scalars(select(Identity.origin_uid).distinct()))
        _report(logic.resolve_profiles(stores, CLI_OPERATOR, records), json)
