"""The writes of the recommendations area: train (and save) the production model, export campaign lists."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tagora.core import audit, exports
from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import transaction
from tagora.core.errors import AppError
from tagora.core.stores import Stores
from tagora.profiles import facade as profiles
from tagora.recs.base import Filters, Recommender
from tagora.recs.errors import RecsErrorCode
from tagora.recs.facade import CACHE, model_path, served_model
from tagora.recs.interactions import without_row
from tagora.recs.persist import load_model, save_model
from tagora.recs.publish import TAGS, category_rows
from tagora.recs.queries import catalogue, store_behaviours
from tagora.recs.schemas import TrainReport
from tagora.recs.training import ALGORITHM_NAMES, fit_production
from tagora.tags import facade as tags

EXPORT_COLUMNS = ("customer_key", "rank", "sku", "score", "reason")


def _fit(stores: Stores, algorithm: str) -> tuple[Recommender, dict[str, Any]]:
    if algorithm not in ALGORITHM_NAMES:
        raise AppError(
            RecsErrorCode.UNKNOWN_ALGORITHM,
            f"algorithm: unknown {algorithm!r}; choose one of {', '.join(ALGORITHM_NAMES)}",
            422,
            {"algorithm": algorithm},
        )
    behaviours = store_behaviours(stores)
    if behaviours.empty:
        raise AppError(
            RecsErrorCode.NOTHING_TO_LEARN, "there are no purchases or product events to learn from yet", 409
        )
    fitted = fit_production(behaviours, catalogue(stores), algorithm)
    return fitted.model, fitted.meta


def train_model(stores: Stores, actor: Principal, algorithm: str = "hybrid") -> TrainReport:
    """Fit on every purchase and product event, save it under the home folder; the server picks it up."""
    start = time.perf_counter()
    model, meta = _fit(stores, algorithm)
    meta["trained_at"] = utcnow().isoformat()
    path = model_path(stores)
    with transaction(stores.sessions) as session:
        save_model(model, path, meta)
        audit.record(session, actor.username, "recs.train", "model", algorithm, **meta)
    return TrainReport(
        algorithm=algorithm,
        path=str(path),
        seconds=round(time.perf_counter() - start, 2),
        customers=meta["customers"],
        items=meta["items"],
        interactions=meta["interactions"],
        blend=meta.get("blend"),
    )


def _rows(stores: Stores, model: Recommender, n: int, masked: bool) -> Iterator[dict[str, Any]]:
    X = model.interactions_
    uids = [int(u) for u in X.uids]
    with stores.sessions() as session:
        keys = profiles.customer_keys(session, uids, masked=masked)  # a key may be an e-mail or a phone
    for uid in uids:
        for rank, rec in enumerate(model.recommend(uid, n, Filters(exclude_seen=False)), start=1):
            yield {
                "customer_key": keys.get(uid, str(uid)),
                "rank": rank,
                "sku": rec.sku,
                "score": rec.score,
                "reason": rec.reason,
            }


def export_recommendations(
    stores: Stores,
    actor: Principal,
    output: Path,
    n: int = 10,
    algorithm: str | None = None,
    fmt: str = "csv",
) -> int:
    """One row per customer and rank (CSV, Excel or JSON Lines) through the one export writer, so a
    customer key or a reason that reads like a formula is neutralised; the served model unless
    ``algorithm`` differs. Capped per role like every bulk export, and audited with its rows."""
    chosen = exports.file_format(fmt)
    model, meta = served_model(stores)
    if algorithm is not None and algorithm != meta.get("algorithm"):
        model, meta = _fit(stores, algorithm)
    rows = len(model.interactions_.uids) * n
    exports.check_row_cap(stores.settings.export_max_rows, actor.role.value, rows, "recommendations export")
    count = 0
    with output.open("wb") as fh, exports.open_writer(fh, chosen, EXPORT_COLUMNS) as writer:
        for row in _rows(stores, model, n, masked=not actor.can(Permission.PII_VIEW)):
            writer.write([row[c] for c in EXPORT_COLUMNS])
            count += 1
    with transaction(stores.sessions) as session:
        audit.record(
            session,
            actor.username,
            "recs.export",
            "model",
            meta.get("algorithm", ""),
            rows=count,
            n=n,
            format=chosen.value,
            output=str(output),
        )
    return count


def erase_customer(stores: Stores, actor: Principal, uid: int) -> bool:
    """Remove a customer from the saved model: their behaviours, purchases and per-customer factors.

    Item-side aggregates (similarities, item factors, rules) keep their tiny share until the next
    ``tagora recs train``, which learns from a store the customer has left. True if they were in it.
    """
    path = model_path(stores)
    if not path.exists():
        return False
    model, meta = load_model(path)
    row = model.interactions_.row(uid)
    if row is None:
        return False
    model.forget_row(row)
    model.interactions_ = without_row(model.interactions_, row)
    with transaction(stores.sessions) as session:
        save_model(model, path, meta)
        audit.record(session, actor.username, "recs.erase", "customer", str(uid))
    stores.extras.pop(CACHE, None)
    return True


def publish_tags(stores: Stores, actor: Principal) -> dict[str, int]:
    """Write each customer's recommended categories (a model tag) from the served model.

    Installs the tag definition the first time (refused, 403, to someone who may not publish tags).
    Returns the rows written per tag.
    """
    tags.install_definitions(stores.sessions, actor, [tags.validate_draft(t) for t in TAGS.values()], "recs")
    model, meta = served_model(stores)
    written: dict[str, int] = {}
    for code, rows in {"recommended_categories": category_rows(model)}.items():
        if rows:  # a catalogue without categories has nothing to publish
            tags.write_values(stores.warehouse, code, rows, f"model:recs:{meta.get('algorithm', '')}")
        written[code] = len(rows)
    with transaction(stores.sessions) as session:
        audit.record(session, actor.username, "recs.publish", "tag", "recommended_categories", **written)
    stores.touch()  # segments read the new values at once
    return written
