"""``tagora segments count|create|list|show|export|portrait|lookalike``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from tagora.core.cli_support import cli_stores, console, print_json, print_table

segments_app = typer.Typer(help="Audiences: count, save, export and portray segments.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Expression = Annotated[
    str,
    typer.Argument(
        help='The JSON form, e.g. \'{"tag": "vip", "op": "=", "value": true}\', or the rule-language text, '
        "e.g. 'member_tier = \"gold\" and orders_90d >= 2'."
    ),
]


@segments_app.command("count")
def count(expression: Expression, json: Json = False) -> None:
    """How many customers an expression selects, right now."""
    from tagora.audiences import logic
    from tagora.audiences.expr import read_expression

    with cli_stores() as stores:
        result = logic.count(stores, *read_expression(expression))
    if json:
        print_json(result)
    else:
        console.print(f"{result.count:,} of {result.base:,} customers ({result.ms:.1f} ms)")


@segments_app.command("create")
def create(
    code: str,
    name: str,
    expression: Expression,
    static: Annotated[bool, typer.Option("--static", help="Freeze today's members.")] = False,
    description: str = "",
    json: Json = False,
) -> None:
    """Save a segment (dynamic by default: it follows its tags)."""
    from tagora.audiences import logic
    from tagora.audiences.expr import read_expression
    from tagora.audiences.schemas import SegmentCreate
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores() as stores:
        raw, text = read_expression(expression)
        data = SegmentCreate(
            code=code, name=name, description=description, kind="static" if static else "dynamic",
            expression=raw, text=text,
        )  # fmt: skip
        segment = logic.create_segment(stores, CLI_OPERATOR, data)
    print_json(segment) if json else console.print(f"saved {segment.code}: {segment.size:,} customers")


@segments_app.command("list")
def list_segments(json: Json = False) -> None:
    from tagora.audiences import logic

    with cli_stores() as stores:
        rows = logic.list_segments(stores)
    if json:
        print_json(rows)
    else:
        print_table(
            f"{len(rows)} segments", [r.model_dump(include={"code", "name", "kind", "size"}) for r in rows]
        )


@segments_app.command("show")
def show(code: str, json: Json = False) -> None:
    from tagora.audiences import logic

    with cli_stores() as stores:
        segment = logic.show_segment(stores, code)
        sizes = logic.size_history(stores, code)
    if json:
        print_json({**segment.model_dump(mode="json"), "sizes": [s.model_dump(mode="json") for s in sizes]})
    else:
        print_table(segment.code, [segment.model_dump(exclude={"expression"})])
        print_table("size by day", [s.model_dump() for s in sizes])


@segments_app.command("export")
def export(
    code: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="A .csv or .xlsx file.")],
    fields: Annotated[list[str] | None, typer.Option("--field", help="Repeat to choose columns.")] = None,
    phone_format: Annotated[
        str, typer.Option("--phone-format", help="e164 (+8613800000000) or national (13800000000).")
    ] = "e164",
) -> None:
    """Write the members to CSV or Excel (the format follows the file name)."""
    from tagora.audiences import logic
    from tagora.core.auth import CLI_OPERATOR

    fmt = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    with cli_stores() as stores:
        output.write_bytes(logic.export_members(stores, CLI_OPERATOR, code, fields, fmt, phone_format))
    console.print(f"wrote {output}")


@segments_app.command("portrait")
def portrait(code: str, json: Json = False) -> None:
    """Who the members are: each tag's shares against the whole base, with TGI."""
    from tagora.audiences import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores() as stores:
        result = logic.portrait(stores, CLI_OPERATOR, logic.members(stores, code), f"segment {code!r}")
    if json:
        print_json(asdict(result))
        return
    console.print(f"{result.size:,} of {result.base_size:,} customers")
    print_table("most distinguishing", [asdict(d) for d in result.distinguishing])


@segments_app.command("lookalike")
def lookalike(
    code: str,
    n: Annotated[int, typer.Option("--n", help="How many customers.")] = 100,
    json: Json = False,
) -> None:
    """The customers outside a segment who look most like its members, and the tag values why."""
    from tagora.audiences import logic
    from tagora.core.auth import CLI_OPERATOR

    with cli_stores() as stores:
        result = logic.lookalike(stores, CLI_OPERATOR, code, n)
    if json:
        print_json(result)
        return
    console.print(f"{len(result.customers):,} customers like the {result.seed_size:,} in {code}")
    print_table("because they share", [d.model_dump() for d in result.drivers])
    print_table(
        "most alike", [{k: c[k] for k in ("customer_key", "name", "score")} for c in result.customers[:20]]
    )
