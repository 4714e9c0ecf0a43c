"""``tagora import customers|products|orders|events|interactions FILE --mapping M.yaml`` and
``tagora import vcard FILE.vcf``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tagora.core.cli_support import cli_stores, console, print_json, print_table

if TYPE_CHECKING:
    from tagora.ingest.files.schemas import FileImportOptions, FileImportReport

File = Annotated[Path, typer.Argument(help="CSV, Excel (.xlsx), JSON Lines (.jsonl) or Parquet file.")]
MappingOpt = Annotated[
    Path | None,
    typer.Option("--mapping", help="YAML or JSON: target field -> source column (+ options)."),
]
Preview = Annotated[bool, typer.Option("--preview", help="Show the first 20 rows and errors; write nothing.")]
AllOrNothing = Annotated[bool, typer.Option("--all-or-nothing", help="Write nothing if any row is rejected.")]
ErrorsOpt = Annotated[
    Path | None, typer.Option("--errors", help="Write rejected rows (row, field, reason) to this CSV.")
]
Region = Annotated[
    str, typer.Option("--default-region", help="Region for phone numbers without a country code.")
]
Json = Annotated[bool, typer.Option("--json", help="Print the import report as JSON.")]
Source = Annotated[
    str | None,
    typer.Option(
        "--source", help="The system the file comes from, e.g. crm or shop (default file:<format>)."
    ),
]

CreateCustomers = Annotated[
    bool,
    typer.Option(
        "--create-customers", help="Create a bare customer for an unknown customer_key instead of rejecting."
    ),
]


def _options(
    mapping: Path | None,
    preview: bool,
    all_or_nothing: bool,
    errors: Path | None,
    region: str,
    source: str | None,
    create_customers: bool = False,
) -> FileImportOptions:
    from tagora.ingest.files.schemas import FileImportOptions

    return FileImportOptions(
        mapping=mapping,
        preview=preview,
        all_or_nothing=all_or_nothing,
        errors_path=errors,
        default_region=region.upper(),
        source_system=source,
        create_customers=create_customers,
    )


def summarize(report: FileImportReport) -> None:
    from tagora.ingest.files.kinds import FACTS

    console.print(
        f"[bold]{report.source}[/bold] {report.path} ({report.mode}): read {report.rows_read:,} rows, "
        f"valid {report.rows_valid:,}, rejected {report.rows_rejected:,} in {report.seconds:.2f} s"
    )
    for reason, n in report.rejected_by_reason.items():
        console.print(f"  rejected {n:>8,}  {reason}")
    for e in report.errors:
        console.print(f"  row {e.row}: {e.field}: {e.message}")
    if report.duplicates_in_file:
        console.print(
            f"  {report.duplicates_in_file:,} rows repeat an earlier key (the last one wins): "
            + ", ".join(report.duplicate_keys)
        )
    if report.mode == "preview":
        print_table("preview (nothing written)", report.preview)
    elif report.written and report.kind in FACTS:
        _summarize_facts(report)
    elif report.written:
        what = f"{report.created:,} new, {report.updated:,} updated" if report.kind == "customers" else ""
        console.print(f"  wrote {report.records_written:,} {report.kind} {what}".rstrip())
        if report.merged or report.identity_conflicts:
            console.print(
                f"  identity: {report.merged:,} records merged into existing people, "
                f"{report.identity_conflicts:,} shared identities kept apart (tagora identity conflicts)"
            )
    else:
        console.print("  [red]nothing written[/red]: rows were rejected and --all-or-nothing was given")
    if report.errors_file:
        console.print(f"  rejected rows: {report.errors_file}")


def _summarize_facts(report: FileImportReport) -> None:
    what = {"orders": "order lines", "events": "events", "interactions": "interactions"}[report.kind]
    console.print(
        f"  stored {report.records_written:,} new {what}, {report.skipped_existing:,} already present"
    )
    if report.kind == "orders":
        console.print(f"  orders: {report.orders_created:,} new, {report.orders_updated:,} updated")
    if report.customers_created:
        console.print(f"  created {report.customers_created:,} bare customers for unknown keys")


@contextmanager
def _status() -> Iterator[Callable[[str, int, int], None]]:
    """A spinner with the rows read so far (a streamed file has no known total)."""
    with console.status("reading ...") as status:

        def update(description: str, done: int, total: int) -> None:
            status.update(f"importing: {description}")

        yield update


def _finish(report: FileImportReport, json: bool) -> None:
    print_json(report) if json else summarize(report)
    if not report.written and report.mode == "all-or-nothing":
        raise typer.Exit(2)


def customers(
    path: File,
    mapping: MappingOpt = None,
    preview: Preview = False,
    all_or_nothing: AllOrNothing = False,
    errors: ErrorsOpt = None,
    default_region: Region = "CN",
    source: Source = None,
    json: Json = False,
) -> None:
    """Import customers from a file through a column mapping (upserts by customer_key)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.ingest.files import logic

    options = _options(mapping, preview, all_or_nothing, errors, default_region, source)
    with cli_stores() as stores, _status() as progress:
        report = logic.import_customers_file(stores, CLI_OPERATOR, path, options, progress)
    _finish(report, json)


def products(
    path: File,
    mapping: MappingOpt = None,
    preview: Preview = False,
    all_or_nothing: AllOrNothing = False,
    errors: ErrorsOpt = None,
    default_region: Region = "CN",
    source: Source = None,
    json: Json = False,
) -> None:
    """Import products from a file through a column mapping (upserts by sku)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.ingest.files import logic

    options = _options(mapping, preview, all_or_nothing, errors, default_region, source)
    with cli_stores() as stores, _status() as progress:
        report = logic.import_products_file(stores, CLI_OPERATOR, path, options, progress)
    _finish(report, json)


def vcard(
    path: Annotated[Path, typer.Argument(help="A .vcf address book.")],
    preview: Preview = False,
    all_or_nothing: AllOrNothing = False,
    errors: ErrorsOpt = None,
    default_region: Region = "CN",
    source: Source = None,
    json: Json = False,
) -> None:
    """Import phone contacts (.vcf) as customers keyed by vcard:+phone (or email)."""
    from tagora.core.auth import CLI_OPERATOR
    from tagora.ingest.files import logic

    options = _options(None, preview, all_or_nothing, errors, default_region, source)
    with cli_stores() as stores, _status() as progress:
        report = logic.import_vcard(stores, CLI_OPERATOR, path, options, progress)
    _finish(report, json)


def _facts(
    kind: str,
    path: Path,
    options: FileImportOptions,
    json: bool,
) -> None:
    from tagora.core.auth import CLI_OPERATOR
    from tagora.ingest.files import logic

    verbs = {
        "orders": logic.import_orders_file,
        "events": logic.import_events_file,
        "interactions": logic.import_interactions_file,
    }
    with cli_stores() as stores, _status() as progress:
        report = verbs[kind](stores, CLI_OPERATOR, path, options, progress)
    _finish(report, json)


def orders(
    path: File,
    mapping: MappingOpt = None,
    preview: Preview = False,
    all_or_nothing: AllOrNothing = False,
    errors: ErrorsOpt = None,
    default_region: Region = "CN",
    source: Source = None,
    create_customers: CreateCustomers = False,
    json: Json = False,
) -> None:
    """Import order lines (order_id, customer_key, ordered_at, sku, quantity, unit_price, ...); idempotent."""
    options = _options(mapping, preview, all_or_nothing, errors, default_region, source, create_customers)
    _facts("orders", path, options, json)


def events(
    path: File,
    mapping: MappingOpt = None,
    preview: Preview = False,
    all_or_nothing: AllOrNothing = False,
    errors: ErrorsOpt = None,
    default_region: Region = "CN",
    source: Source = None,
    create_customers: CreateCustomers = False,
    json: Json = False,
) -> None:
    """Import behaviour events (event, occurred_at, customer_key and/or anonymous_id, ...); idempotent."""
    options = _options(mapping, preview, all_or_nothing, errors, default_region, source, create_customers)
    _facts("events", path, options, json)


def interactions(
    path: File,
    mapping: MappingOpt = None,
    preview: Preview = False,
    all_or_nothing: AllOrNothing = False,
    errors: ErrorsOpt = None,
    default_region: Region = "CN",
    source: Source = None,
    create_customers: CreateCustomers = False,
    json: Json = False,
) -> None:
    """Import CRM interactions (customer_key, kind, body, author, occurred_at); idempotent."""
    options = _options(mapping, preview, all_or_nothing, errors, default_region, source, create_customers)
    _facts("interactions", path, options, json)
