"""The user x item matrix every recommender fits on, built from weighted, time-decayed behaviours.

Pure: takes a frame of behaviours (``uid, sku, behaviour, at`` and optionally ``basket``, ``quantity``)
and a frame of items (``sku, name, category_path, brand, price``); no database here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import scipy.sparse as sp

# Costly signals outweigh cheap ones; events are mapped to these four behaviours.
BEHAVIOUR_WEIGHTS: dict[str, float] = {"purchase": 4.0, "cart": 1.5, "view": 0.5, "click": 0.25}
EVENT_BEHAVIOURS: dict[str, str] = {
    "product_view": "view",
    "Product Viewed": "view",
    "add_to_cart": "cart",
    "Product Added": "cart",
    "product_click": "click",
    "Product Clicked": "click",
}
# A behaviour's contribution saturates at this many (decayed) occurrences, so a thousand faked clicks
# weigh no more than two real ones and never outweigh a single purchase.
SATURATION = 2.0
DAY_S = 86400.0


@dataclass(frozen=True)
class ItemInfo:
    """Catalogue columns aligned with the matrix columns."""

    skus: np.ndarray  # str
    names: np.ndarray  # str
    categories: np.ndarray  # str (category path, "a/b/c")
    brands: np.ndarray  # str
    prices: np.ndarray  # float64, nan when unknown


@dataclass(frozen=True)
class Interactions:
    """What a recommender learns from: the weighted matrix plus the purchase log for repeats and baskets."""

    matrix: sp.csr_matrix  # users x items, float32, weighted and time-decayed
    uids: np.ndarray  # int64, row -> uid
    items: ItemInfo
    # The purchase log (row index, column index, seconds since epoch, basket id) for buy-again and rules.
    purchase_rows: np.ndarray
    purchase_cols: np.ndarray
    purchase_at: np.ndarray
    purchase_basket: np.ndarray
    as_of: float  # seconds since epoch; decay and recency are measured from here
    _row_of: dict[int, int] = field(default_factory=dict, compare=False, repr=False)
    _col_of: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._row_of.update({int(u): i for i, u in enumerate(self.uids.tolist())})
        self._col_of.update({str(s): i for i, s in enumerate(self.items.skus.tolist())})

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.matrix.shape[0]), int(self.matrix.shape[1]))

    def row(self, uid: int) -> int | None:
        return self._row_of.get(int(uid))

    def col(self, sku: str) -> int | None:
        return self._col_of.get(str(sku))

    def history(self, row: int) -> np.ndarray:
        """Column indices this user interacted with, strongest first."""
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        cols, vals = self.matrix.indices[start:end], self.matrix.data[start:end]
        return cols[np.argsort(-vals, kind="stable")]


def empty_items(skus: list[str]) -> ItemInfo:
    n = len(skus)
    return ItemInfo(
        skus=np.array(skus, dtype=str),
        names=np.array(skus, dtype=str),
        categories=np.full(n, "", dtype=object).astype(str),
        brands=np.full(n, "", dtype=object).astype(str),
        prices=np.full(n, np.nan),
    )


def item_info(skus: list[str], catalogue: pd.DataFrame | None) -> ItemInfo:
    """Catalogue columns for ``skus`` (unknown SKUs get their code as name and no category)."""
    if catalogue is None or catalogue.empty:
        return empty_items(skus)
    cat = catalogue.drop_duplicates("sku").set_index("sku").reindex(skus)

    def text(column: str, default: pd.Series | str) -> np.ndarray:
        values = cat[column] if column in cat else pd.Series(index=cat.index, dtype=object)
        return values.fillna(default).astype(str).to_numpy(dtype=str)

    prices = pd.to_numeric(cat["price"], errors="coerce") if "price" in cat else pd.Series(np.nan, cat.index)
    return ItemInfo(
        skus=np.array(skus, dtype=str),
        names=text("name", pd.Series(skus, index=cat.index)),
        categories=text("category_path", ""),
        brands=text("brand", ""),
        prices=prices.to_numpy(dtype=np.float64),
    )


def _seconds(at: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(at):
        return at.to_numpy(dtype=np.float64)
    stamps = pd.to_datetime(at, utc=True)
    return (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)


def build_interactions(
    behaviours: pd.DataFrame,
    catalogue: pd.DataFrame | None = None,
    half_life_days: float | None = 90.0,
    as_of: datetime | float | None = None,
    weights: dict[str, float] | None = None,
) -> Interactions:
    """Sum each (user, item)'s behaviours: weight x saturated, decayed count (a half-life in days)."""
    weights = weights or BEHAVIOUR_WEIGHTS
    frame = behaviours[behaviours["behaviour"].isin(list(weights))]
    at = _seconds(frame["at"]) if len(frame) else np.zeros(0)
    if as_of is None:
        end = float(at.max()) if len(at) else 0.0
    else:
        end = as_of.timestamp() if isinstance(as_of, datetime) else float(as_of)
    age_days = np.maximum(end - at, 0.0) / DAY_S
    decay = np.ones_like(at) if not half_life_days else np.exp2(-age_days / half_life_days)

    uids = np.sort(frame["uid"].astype(np.int64).unique())
    skus = sorted(frame["sku"].astype(str).unique().tolist())
    rows = np.searchsorted(uids, frame["uid"].to_numpy(dtype=np.int64))
    cols = np.searchsorted(np.array(skus, dtype=object), frame["sku"].astype(str).to_numpy(dtype=object))
    shape = (len(uids), len(skus))

    matrix = sp.csr_matrix(shape, dtype=np.float32)
    behaviour = frame["behaviour"].to_numpy()
    for name, weight in weights.items():
        mask = behaviour == name
        if not mask.any():
            continue
        counts = sp.coo_matrix((decay[mask], (rows[mask], cols[mask])), shape=shape).tocsr()
        counts.sum_duplicates()
        counts.data = (weight * np.log1p(np.minimum(counts.data, SATURATION))).astype(np.float32)
        matrix = matrix + counts
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()

    bought = behaviour == "purchase"
    basket = (
        frame["basket"] if "basket" in frame else frame["uid"].astype(str) + "@" + frame["at"].astype(str)
    )
    return Interactions(
        matrix=matrix,
        uids=uids,
        items=item_info(skus, catalogue),
        purchase_rows=rows[bought].astype(np.int32),
        purchase_cols=cols[bought].astype(np.int32),
        purchase_at=at[bought],
        purchase_basket=pd.factorize(basket[bought])[0].astype(np.int64),
        as_of=end,
    )


def without_row(X: Interactions, row: int) -> Interactions:
    """The same matrix with one customer's behaviours and purchases removed and their uid unmapped.

    The row itself stays (every learned array is aligned to the rows) but holds nothing and no uid maps
    to it, so that customer is new to the model.
    """
    matrix = X.matrix.copy()
    matrix.data[matrix.indptr[row] : matrix.indptr[row + 1]] = 0
    matrix.eliminate_zeros()
    uids = X.uids.copy()
    uids[row] = -1
    keep = X.purchase_rows != row
    return Interactions(
        matrix=matrix,
        uids=uids,
        items=X.items,
        purchase_rows=X.purchase_rows[keep],
        purchase_cols=X.purchase_cols[keep],
        purchase_at=X.purchase_at[keep],
        purchase_basket=X.purchase_basket[keep],
        as_of=X.as_of,
    )
