"""Offline evaluation: per-user random and temporal splits, ranking metrics, one table for every algorithm."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tagora.recs.base import Recommender, item_space, top_n_rows, with_popularity_ties
from tagora.recs.interactions import Interactions

METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "coverage", "diversity", "novelty")


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    test: pd.DataFrame


def random_split(behaviours: pd.DataFrame, test_share: float = 0.2, seed: int = 42) -> Split:
    """Per customer, a random ``test_share`` of their rows is held out (a fixed seed makes it repeatable)."""
    rng = np.random.default_rng(seed)
    frame = behaviours.reset_index(drop=True)
    key = pd.Series(rng.random(len(frame)), index=frame.index)
    rank = key.groupby(frame["uid"]).rank(method="first")
    size = frame.groupby("uid")["uid"].transform("size")
    held = rank <= np.floor(size * test_share)
    return Split(frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True))


def temporal_split(behaviours: pd.DataFrame, train_until: pd.Timestamp, test_until: pd.Timestamp) -> Split:
    """Everything up to ``train_until`` trains; purchases after it, up to ``test_until``, are the truth."""
    at = pd.to_datetime(behaviours["at"], utc=True)
    test = behaviours[(at > train_until) & (at <= test_until) & (behaviours["behaviour"] == "purchase")]
    return Split(behaviours[at <= train_until].reset_index(drop=True), test.reset_index(drop=True))


@dataclass(frozen=True)
class Truth:
    rows: np.ndarray  # matrix rows of the evaluated customers
    items: list[np.ndarray]  # each customer's held-out columns


def truth_of(X: Interactions, test: pd.DataFrame) -> Truth:
    """Held-out items per customer known to training (new customers and new items cannot be scored)."""
    rows = test["uid"].map(lambda u: X.row(int(u)))
    cols = test["sku"].map(lambda s: X.col(str(s)))
    known = pd.DataFrame({"row": rows, "col": cols}).dropna().astype("int64").drop_duplicates()
    grouped = known.groupby("row")["col"].apply(lambda c: np.sort(c.to_numpy()))
    return Truth(grouped.index.to_numpy(dtype=np.int64), list(grouped.to_numpy()))


def sample_truth(truth: Truth, most: int, seed: int = 0) -> Truth:
    """At most ``most`` of the evaluated customers, drawn at random with a fixed seed (all when fewer)."""
    if len(truth.rows) <= most:
        return truth
    keep = np.sort(np.random.default_rng(seed).choice(len(truth.rows), most, replace=False))
    return Truth(truth.rows[keep], [truth.items[i] for i in keep.tolist()])


def batches(n: int, size: int = 512) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def rank_batch(
    X: Interactions, scores: np.ndarray, rows: np.ndarray, k: int, exclude_seen: bool
) -> np.ndarray:
    scores = with_popularity_ties(scores, np.asarray((X.matrix > 0).sum(axis=0)).ravel())
    if exclude_seen:
        seen = X.matrix[rows].tocoo()
        scores[seen.row, seen.col] = -np.inf
    return top_n_rows(scores, k)


class Scorer:
    """Accumulates the metrics of top-``k`` lists against the truth."""

    def __init__(self, X: Interactions, k: int, ranking_only: bool = False) -> None:
        self.X, self.k, self.ranking_only = X, k, ranking_only
        self.sums = dict.fromkeys(
            ("precision", "recall", "ndcg", "map", "hit_rate", "diversity", "novelty"), 0.0
        )
        self.users = 0
        self.shown: set[int] = set()
        pop = np.asarray((X.matrix > 0).sum(axis=0)).ravel()
        self.self_info = -np.log2(np.maximum(pop, 1) / max(X.shape[0], 1))
        self.discount = 1.0 / np.log2(np.arange(2, k + 2))

    def add(self, top: np.ndarray, truths: list[np.ndarray]) -> None:
        space = item_space(self.X)
        for items, relevant in zip(top, truths, strict=True):
            hit = np.isin(items, relevant)
            n_rel = len(relevant)
            ideal = self.discount[: min(n_rel, self.k)].sum()
            precision_at = np.cumsum(hit) / np.arange(1, len(items) + 1)
            s = self.sums
            s["precision"] += hit.sum() / self.k
            s["recall"] += hit.sum() / n_rel
            s["ndcg"] += float((hit * self.discount[: len(items)]).sum() / ideal)
            s["map"] += float((precision_at * hit).sum() / min(n_rel, self.k))
            s["hit_rate"] += float(hit.any())
            if self.ranking_only:
                continue
            sims = space.similarity(items, items)
            pairs = len(items) * (len(items) - 1)
            s["diversity"] += 1.0 - (sims.sum() - np.trace(sims)) / pairs if pairs else 0.0
            s["novelty"] += float(self.self_info[items].mean())
            self.shown.update(items.tolist())
        self.users += len(top)

    def result(self) -> dict[str, float]:
        out: dict[str, float] = {m: round(float(v) / max(self.users, 1), 4) for m, v in self.sums.items()}
        out["coverage"] = round(len(self.shown) / max(self.X.shape[1], 1), 4)
        out["users"] = self.users
        return {m: out[m] for m in (*METRICS, "users")}


def evaluate(
    model: Recommender,
    X: Interactions,
    truth: Truth,
    k: int = 10,
    exclude_seen: bool = True,
    ranking_only: bool = False,
) -> dict:
    """Metrics of a fitted model's top-``k`` lists (``exclude_seen`` drops what the customer already has;
    ``ranking_only`` leaves diversity, novelty and coverage at 0 when only the ranking metrics are read)."""
    scorer = Scorer(X, k, ranking_only)
    for part in batches(len(truth.rows)):
        rows = truth.rows[part]
        top = rank_batch(X, model.score_rows(rows), rows, k, exclude_seen)
        scorer.add(top, truth.items[part])
    return scorer.result()


def timed_fit(model: Recommender, X: Interactions) -> float:
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start


def table(
    algorithms: dict[str, Callable[[], Recommender]],
    X: Interactions,
    truth: Truth,
    k: int = 10,
    exclude_seen: bool = True,
) -> list[dict]:
    """One row per algorithm: fit seconds and every metric."""
    rows = []
    for name, make in algorithms.items():
        model = make()
        fit_s = timed_fit(model, X)
        rows.append(
            {"algorithm": name, "fit_s": round(fit_s, 2), **evaluate(model, X, truth, k, exclude_seen)}
        )
    return rows
