"""The built-in library gives the same values on a PostgreSQL warehouse as on DuckDB (Spark: test_spark.py).

The same generated shop is imported twice, once with the embedded DuckDB warehouse and once with a
PostgreSQL one (``TAGORA_WAREHOUSE_URL=postgres://...``), and a full tag run computes the whole library on
each; every customer's every tag must agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tagora.core.auth import CLI_OPERATOR
from tagora.core.db import make_engine
from tagora.core.stores import Stores, open_stores
from tagora.ingest.logic import import_dataset
from tagora.ingest.sources.synthetic.generate import generate_dataset
from tagora.tags.compute import with_dependencies
from tagora.tags.facts import AsOf
from tagora.tags.library import install_library
from tagora.tags.models import CURRENT
from tagora.tags.runs import compute_tags, live_drafts, split
from tagora.tags.specs import WeightedSpec
from tests.conftest import make_settings
from tests.tags.test_spark import END, START, _same, _tied_modes, _values

pytestmark = [pytest.mark.postgres, pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]


@pytest.fixture
def pg_warehouse(postgres_url: str, tmp_path: Path) -> Iterator[Stores]:
    """Stores whose warehouse is a fresh schema on the CI PostgreSQL (the metadata stays on SQLite)."""
    schema = f"w_{uuid.uuid4().hex[:12]}"  # generated here, never user input
    admin = create_engine(make_engine(postgres_url).url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    warehouse = postgres_url.replace("postgresql://", "postgres://") + f"?options=-csearch_path%3D{schema}"
    stores = open_stores(make_settings(tmp_path / "pg-home", warehouse_url=warehouse))
    try:
        assert stores.warehouse.name == "postgres"
        yield stores
    finally:
        stores.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _computed(stores: Stores, shop: Path) -> tuple[dict[tuple[int, str], object], dict[int, str]]:
    import_dataset(stores, CLI_OPERATOR, shop)
    install_library(stores.sessions, CLI_OPERATOR)
    run = compute_tags(stores, as_of=END)
    assert run.status == "succeeded", run.errors
    weighted = {c for c, d in live_drafts(stores).items() if isinstance(d.spec, WeightedSpec)}
    current = stores.warehouse.table(CURRENT)
    values = _values(current.filter(current.run_id == run.id).to_pandas(), weighted)
    with stores.sessions() as session:
        keys = dict(session.execute(text("SELECT uid, customer_key FROM customers")).tuples().all())
    return values, keys


def test_the_built_in_library_gives_the_same_values_on_postgresql_as_on_duckdb(
    stores: Stores, pg_warehouse: Stores, tmp_path: Path
) -> None:
    generate_dataset(tmp_path / "shop", 300, 11, START, END)
    on_duckdb, duck_keys = _computed(stores, tmp_path / "shop")
    on_postgres, pg_keys = _computed(pg_warehouse, tmp_path / "shop")

    assert pg_keys == duck_keys  # the same customers got the same uids
    drafts = live_drafts(stores)
    assert len(drafts) >= 30 and set(drafts) == {tag for _, tag in on_postgres}  # every tag ran there
    assert on_postgres.keys() == on_duckdb.keys()
    differing = {k: (v, on_postgres[k]) for k, v in on_duckdb.items() if not _same(v, on_postgres[k])}
    # A mode with a tie may be either tied value (neither database says which it returns).
    live, _ = split(drafts)
    ties = _tied_modes(stores.warehouse, with_dependencies(live, list(live)), AsOf(END))
    unexplained = {k: v for k, v in differing.items() if not (k in ties and set(v) <= ties[k])}
    assert not unexplained, dict(list(unexplained.items())[:10])
