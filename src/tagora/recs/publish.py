"""What recommendations publish into the tag catalogue: each customer's recommended categories.

A model tag like scoring's, so segments can select "customers we would recommend garden tools to".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tagora.recs.base import Recommender, top_n_rows, with_popularity_ties
from tagora.recs.evaluate import batches

RECOMMENDED_CATEGORIES = "recommended_categories"
CATEGORIES_PER_CUSTOMER = 3
LIST_SIZE = 10

TAGS: dict[str, dict[str, Any]] = {
    RECOMMENDED_CATEGORIES: {
        "code": RECOMMENDED_CATEGORIES,
        "name_zh": "推荐品类",
        "name_en": "Recommended categories",
        "category": "preferences",
        "type": "model",
        "value_type": "weighted",
        "values": [],
        "description": f"The categories of the customer's top {LIST_SIZE} recommendations, at most "
        f"{CATEGORIES_PER_CUSTOMER}, best-ranked first (the served recommendation model).",
        "owner": "recs",
        "spec": {"kind": "model", "model_name": "recs"},
    }
}

Row = tuple[int, str | None, float | None]


def category_rows(model: Recommender) -> list[Row]:
    """(uid, category path, None) for each customer's best-ranked categories; products without one skipped."""
    X = model.interactions_
    categories = X.items.categories
    if not any(categories):
        return []
    out: list[Row] = []
    for part in batches(X.shape[0], 1024):
        rows = np.arange(part.start, part.stop)
        top = top_n_rows(with_popularity_ties(model.score_rows(rows), model.popularity_), LIST_SIZE)
        for row, cols in zip(rows.tolist(), top, strict=True):
            uid = int(X.uids[row])
            if uid < 0:  # an erased customer's row
                continue
            picked = list(dict.fromkeys(str(categories[c]) for c in cols.tolist() if categories[c]))
            out += [(uid, c, None) for c in picked[:CATEGORIES_PER_CUSTOMER]]
    return out
