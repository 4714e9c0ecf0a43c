"""What other areas (and the API) may call: the served model, a customer's list, a product's targets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tagora.core.auth import Principal
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.recs.base import Filters, Recommender
from tagora.recs.errors import RecsErrorCode
from tagora.recs.evaluate import batches
from tagora.recs.interactions import Interactions, build_interactions
from tagora.recs.persist import load_model
from tagora.recs.popularity import Popularity
from tagora.recs.queries import catalogue, store_behaviours
from tagora.recs.schemas import (
    LinkedItem,
    Recommendations,
    RecommendedItem,
    TargetCustomer,
    TargetCustomers,
)

CACHE = "recs.model"


def model_path(stores: Stores) -> Path:
    return stores.settings.home / "recs" / "model.npz"


def served_model(stores: Stores) -> tuple[Recommender, dict[str, Any]]:
    """The trained model, kept in memory and reloaded when ``tagora recs train`` writes a new file.

    Before any training, trending items computed on the spot: nobody gets an error for lack of a model.
    """
    path = model_path(stores)
    stamp = path.stat().st_mtime_ns if path.exists() else None
    cached = stores.extras.get(CACHE)
    if isinstance(cached, tuple) and cached[0] == stamp:
        return cached[1], cached[2]
    if stamp is not None:
        model, meta = load_model(path)
    else:
        behaviours = store_behaviours(stores)
        model = Popularity(half_life_days=14.0).fit(build_interactions(behaviours, catalogue(stores)))
        meta = {"algorithm": "trending", "trained_at": None, "untrained": True}
    stores.extras[CACHE] = (stamp, model, meta)
    return model, meta


def _trained_at(meta: dict[str, Any]) -> datetime | None:
    at = meta.get("trained_at")
    return datetime.fromisoformat(at).astimezone(UTC) if at else None


def _name(X: Interactions, sku: str) -> str:
    col = X.col(sku)
    return sku if col is None else str(X.items.names[col])


def recommend_for(
    stores: Stores, customer_key: str, n: int = 10, filters: Filters | None = None
) -> Recommendations:
    """A customer's top ``n`` with a reason each; unknown key -> 404, no history -> popular items."""
    with stores.sessions() as session:
        uid = profiles.person_uid(session, customer_key)
    model, meta = served_model(stores)
    X = model.interactions_
    recs = model.recommend(uid, n, filters)
    return Recommendations(
        customer_key=customer_key,
        uid=uid,
        algorithm=str(meta.get("algorithm", "")),
        trained_at=_trained_at(meta),
        cold_start=X.row(uid) is None,
        items=[
            RecommendedItem(
                rank=i + 1,
                sku=r.sku,
                name=r.name,
                score=r.score,
                reason=r.reason,
                because=[LinkedItem(sku=s, name=_name(X, s)) for s in r.because],
            )
            for i, r in enumerate(recs)
        ],
    )


def target_scores(model: Recommender, col: int) -> np.ndarray:
    X = model.interactions_
    rows = np.arange(X.shape[0])
    return np.concatenate([model.score_rows(rows[part])[:, col] for part in batches(len(rows), 1024)])


def target_customers(stores: Stores, sku: str, n: int = 100, exclude_bought: bool = False) -> TargetCustomers:
    """The customers most likely to want ``sku`` (precision marketing: product -> people)."""
    model, meta = served_model(stores)
    X = model.interactions_
    col = X.col(sku)
    if col is None:
        raise AppError(
            RecsErrorCode.UNKNOWN_PRODUCT,
            f"product {sku!r} has no purchases or events to learn from",
            404,
            {"sku": sku},
        )
    scores = target_scores(model, col)
    if exclude_bought:
        scores[X.matrix[:, col].nonzero()[0]] = -np.inf
    top = [int(r) for r in np.argsort(-scores, kind="stable")[:n] if np.isfinite(scores[r])]
    uids = [int(X.uids[r]) for r in top]
    with stores.sessions() as session:
        keys = profiles.customer_keys(session, uids)
    customers: list[TargetCustomer] = []
    for row, uid in zip(top, uids, strict=True):
        why = model.explain_col(uid, col, float(scores[row]))
        customers.append(
            TargetCustomer(
                rank=len(customers) + 1,
                customer_key=keys.get(uid, str(uid)),
                score=round(float(scores[row]), 6),
                reason=why.reason,
            )
        )
    return TargetCustomers(
        sku=sku, name=str(X.items.names[col]), algorithm=str(meta.get("algorithm", "")), customers=customers
    )


def export_customer(stores: Stores, uid: int) -> dict[str, Any]:
    """What the served model holds about a customer: their weighted items and their current list."""
    model, meta = served_model(stores)
    X = model.interactions_
    row = X.row(uid)
    if row is None:
        return {"in_model": False, "history": [], "recommendations": []}
    history = [
        {
            "sku": str(X.items.skus[c]),
            "name": str(X.items.names[c]),
            "weight": round(float(X.matrix[row, c]), 4),
        }
        for c in X.history(row).tolist()
    ]
    recs = [{"sku": r.sku, "score": r.score, "reason": r.reason} for r in model.recommend(uid, 10)]
    return {"in_model": True, "algorithm": meta.get("algorithm"), "history": history, "recommendations": recs}


def erase_customer(stores: Stores, actor: Principal, uid: int) -> bool:
    """Remove a customer from the saved model (see ``logic.erase_customer``)."""
    from tagora.recs import logic  # logic reads the served model from here

    return logic.erase_customer(stores, actor, uid)


def retrain(stores: Stores, actor: Principal) -> tuple[str, str]:
    """The scheduled job: refit the served algorithm (the hybrid at first); ``(status, detail)``."""
    from tagora.recs import logic  # logic reads the served model from here

    algorithm = "hybrid"
    if model_path(stores).exists():
        algorithm = str(served_model(stores)[1].get("algorithm", "hybrid"))
    try:
        report = logic.train_model(stores, actor, algorithm)
    except AppError as exc:
        if exc.code == RecsErrorCode.NOTHING_TO_LEARN:
            return "skipped", exc.message
        raise
    published = logic.publish_tags(stores, actor)["recommended_categories"]
    return "succeeded", (
        f"{report.algorithm} on {report.customers} customers x {report.items} items in {report.seconds} s; "
        f"{published} recommended-category tag values"
    )
