"""A data set import moves its files to the warehouse in bounded chunks, with the same result as at once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.ingest import logic, reading
from tagora.ingest.sources.synthetic.generate import generate_dataset
from tagora.profiles.facade import EVENTS, ORDER_LINES, ORDERS
from tests.conftest import make_settings

FACTS = {"events": EVENTS, "order_lines": ORDER_LINES, "orders": ORDERS}


def _facts(stores: Stores) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for name, schema in FACTS.items():
        rows = stores.warehouse.table(name).select(*schema.names).order_by(list(schema.names)).to_pyarrow()
        out[name] = [tuple(r.values()) for r in rows.to_pylist()]
    return out


def test_a_data_set_imported_in_small_chunks_stores_exactly_what_one_chunk_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_dataset(tmp_path / "data", 120, 3, date(2025, 1, 1), date(2026, 6, 30))
    whole = open_stores(make_settings(tmp_path / "whole"))
    try:
        at_once = logic.import_dataset(whole, CLI_OPERATOR, tmp_path / "data")
        expected = _facts(whole)
    finally:
        whole.close()
    monkeypatch.setattr(logic, "CHUNK_ROWS", 97)  # thousands of events: dozens of chunks
    chunked = open_stores(make_settings(tmp_path / "chunked"))
    try:
        report = logic.import_dataset(chunked, CLI_OPERATOR, tmp_path / "data")
        assert report.events == at_once.events > 97 * 10
        assert (report.order_lines, report.orders) == (at_once.order_lines, at_once.orders)
        assert _facts(chunked) == expected
        facts_only = tmp_path / "facts"
        facts_only.mkdir()
        for name in ("order_lines.csv", "events.csv"):
            (facts_only / name).write_bytes((tmp_path / "data" / name).read_bytes())
        again = logic.import_dataset(chunked, CLI_OPERATOR, facts_only)  # still idempotent
        assert (again.events, again.events_skipped_existing) == (0, at_once.events)
        assert (again.order_lines, again.lines_skipped_existing) == (0, at_once.order_lines)
    finally:
        chunked.close()


def test_the_scratch_database_spills_to_disk_past_its_memory_limit() -> None:
    con = reading.connect_scratch()
    try:
        limit = con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
        folder = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]
    finally:
        con.disconnect()
    assert limit.replace(" ", "") in ("953.6MiB", "1.0GiB", "1GB", "1000.0MB")
    assert "tagora-scratch-" in folder and not Path(folder).exists()  # deleted with the connection
