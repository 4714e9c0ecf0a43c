"""The built-in library gives the same values on Spark (local mode) as on DuckDB, from the same definitions.

A run computes the library on DuckDB; the same Ibis expression (``compute.value_rows``) then runs on a
local Spark session over copies of the same facts, profiles and product categories.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores
from tagora.ingest.logic import import_dataset
from tagora.ingest.sources.synthetic.generate import generate_dataset
from tagora.tags import facts
from tagora.tags.compute import value_rows, with_dependencies
from tagora.tags.facts import PRODUCTS, AsOf
from tagora.tags.library import install_library
from tagora.tags.models import CURRENT
from tagora.tags.population import PROFILES, read_products, read_profiles
from tagora.tags.runs import compute_tags, live_drafts, split
from tagora.tags.schemas import TagDraft
from tagora.tags.specs import Bucket, StatisticalSpec, TagValueType, WeightedSpec
from tests.conftest import need

START, END = date(2024, 1, 1), date(2025, 6, 30)
FACTS = ("orders", "order_lines", "events")
# PySpark 4.0 and Ibis still use pandas options that pandas 3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    need(importlib.util.find_spec("pyspark") is not None, "pyspark is not installed")
    need(shutil.which("java") is not None or "JAVA_HOME" in os.environ, "Java is not installed")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[1]")
        .appName("tagora-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.memory", "512m")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def sample(stores: Stores, tmp_path: Path) -> Stores:
    """300 synthetic customers with their orders and events, and the built-in library."""
    generate_dataset(tmp_path / "shop", 300, 11, START, END)
    import_dataset(stores, CLI_OPERATOR, tmp_path / "shop")
    install_library(stores.sessions, CLI_OPERATOR)
    return stores


def _values(rows: pd.DataFrame, weighted: set[str]) -> dict[tuple[int, str], Any]:
    """(uid, tag) -> the value: a number, a text, or a weighted tag's {value: weight}."""
    found: dict[tuple[int, str], Any] = {}
    for r in rows.itertuples(index=False):
        key = (int(r.uid), str(r.tag))
        if r.tag in weighted:
            found.setdefault(key, {})[r.value] = float(r.weight)
        else:
            found[key] = float(r.number) if pd.notna(r.number) else r.value
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        # Decay ages in seconds: DuckDB keeps the fraction of a second, Spark's epoch seconds do not.
        return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=1e-5) for k in a)
    return bool(a == b)


def _bucket(value: Any, buckets: list[Bucket]) -> str:
    for bucket in buckets:
        if bucket.below is None or value < bucket.below:
            return bucket.value
    return str(value)


Ties = dict[tuple[int, str], set[str]]


def _tied_modes(con: BaseBackend, drafts: dict[str, TagDraft], as_of: AsOf) -> Ties:
    """(uid, tag) -> the values of a mode tag when several are equally frequent, counted per value."""
    ties: Ties = {}
    for code, draft in drafts.items():
        spec = draft.spec
        if not isinstance(spec, StatisticalSpec) or spec.measure.fn != "mode" or not spec.measure.field:
            continue
        field = spec.measure.field
        t = facts.source_table(con, spec.source, as_of, facts.fields_needed([spec.measure]), None)
        window = facts.window_condition(t, spec.source, as_of, spec.window)
        where = facts.both(facts.condition(t, spec.measure.filters), window)
        t = t.filter(t[field].notnull(), *([where] if where is not None else []))
        counts = t.group_by(["uid", field]).aggregate(n=t.count()).to_pandas()
        top = counts[counts.n == counts.groupby("uid").n.transform("max")]
        for uid, value in zip(top.uid, top[field], strict=True):
            ties.setdefault((int(uid), code), set()).add(_bucket(value, spec.buckets))
    return {k: v for k, v in ties.items() if len(v) > 1}


def _collected(wide: ir.Table) -> ir.Table:
    return ibis.memtable(wide.to_pyarrow())


def _on_spark(spark: Any, stores: Stores, as_of: date) -> tuple[pd.DataFrame, Ties]:
    from tagora.core.spark import connect

    con = connect(spark)
    for name in FACTS:
        con.create_view(name, ibis.memtable(stores.warehouse.table(name).to_pyarrow()), overwrite=True)
    with stores.sessions() as session:
        con.create_view(PROFILES, ibis.memtable(read_profiles(session, None)), overwrite=True)
        con.create_view(PRODUCTS, ibis.memtable(read_products(session)), overwrite=True)
    live, external = split(live_drafts(stores))
    assert not external  # the library reads no manual or model tags
    drafts = with_dependencies(live, list(live))
    # The wide table is staged as plain rows: Spark plans each tag's branch over it far faster than over
    # a cached plan (``.cache()``), which it compares with every branch.
    rows = value_rows(con, drafts, AsOf(as_of), None, external, stage=_collected)
    assert rows is not None
    return rows.to_pandas(), _tied_modes(con, drafts, AsOf(as_of))


def test_the_built_in_library_gives_the_same_values_on_spark_as_on_duckdb(sample: Stores, spark: Any) -> None:
    run = compute_tags(sample, as_of=END)
    assert run.status == "succeeded", run.errors
    current = sample.warehouse.table(CURRENT)
    duck = current.filter(current.run_id == run.id).to_pandas()
    drafts = live_drafts(sample)
    weighted = {c for c, d in drafts.items() if isinstance(d.spec, WeightedSpec)}

    spark_rows, ties = _on_spark(spark, sample, END)
    on_duckdb, on_spark = _values(duck, weighted), _values(spark_rows, weighted)

    assert len(drafts) >= 30 and set(drafts) == {tag for _, tag in on_duckdb}  # every tag has values
    assert on_spark.keys() == on_duckdb.keys()
    differing = {k: (on_duckdb[k], on_spark[k]) for k in on_duckdb if not _same(on_duckdb[k], on_spark[k])}
    # A mode (preferred category, channel, hour) with a tie is either of the tied values: DuckDB does not
    # say which one it returns, Spark returns the lowest. Anything else must be identical.
    unexplained = {k: v for k, v in differing.items() if not (k in ties and set(v) <= ties[k])}
    assert not unexplained, dict(list(unexplained.items())[:10])
    numbers = {c for c, d in drafts.items() if d.value_type is TagValueType.NUMBER}
    assert numbers and weighted and len(duck) > 1000
