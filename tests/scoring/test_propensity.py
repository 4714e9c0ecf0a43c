"""Category propensity: a backtested model per product category, with deciles and a lift table."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores, open_stores
from tagora.scoring import logic
from tagora.scoring.propensity import deciles
from tagora.settings import get_settings
from tests.conftest import run_cli


def test_a_propensity_run_per_category_is_backtested_against_past_category_spend(shop: Stores) -> None:
    run = logic.train_model(shop, CLI_OPERATOR, "propensity", date(2025, 12, 31), 90, target="服装")
    assert (
        run.name == "propensity:服装" and run.parameters["target"] == "服装" and run.parameters["skus"] > 10
    )
    assert set(run.metrics["auc"]) == {"model", "past_category_spend"}
    assert 0.5 < run.metrics["auc"]["model"]["auc"] <= 1
    lift = run.metrics["lift"]
    assert len(lift) == 10 and sum(row["customers"] for row in lift) == run.metrics["customers"]
    assert lift[0]["lift"] > 1


def test_propensity_without_a_known_category_is_a_clear_error(shop: Stores) -> None:
    for target in (None, "no such category"):
        with pytest.raises(AppError) as refused:
            logic.train_model(shop, CLI_OPERATOR, "propensity", date(2025, 12, 31), 90, target=target)
        assert refused.value.status == 422 and refused.value.data == {"field": "target"}


def test_deciles_put_the_highest_scores_first_in_equal_tenths() -> None:
    score = np.arange(100.0)
    d = deciles(score)
    assert d[99] == 1 and d[0] == 10 and np.bincount(d)[1:].tolist() == [10] * 10


def test_propensity_scores_rank_every_customer_with_deciles(shop: Stores, tmp_path: Path) -> None:
    frame = logic.propensity_scores(shop, "服装", date(2025, 12, 31), 90)
    assert frame["score"].is_monotonic_decreasing and frame["score"].between(0, 1).all()
    assert frame["decile"].iloc[0] == 1 and frame["decile"].iloc[-1] == 10
    assert frame["customer_key"].is_unique


def test_the_propensity_command_writes_the_ranked_file(
    cli_home: Path, shop_folder: Path, tmp_path: Path
) -> None:
    run_cli("import", "dataset", str(shop_folder))
    out = tmp_path / "clothes.csv"
    run_cli("models", "propensity", "--target", "服装", "--cutoff", "2025-12-31", "--output", str(out))
    with out.open(encoding="utf-8-sig") as fh:  # the one export writer starts a CSV with the mark Excel needs
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["customer_key", "score", "decile"] and rows[0]["decile"] == "1"
    stores = open_stores(get_settings())
    with stores.sessions() as session:
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "propensity.export")).all()
    stores.close()
    assert [(a.target_id, a.detail["rows"]) for a in audits] == [("服装", len(rows))]
