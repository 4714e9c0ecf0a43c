"""Write verbs for file imports: customers, products, vCard address books, order lines, events and
interactions (``import_<kind>_file``).

Rows stream through in chunks. By default each chunk is validated and written in its own
transaction (a chunk is never half written). With ``all_or_nothing`` the whole file is validated
first; any rejected row means nothing is written, otherwise every chunk is written in one transaction.
``preview`` validates everything and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from time import perf_counter
from typing import Any

import duckdb
import phonenumbers
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tagora.core import audit
from tagora.core.auth import Principal
from tagora.core.db import transaction
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.identity import facade as identity
from tagora.ingest.files import facts, formats, mapping, products, vcard
from tagora.ingest.files.batches import Batch, ErrorCsv, Screen, SeenKeys, Validator
from tagora.ingest.files.errors import FileImportErrorCode
from tagora.ingest.files.kinds import FACTS, MODELS, ROW_KEYS
from tagora.ingest.files.schemas import SAMPLE, FileImportOptions, FileImportReport
from tagora.ingest.loading import Progress
from tagora.profiles.facade import customer_keys_to_uids, upsert_customers, upsert_products

# The warehouse is DuckDB by default; Ibis lets its errors through as the driver's own.
WAREHOUSE_ERRORS = (SQLAlchemyError, duckdb.Error)
Opener = Callable[[], AbstractContextManager[tuple[list[str], formats.Rows]]]


def import_customers_file(
    stores: Stores,
    actor: Principal,
    path: str | Path,
    options: FileImportOptions | None = None,
    progress: Progress | None = None,
) -> FileImportReport:
    """Import customers from CSV, Excel, JSON Lines or Parquet through a column mapping."""
    return _import_table(stores, actor, "customers", Path(path), options or FileImportOptions(), progress)


def import_products_file(
    stores: Stores,
    actor: Principal,
    path: str | Path,
    options: FileImportOptions | None = None,
    progress: Progress | None = None,
) -> FileImportReport:
    """Import products from CSV, Excel, JSON Lines or Parquet through a column mapping."""
    return _import_table(stores, actor, "products", Path(path), options or FileImportOptions(), progress)


def import_orders_file(
    stores: Stores,
    actor: Principal,
    path: str | Path,
    options: FileImportOptions | None = None,
    progress: Progress | None = None,
) -> FileImportReport:
    """Import order lines (and the orders they make up); importing the same file again changes nothing."""
    return _import_table(stores, actor, "orders", Path(path), options or FileImportOptions(), progress)


def import_events_file(
    stores: Stores,
    actor: Principal,
    path: str | Path,
    options: FileImportOptions | None = None,
    progress: Progress | None = None,
) -> FileImportReport:
    """Import behaviour events, keyed by event_id (generated from the content when the file has none)."""
    return _import_table(stores, actor, "events", Path(path), options or FileImportOptions(), progress)


def import_interactions_file(
    stores: Stores,
    actor: Principal,
    path: str | Path,
    options: FileImportOptions | None = None,
    progress: Progress | None = None,
) -> FileImportReport:
    """Import CRM interactions (notes, calls, visits ...) logged against customers."""
    return _import_table(stores, actor, "interactions", Path(path), options or FileImportOptions(), progress)


def import_vcard(
    stores: Stores,
    actor: Principal,
    path: str | Path,
    options: FileImportOptions | None = None,
    progress: Progress | None = None,
) -> FileImportReport:
    """Import a phone address book (.vcf) as customers keyed by ``vcard:`` + phone (or email)."""
    path, options = Path(path), options or FileImportOptions()
    _check_region(options)
    if options.mapping is not None:
        raise AppError(
            FileImportErrorCode.BAD_MAPPING, "vCard imports take no mapping file", 400, {"file": str(path)}
        )
    fields = mapping.Mapping(fields={f: mapping.FieldMap(column=f) for f in vcard.HEADER})

    def opener() -> AbstractContextManager[tuple[list[str], formats.Rows]]:
        return vcard.open_vcards(path, options.default_region)

    report = _new_report("customers", "vcard", path, options)
    return _run(stores, actor, report, opener, fields, options, progress)


def _check_region(options: FileImportOptions) -> None:
    if options.default_region not in phonenumbers.SUPPORTED_REGIONS:
        raise AppError(
            FileImportErrorCode.BAD_OPTION,
            f"unknown default region {options.default_region!r} (use a two-letter code such as CN or US)",
            400,
            {"field": "default_region"},
        )


def _new_report(kind: str, fmt: str, path: Path, options: FileImportOptions) -> FileImportReport:
    mode = "preview" if options.preview else "all-or-nothing" if options.all_or_nothing else "chunked"
    source = f"{fmt} {kind}" if fmt != "vcard" else "vcard"
    system = (options.source_system or "").strip() or f"file:{fmt}"
    return FileImportReport(
        source=source,
        kind=kind,
        format=fmt,
        path=str(path),
        mode=mode,
        source_system=system[:64],
        default_region=options.default_region,
    )


def _import_table(
    stores: Stores,
    actor: Principal,
    kind: str,
    path: Path,
    options: FileImportOptions,
    progress: Progress | None,
) -> FileImportReport:
    _check_region(options)
    fmt = formats.detect(path)
    if fmt == "vcard":
        raise AppError(
            FileImportErrorCode.UNSUPPORTED_FORMAT,
            f"{path.name}: import address books with `tagora import vcard`",
            400,
            {"file": str(path)},
        )
    chosen = mapping.load_mapping(options.mapping, kind) if options.mapping else None

    def opener() -> AbstractContextManager[tuple[list[str], formats.Rows]]:
        return formats.open_rows(path, fmt, options.chunk_size)

    with opener() as (header, _rows):
        fields = chosen or mapping.auto_mapping(kind, header)
        mapping.check_columns(fields, kind, header, path)
    return _run(stores, actor, _new_report(kind, fmt, path, options), opener, fields, options, progress)


def _run(
    stores: Stores,
    actor: Principal,
    report: FileImportReport,
    opener: Opener,
    fields: mapping.Mapping,
    options: FileImportOptions,
    progress: Progress | None,
) -> FileImportReport:
    started = perf_counter()
    kind = report.kind
    validator = Validator(
        MODELS[kind],
        ROW_KEYS[kind],
        mapping.projector(fields),
        fields.context(options.default_region),
        keep_first=kind in FACTS,
        numbered="order_id" if kind == "orders" and "line_no" not in fields.fields else None,
        screen=_screen(stores, kind, options),
    )
    report.errors_file = str(options.errors_path) if options.errors_path else None
    write_now = not options.preview and not options.all_or_nothing
    with ExitStack() as stack:
        errors = ErrorCsv(options.errors_path)
        stack.callback(errors.close)
        for batch in _validated(opener, validator, options.chunk_size):
            _tally(report, batch, options.preview)
            errors.write(batch.errors)
            if write_now:
                _write_chunk(stores, actor, report, batch, options)
            _tell(progress, report)
    if options.all_or_nothing and not options.preview and report.rows_rejected == 0:
        _write_all(stores, actor, report, opener, validator, options)
    refused = options.all_or_nothing and report.rows_rejected > 0
    report.written = not options.preview and not refused
    report.rows_loaded = report.rows_valid if report.written else 0
    report.rejected_by_reason = dict(sorted(report.rejected_by_reason.items()))
    report.seconds = round(perf_counter() - started, 3)
    if not options.preview and report.chunks_committed:
        with transaction(stores.sessions) as audit_session:
            audit.record(
                audit_session, actor.username, f"import.{kind}_file", "import", report.path, **_audit(report)
            )
    return report


def _screen(stores: Stores, kind: str, options: FileImportOptions) -> Screen | None:
    """The check of valid rows against the stores: facts need their customers, products their catalogue."""
    if kind in FACTS:
        return facts.screen(stores, options)
    return products.screen(stores) if kind == "products" else None


def _validated(opener: Opener, validator: Validator, size: int) -> Iterator[Batch]:
    seen = SeenKeys()
    with opener() as (_header, rows):
        for batch in validator.batches(rows, size):
            again = seen.repeated(list(batch.good))
            batch.duplicate_keys += again
            if validator.keep_first:  # a fact an earlier chunk had: that first row wins
                for key in again:
                    del batch.good[key]
            yield batch


def _tally(report: FileImportReport, batch: Batch, preview: bool) -> None:
    report.rows_read += batch.rows_read
    report.rows_rejected += batch.rejected_rows
    report.rows_valid += batch.accepted
    report.duplicates_in_file += len(batch.duplicate_keys)
    for error in batch.errors:
        reason = f"{error.field}: {error.reason}"
        report.rejected_by_reason[reason] = report.rejected_by_reason.get(reason, 0) + 1
    room = SAMPLE - len(report.errors)
    report.errors += batch.errors[: max(room, 0)]
    room = SAMPLE - len(report.duplicate_keys)
    report.duplicate_keys += batch.duplicate_keys[: max(room, 0)]
    if preview and len(report.preview) < SAMPLE:
        report.preview += list(batch.good.values())[: SAMPLE - len(report.preview)]


def _upsert(session: Session, actor: Principal, report: FileImportReport, batch: Batch) -> list[int]:
    """Writes one chunk; returns the customer records it touched (to resolve into people)."""
    rows = list(batch.good.values())
    source = report.source_system
    records: list[int] = []
    if report.kind == "customers":
        existing = customer_keys_to_uids(session, list(batch.good))
        records = list(upsert_customers(session, actor, rows, source, report.default_region).values())
        report.updated += len(existing)
        report.created += len(rows) - len(existing)
    else:
        upsert_products(session, actor, rows, source)
    report.records_written += len(rows)
    return records


def _resolve(stores: Stores, actor: Principal, report: FileImportReport, records: list[int]) -> None:
    if records:
        resolved = identity.resolve_profiles(stores, actor, records)
        report.merged += resolved.merged
        report.identity_conflicts += resolved.conflicts


def _write_chunk(
    stores: Stores, actor: Principal, report: FileImportReport, batch: Batch, options: FileImportOptions
) -> None:
    if not batch.good:
        return
    if report.kind in FACTS:
        try:
            facts.FactWriter(stores, actor, report, options).chunk(batch)
        except WAREHOUSE_ERRORS as exc:
            raise _write_failed(report, exc) from exc
        return
    try:
        with transaction(stores.sessions) as session:
            records = _upsert(session, actor, report, batch)
    except SQLAlchemyError as exc:
        raise _write_failed(report, exc) from exc
    report.chunks_committed += 1
    _resolve(stores, actor, report, records)


def _write_all(
    stores: Stores,
    actor: Principal,
    report: FileImportReport,
    opener: Opener,
    validator: Validator,
    options: FileImportOptions,
) -> None:
    """Second pass of an all-or-nothing import: the file is known to be clean; one transaction (for
    facts in the warehouse: chunk by chunk, see ``facts.FactWriter.all``)."""
    size = options.chunk_size
    if report.kind in FACTS:
        writer = facts.FactWriter(stores, actor, report, options)
        try:
            writer.all(_unchanged(report, _validated(opener, validator, size)))
        except WAREHOUSE_ERRORS as exc:
            raise _write_failed(report, exc, all_or_nothing=report.kind == "interactions") from exc
        return
    written = FileImportReport.model_validate(report.model_dump())
    records: list[int] = []
    try:
        with transaction(stores.sessions) as session:
            for batch in _unchanged(report, _validated(opener, validator, size)):
                records += _upsert(session, actor, written, batch)
                written.chunks_committed += 1
    except SQLAlchemyError as exc:
        raise _write_failed(report, exc, all_or_nothing=True) from exc
    _resolve(stores, actor, report, records)
    report.created, report.updated = written.created, written.updated
    report.records_written, report.chunks_committed = written.records_written, written.chunks_committed


def _unchanged(report: FileImportReport, batches: Iterator[Batch]) -> Iterator[Batch]:
    for batch in batches:
        if batch.rejected_rows:  # the file (or the store) changed between the passes
            raise AppError(
                FileImportErrorCode.REJECTED_ROWS,
                f"{report.path} changed while importing; nothing more was written",
                400,
                {"file": report.path},
            )
        yield batch


def _write_failed(report: FileImportReport, exc: Exception, all_or_nothing: bool = False) -> AppError:
    kept = "nothing was written" if all_or_nothing else (
        f"{report.chunks_committed} earlier chunk(s) ({report.records_written:,} records) were committed"
    )  # fmt: skip
    return AppError(
        FileImportErrorCode.WRITE_FAILED,
        f"writing {report.path} failed after {report.rows_read:,} rows ({kept}): {exc.__class__.__name__}",
        500,
        {"file": report.path, "rows_read": report.rows_read, "chunks_committed": report.chunks_committed},
    )


def _tell(progress: Progress | None, report: FileImportReport) -> None:
    if progress is not None:
        progress(f"{report.rows_read:,} rows", report.rows_read, report.rows_read + 1)


def _audit(report: FileImportReport) -> dict[str, Any]:
    return report.model_dump(
        include={"format", "mode", "rows_read", "rows_loaded", "rows_rejected", "created", "updated"}
    )
