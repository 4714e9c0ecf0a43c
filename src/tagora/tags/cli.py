"""``tagora tags ...``: browse the catalogue, move tags through their lifecycle, compute and read values."""

from __future__ import annotations

import csv
import json as jsonlib
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from tagora.core.cli_support import cli_stores, console, print_json, print_table
from tagora.core.errors import AppError, CoreErrorCode, not_found

if TYPE_CHECKING:
    from tagora.core.auth import Principal
    from tagora.core.stores import Stores
    from tagora.tags import evaluation
    from tagora.tags.schemas import TagEvaluation

tags_app = typer.Typer(help="The tag catalogue: list, show, create, approve, publish and compute tags.")
AsUser = Annotated[
    str | None, typer.Option("--as", help="Act as this console user (permissions follow the role).")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Comment = Annotated[str, typer.Option("--comment", "-m", help="Why: kept in the audit log.")]
stdout = Console()  # results; ``console`` (stderr) is for progress and errors


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


@tags_app.command("list")
def list_tags(
    q: Annotated[str, typer.Argument(help="Part of a code or name.")] = "",
    category: Annotated[str | None, typer.Option(help="A category code, e.g. purchase.")] = None,
    retired: Annotated[bool, typer.Option("--retired", help="Include retired tags.")] = False,
    json: Json = False,
) -> None:
    """The catalogue: one line per tag (its live version, else its newest)."""
    from tagora.tags import catalogue

    with cli_stores() as stores, stores.sessions() as session:
        tags = catalogue.search(session, q, category, retired)
    if json:
        print_json(tags)
        return
    rows = [
        {"code": t.code, "name": f"{t.name_zh} / {t.name_en}", "category": t.category, "type": t.type.value,
         "values": t.value_type.value, "version": t.version, "status": t.status.value}
        for t in tags
    ]  # fmt: skip
    print_table(f"{len(tags)} tags", rows)


@tags_app.command("show")
def show(
    code: str,
    customer: Annotated[
        str | None, typer.Option(help="Show this customer's value (external key or uid).")
    ] = None,
    json: Json = False,
) -> None:
    """A tag's definition and lifecycle; with --customer, that customer's value, weight and computed_at."""
    from tagora.tags import catalogue, evaluation, queries

    with cli_stores() as stores:
        with stores.sessions() as session:
            tag = catalogue.current(session, code)
            if customer is not None:
                uid = queries.resolve_customer(session, customer)
            else:
                history = catalogue.lifecycle_history(session, code)
        if customer is not None:
            found = queries.customer_tags(stores.warehouse, uid, code)
            out: Any = {"tag": code, "customer": customer, "uid": uid, "value_type": tag.value_type.value,
                        "values": [v.model_dump(mode="json") for v in found]}  # fmt: skip
            if tag.value_type.value != "weighted":
                first = out["values"][0] if found else {}
                out = out | {k: first.get(k) for k in ("value", "weight", "computed_at", "run_id")}
                del out["values"]
            if json:
                print_json(out)
            else:
                print_table(f"{code} for {customer}", [v.model_dump() for v in found])
            return
        figures = evaluation.evaluate_tag(stores, code, _segment_users(stores))
    if json:
        print_json({"tag": tag, "history": history, "evaluation": figures})
    else:
        print_table(f"{tag.code} v{tag.version} ({tag.status.value})", [tag.model_dump(exclude={"spec"})])
        console.print(jsonlib.dumps(tag.spec, ensure_ascii=False, indent=2))
        print_table("lifecycle", [h.model_dump() for h in history])
        _print_figures(figures)


def _segment_users(stores: Stores) -> evaluation.SegmentUsers:
    """Which saved segments read a tag (audiences reads tags, so it is imported here, not at the top)."""
    from tagora.audiences import facade as audiences

    return lambda code: audiences.segments_using(stores, code)


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.1f}%"


def _print_figures(e: TagEvaluation) -> None:
    last = f"run {e.last_run.id} {e.last_run.status}" if e.last_run else "never computed"
    stdout.print(
        f"coverage {_percent(e.coverage)} ({e.customers_with_value:,} of {e.live_customers:,} customers); "
        f"last run: {last}{'; STALE' if e.stale else ''}{'; FAILING' if e.failing else ''}"
    )
    if e.distribution.values:
        rows = [
            {"value": v.value, "customers": v.count, "share": _percent(v.share)}
            for v in e.distribution.values
        ]
        print_table("distribution", rows)
    if e.distribution.bins:
        rows = [
            {"from": f"{b.low:g}", "to": f"{b.high:g}", "customers": b.count} for b in e.distribution.bins
        ]
        print_table(f"distribution (mean {e.distribution.mean:g})", rows)
    if e.drift:
        stdout.print(f"drift since run {e.drift.previous_run_id}: PSI {e.drift.psi:.4f} ({e.drift.level})")
    segments, rule_tags = ", ".join(e.usage.segments) or "–", ", ".join(e.usage.rule_tags) or "–"
    stdout.print(f"used by segments: {segments}; rule tags: {rule_tags}")


@tags_app.command("export")
def export(
    code: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="A .csv or .xlsx file.")],
    as_user: AsUser = None,
) -> None:
    """Every customer's current value of a tag, to CSV or Excel (masked for roles without pii:view)."""
    from tagora.tags.exports import export_tag_values

    fmt = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    with cli_stores() as stores:
        output.write_bytes(export_tag_values(stores, _actor(stores, as_user), code, fmt))
    console.print(f"wrote {output}")


@tags_app.command("report")
def report(json: Json = False) -> None:
    """Value report: coverage, freshness and users of every live tag; the unused, stale and failing."""
    from tagora.tags import evaluation

    with cli_stores() as stores:
        found = evaluation.value_report(stores, _segment_users(stores))
    if json:
        print_json(found)
        return
    rows = [
        {"code": r.code, "coverage": _percent(r.coverage), "last run": r.last_run_status or "–",
         "segments": len(r.segments), "rule tags": len(r.rule_tags),
         "flags": " ".join(n for n in ("unused", "stale", "failing") if getattr(r, n))}
        for r in found.tags
    ]  # fmt: skip
    print_table(f"{len(found.tags)} live tags, {found.live_customers:,} customers", rows)
    for name in ("unused", "stale", "failing"):
        codes = getattr(found, name)
        stdout.print(f"{name} ({len(codes)}): {', '.join(codes) or '–'}")


def _read_definition(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AppError(CoreErrorCode.BAD_FILE, f"cannot read {path}: {exc}", 422, {"field": "file"}) from exc
    if not isinstance(data, dict):
        raise AppError(CoreErrorCode.BAD_FILE, f"{path} must hold one tag definition (a mapping)", 422)
    return data


@tags_app.command("create")
def create(
    file: Annotated[Path, typer.Argument(help="A YAML or JSON tag definition.")],
    comment: Comment = "",
    as_user: AsUser = None,
    json: Json = False,
) -> None:
    """Create a tag (as a draft) from a definition file."""
    from tagora.tags import logic

    with cli_stores() as stores:
        draft = logic.validate_draft(_read_definition(file))
        tag = logic.create_tag(stores.sessions, _actor(stores, as_user), draft, comment)
    print_json(tag) if json else console.print(f"created {tag.code} v{tag.version} ({tag.status.value})")


def _step(verb: str) -> None:
    def command(code: str, comment: Comment = "", as_user: AsUser = None, json: Json = False) -> None:
        from tagora.tags import logic

        with cli_stores() as stores:
            tag = logic.transition(stores, _actor(stores, as_user), code, verb, comment)
        print_json(tag) if json else console.print(f"{tag.code} v{tag.version} is now {tag.status.value}")

    command.__doc__ = f"{verb.capitalize()} a tag (see docs/tags.md for who may)."
    tags_app.command(verb)(command)


# ``tags.logic.TRANSITIONS``'s verbs, spelled out so that ``tagora --help`` need not load the tag logic
# (tests/test_cli_startup.py keeps the two the same).
LIFECYCLE_VERBS = ("submit", "approve", "reject", "publish", "deprecate", "retire")
for _verb in LIFECYCLE_VERBS:
    _step(_verb)


@tags_app.command("install-library")
def install(as_user: AsUser = None, json: Json = False) -> None:
    """Install the built-in tag library (published); tags whose code exists are left alone."""
    from tagora.tags.library import install_library

    with cli_stores() as stores:
        added = install_library(stores.sessions, _actor(stores, as_user))
    print_json({"added": added}) if json else console.print(f"installed {len(added)} tags")


@tags_app.command("compute")
def compute(
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Only these tags (and what they read).")
    ] = None,
    customer: Annotated[list[str] | None, typer.Option("--customer", help="Only these customers.")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Compute as of this day (YYYY-MM-DD); default today.")
    ] = None,
    as_user: AsUser = None,
    json: Json = False,
) -> None:
    """Compute live tags in one batch run."""
    from tagora.tags import queries, runs

    day = _day(as_of)
    with cli_stores() as stores:
        uids = None
        if customer:
            with stores.sessions() as session:
                uids = [queries.resolve_customer(session, key) for key in customer]
        with console.status("computing tags ..."):
            run = runs.compute_tags(stores, _actor(stores, as_user), tag, uids, day)
    if json:
        print_json(run)
    else:
        console.print(
            f"run {run.id} {run.status}: {len(run.tags)} tags, {run.customers:,} customers, "
            f"{run.values_written:,} values in {run.duration_s or 0:.2f} s"
        )
        for where, error in run.errors.items():
            console.print(f"[red]{where}:[/red] {error}")
    if run.status != "succeeded":
        raise typer.Exit(1)


@tags_app.command("prune")
def prune(
    keep_days: Annotated[
        int | None,
        typer.Option(min=1, help="Keep run snapshots this many days (default: TAGORA_TAG_HISTORY_DAYS)."),
    ] = None,
    as_user: AsUser = None,
    json: Json = False,
) -> None:
    """Remove old run snapshots (each tag keeps its last two full runs) and those of runs that died."""
    from tagora.tags import retention

    with cli_stores() as stores:
        days = keep_days or stores.settings.tag_history_days
        done = retention.prune_history(stores, _actor(stores, as_user), days)
    if json:
        print_json(asdict(done))
    else:
        stdout.print(
            f"removed {done.snapshots:,} tag snapshots ({done.values:,} values), keeping {days} days; "
            f"{done.abandoned_runs} abandoned runs marked failed"
        )


@tags_app.command("assign")
def assign(
    code: str,
    customer: Annotated[str | None, typer.Option(help="One customer's key (with --value).")] = None,
    value: Annotated[str | None, typer.Option(help="The value for --customer.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="CSV (UTF-8) with a header row: customer,value.")
    ] = None,
    comment: Comment = "",
    as_user: AsUser = None,
    json: Json = False,
) -> None:
    """Put a manual tag on one customer or, from a file, on many (all rows or none)."""
    from tagora.tags import logic

    if (file is None) == (customer is None) or (customer is not None and value is None):
        console.print("[red]error:[/red] give either --customer KEY --value VALUE, or --file FILE.csv")
        raise typer.Exit(2)
    with cli_stores() as stores:
        rows = _assignments(file) if file is not None else [(customer or "", value or "")]
        assigned = logic.assign_by_key(stores, _actor(stores, as_user), code, rows, comment)
    print_json({"assigned": assigned}) if json else console.print(f"{code}: put on {assigned:,} customers")


def _assignments(path: Path) -> list[tuple[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = {"customer", "value"} - set(reader.fieldnames or ())
            if missing:
                raise AppError(
                    CoreErrorCode.INVALID_INPUT,
                    f"{path}: the header row needs the column(s) {', '.join(sorted(missing))}",
                    422,
                    {"field": "file"},
                )
            return [((r["customer"] or "").strip(), (r["value"] or "").strip()) for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AppError(CoreErrorCode.INVALID_INPUT, f"{path}: {exc}", 422, {"field": "file"}) from exc


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        console.print(f"[red]error:[/red] --as-of {text!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from exc


@tags_app.command("runs")
def list_runs(limit: int = 20, json: Json = False) -> None:
    """Recent computation runs with status, duration and errors."""
    from tagora.tags import runs

    with cli_stores() as stores:
        found = runs.runs(stores, limit)
    if json:
        print_json(found)
    else:
        print_table("tag runs", [r.model_dump(exclude={"tags"}) for r in found])
