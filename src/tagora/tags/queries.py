"""Read queries over tag values: a customer's current tags and their history, everyone's current values."""

from __future__ import annotations

import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tagora.profiles import facade as profiles
from tagora.tags import catalogue
from tagora.tags.models import CURRENT, HISTORY, OVERRIDES, PUBLISHED, TagDefinition
from tagora.tags.schemas import TagValuePublic


def _present(rows: list[dict[str, object]]) -> list[TagValuePublic]:
    return [
        TagValuePublic(
            tag=str(r["tag"]),
            value=r["number"] if r["value"] is None else r["value"],
            weight=float(r["weight"]),  # type: ignore[arg-type]
            computed_at=r["computed_at"],
            run_id=int(r["run_id"]),  # type: ignore[call-overload]
            source=str(r["source"]),
        )
        for r in rows
    ]


def customer_tags(warehouse: BaseBackend, uid: int, tag: str | None = None) -> list[TagValuePublic]:
    """Current values, by tag then by weight (a weighted tag has several)."""
    t = warehouse.table(CURRENT)
    mine = t.filter(t.uid == uid)
    if tag is not None:
        mine = mine.filter(mine.tag == tag)
    rows = mine.order_by(["tag", mine.weight.desc(), "value"]).to_pyarrow().to_pylist()
    return _present(rows)


def tag_history(warehouse: BaseBackend, uid: int, tag: str) -> list[TagValuePublic]:
    """One customer's values of one tag in every run's snapshot, oldest first."""
    t = warehouse.table(HISTORY)
    rows = (
        t.filter((t.uid == uid) & (t.tag == tag))
        .order_by(["run_id", t.weight.desc()])
        .to_pyarrow()
        .to_pylist()
    )
    return _present(rows)


def resolve_customer(session: Session, key: str) -> int:
    """The uid of the person a customer key (or a numeric uid) belongs to now (after identity merges); an
    unknown key or uid is "not found" (a uid was taken on trust before, and its values read as nulls)."""
    return profiles.person_uid(session, key)


def live_value_types(session: Session) -> dict[str, str]:
    """Every published (or deprecated) tag's value type: what the segment builder offers."""
    return {t.code: t.value_type for t in catalogue.live_tags(session)}


def current_values(warehouse: BaseBackend) -> pa.Table:
    """Everyone's current values: ``uid, tag, value, number, weight``."""
    return warehouse.table(CURRENT).select("uid", "tag", "value", "number", "weight").to_pyarrow()


def values_version(session: Session, warehouse: BaseBackend) -> str:
    """Changes whenever a run, a manual or model write, or a lifecycle step changes what tags say."""
    # Read from the small tables under the views: a published run, or an override written or deleted.
    p, o = warehouse.table(PUBLISHED), warehouse.table(OVERRIDES)
    runs = p.aggregate(n=p.count(), last=p.run_id.max()).to_pyarrow().to_pylist()[0]
    overrides = o.aggregate(n=o.count(), last=o.computed_at.max()).to_pyarrow().to_pylist()[0]
    edited = session.execute(select(func.count(), func.max(TagDefinition.updated_at))).one()
    return f"{runs['n']}@{runs['last']}|{overrides['n']}@{overrides['last']}|{edited[0]}@{edited[1]}"
