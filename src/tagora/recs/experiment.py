"""The two evaluation set-ups of issue 7 and the hybrid tuned honestly on a validation split.

MovieLens 100k: ratings >= 4, per-customer random 80/20 (seed 42); validation = a further 80/20 of the
training part. Store (Online Retail): train up to 2011-08-31, test September; validation = train up to
2011-07-31, validate on August. Test data is never seen while tuning.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from tagora.recs.als import ALS, BPR
from tagora.recs.base import Recommender
from tagora.recs.buy_again import BuyAgain
from tagora.recs.content import ContentBased
from tagora.recs.ease import EASE
from tagora.recs.evaluate import (
    Scorer,
    Split,
    batches,
    evaluate,
    random_split,
    rank_batch,
    sample_truth,
    table,
    temporal_split,
    truth_of,
)
from tagora.recs.hybrid import SwitchingHybrid, WeightedHybrid, _unit
from tagora.recs.interactions import Interactions, build_interactions
from tagora.recs.itemcf import ItemCF
from tagora.recs.popularity import Popularity
from tagora.recs.rules import AssociationRules
from tagora.recs.tagbased import TagBased
from tagora.recs.usercf import UserCF

GRID = (0.0, 0.25, 0.5, 1.0)
MIN_VALIDATION_CUSTOMERS = 20
# Scoring a customer against every other (UserCF) costs O(customers) each, so tuning on every validation
# customer grew quadratically (hours at 100k customers); a seeded sample this size settles the ranking.
MAX_VALIDATION_CUSTOMERS = 5000
# Every candidate is fitted on the validation matrix (BPR: 100 passes over it); on a seeded sample of
# this many customers tuning costs the same at a million customers as at a hundred thousand.
MAX_TUNING_CUSTOMERS = 100_000


def tuning_split(split: Split, most: int, seed: int = 0) -> Split:
    """The split restricted to a seeded sample of ``most`` customers, whole (all of them when fewer)."""
    uids = pd.unique(split.train["uid"])
    if len(uids) <= most:
        return split
    keep = np.random.default_rng(seed).choice(uids, most, replace=False)
    train, test = split.train[split.train["uid"].isin(keep)], split.test[split.test["uid"].isin(keep)]
    return Split(train.reset_index(drop=True), test.reset_index(drop=True))


@dataclass(frozen=True)
class Dataset:
    name: str
    behaviours: pd.DataFrame
    catalogue: pd.DataFrame
    test: Split
    validation: Split
    half_life_days: float | None
    exclude_seen: bool  # films are not watched twice; a wholesaler reorders the same items
    ends: dict[str, Any] = field(default_factory=dict)  # the "as of" moment of each training part

    def matrix(self, part: str) -> Interactions:
        split = self.test if part == "test" else self.validation
        return build_interactions(split.train, self.catalogue, self.half_life_days, self.ends.get(part))


def movielens_dataset(behaviours: pd.DataFrame, catalogue: pd.DataFrame, seed: int = 42) -> Dataset:
    test = random_split(behaviours, 0.2, seed)
    validation = random_split(test.train, 0.2, seed + 1)
    return Dataset("movielens", behaviours, catalogue, test, validation, None, True)


def store_dataset(
    behaviours: pd.DataFrame,
    catalogue: pd.DataFrame,
    train_until: str = "2011-08-31",
    test_until: str = "2011-09-30",
) -> Dataset:
    end = pd.Timestamp(train_until, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    last = pd.Timestamp(test_until, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    val_end = end - pd.DateOffset(months=1)
    test = temporal_split(behaviours, end, last)
    validation = temporal_split(test.train, val_end, end)
    ends = {"test": end.to_pydatetime(), "validation": val_end.to_pydatetime()}
    return Dataset("store", behaviours, catalogue, test, validation, 90.0, False, ends)


def algorithms(dataset: Dataset) -> dict[str, Callable[[], Recommender]]:
    """Every single algorithm with the settings used for this kind of data."""
    films = dataset.name == "movielens"
    return {
        "popularity": lambda: Popularity(),
        "trending": lambda: Popularity(half_life_days=14.0 if not films else None),
        "itemcf": lambda: ItemCF(neighbours=100, popularity_penalty=0.0, shrink=1.0),
        "usercf": lambda: UserCF(neighbours=50),
        "als": lambda: ALS(factors=64, regularization=0.05, alpha=2.0, iterations=10, num_threads=0),
        # Learning rates chosen on the validation splits (never on test): 0.005 films, 0.01 a store.
        "bpr": lambda: BPR(factors=64, learning_rate=0.005 if films else 0.01, iterations=100),
        "ease": lambda: EASE(l2=200.0 if films else 50.0),
        "content": lambda: ContentBased(),
        "tags": lambda: TagBased(),
        "buy_again": lambda: BuyAgain(half_life_days=60.0),
        "rules": lambda: AssociationRules(min_count=3 if not films else 10),
    }


@dataclass(frozen=True)
class Blend:
    names: tuple[str, ...]
    weights: tuple[float, ...]
    validation_ndcg: float
    single_ndcg: dict[str, float]


# Used when there is too little history before the validation period to tune on: habits first, then
# collaborative signals.
DEFAULT_BLEND = Blend(("buy_again", "itemcf", "als"), (1.0, 0.5, 0.5), 0.0, {})


def tune_blend(dataset: Dataset, k: int = 10, top: int = 3) -> Blend:
    """Pick the ``top`` singles on validation, then grid-search their weights on validation NDCG@k."""
    if dataset.validation.train.empty:
        return DEFAULT_BLEND
    validation = tuning_split(dataset.validation, MAX_TUNING_CUSTOMERS)
    X = replace(dataset, validation=validation).matrix("validation")
    truth = sample_truth(truth_of(X, validation.test), MAX_VALIDATION_CUSTOMERS)
    if len(truth.rows) < MIN_VALIDATION_CUSTOMERS:
        return DEFAULT_BLEND
    makers = algorithms(dataset)
    singles = {}
    for name, make in makers.items():
        try:
            singles[name] = evaluate(make().fit(X), X, truth, k, dataset.exclude_seen, ranking_only=True)[
                "ndcg"
            ]
        except ValueError:  # an algorithm that refuses this data (EASE on a very large catalogue)
            continue
    names = tuple(sorted(singles, key=lambda n: -singles[n])[:top])
    fitted = [makers[n]().fit(X) for n in names]
    combos = [w for w in itertools.product(GRID, repeat=len(names)) if any(w)]
    scorers = [Scorer(X, k, ranking_only=True) for _ in combos]
    for part in batches(len(truth.rows)):
        rows = truth.rows[part]
        parts = [_unit(m.score_rows(rows)) for m in fitted]
        for weights, scorer in zip(combos, scorers, strict=True):
            blended = np.sum([w * p for w, p in zip(weights, parts, strict=True) if w], axis=0)
            scorer.add(rank_batch(X, blended, rows, k, dataset.exclude_seen), truth.items[part])
    ndcgs = [s.result()["ndcg"] for s in scorers]
    best = int(np.argmax(ndcgs))
    return Blend(names, tuple(float(w) for w in combos[best]), float(ndcgs[best]), singles)


def hybrid(dataset: Dataset, blend: Blend) -> Recommender:
    """The production model: the tuned blend for established customers, trending items for new ones."""
    makers = algorithms(dataset)
    # Components the tuning gave no weight are not fitted at all.
    live = [(n, w) for n, w in zip(blend.names, blend.weights, strict=True) if w]
    weighted = WeightedHybrid(tuple((n, makers[n]()) for n, _ in live), tuple(w for _, w in live))
    return SwitchingHybrid(established=weighted, cold=makers["trending"](), min_history=1)


def run(dataset: Dataset, k: int = 10) -> dict[str, Any]:
    """The evaluation table on the test split, every algorithm plus the tuned hybrid."""
    X = dataset.matrix("test")
    truth = truth_of(X, dataset.test.test)
    blend = tune_blend(dataset, k)
    makers = algorithms(dataset)
    makers["hybrid"] = lambda: hybrid(dataset, blend)
    rows = table(makers, X, truth, k, dataset.exclude_seen)
    return {
        "dataset": dataset.name,
        "k": k,
        "customers": int(X.shape[0]),
        "items": int(X.shape[1]),
        "evaluated_customers": len(truth.rows),
        "hybrid": {
            "components": list(blend.names),
            "weights": list(blend.weights),
            "validation_ndcg": round(blend.validation_ndcg, 4),
            "validation_single_ndcg": blend.single_ndcg,
        },
        "table": rows,
    }
