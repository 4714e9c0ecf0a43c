"""Behaviour weights and time decay in the user x item matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tagora.recs.interactions import build_interactions
from tests.recs.conftest import frame


def test_a_single_purchase_outweighs_any_number_of_clicks_views_or_carts() -> None:
    rows = [(1, "bought", "purchase", "2024-01-01")]
    rows += [(1, "clicked", "click", "2024-01-01")] * 1000
    rows += [(1, "viewed", "view", "2024-01-01")] * 50 + [(1, "carted", "cart", "2024-01-01")] * 20
    X = build_interactions(frame(rows), half_life_days=None)
    weight = {sku: X.matrix[0, X.col(sku)] for sku in ("bought", "carted", "viewed", "clicked")}
    assert weight["bought"] > weight["carted"] > weight["viewed"] > weight["clicked"] > 0


def test_with_a_half_life_an_old_purchase_weighs_less_than_a_recent_one() -> None:
    rows = [(1, "old", "purchase", "2024-01-01"), (1, "new", "purchase", "2024-03-31")]
    X = build_interactions(frame(rows), half_life_days=30.0)
    assert X.matrix[0, X.col("old")] < 0.5 * X.matrix[0, X.col("new")]
    assert X.as_of == pd.Timestamp("2024-03-31", tz="UTC").timestamp()


def test_the_matrix_is_float32_csr_and_unknown_behaviours_are_ignored() -> None:
    rows = [(7, "a", "purchase", "2024-01-01"), (9, "b", "wishlist", "2024-01-01")]
    X = build_interactions(frame(rows))
    assert X.matrix.format == "csr" and X.matrix.dtype == np.float32
    assert X.uids.tolist() == [7] and X.items.skus.tolist() == ["a"]
    assert X.row(9) is None and X.col("b") is None


def test_catalogue_names_categories_and_prices_line_up_with_columns() -> None:
    rows = [(1, "b", "purchase", "2024-01-01"), (1, "a", "view", "2024-01-01")]
    catalogue = pd.DataFrame(
        {
            "sku": ["a", "b"],
            "name": ["Apple", "Bread"],
            "category_path": ["food/fruit", "food"],
            "brand": [None, "Baker"],
            "price": [1.5, None],
        }
    )
    X = build_interactions(frame(rows), catalogue)
    assert X.items.names.tolist() == ["Apple", "Bread"]
    assert X.items.categories.tolist() == ["food/fruit", "food"]
    assert X.items.brands.tolist() == ["", "Baker"]
    assert X.items.prices[0] == 1.5 and np.isnan(X.items.prices[1])
