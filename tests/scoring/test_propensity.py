"""Category propensity: a backtested model per product category, with deciles and a lift table."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from tagora.core.auth import CLI_OPERATOR
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.scoring import logic
from tagora.scoring.propensity import deciles


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
