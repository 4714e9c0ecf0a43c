"""Console: panels of the customer 360 page loaded after it — the single-customer portrait (every tag
value grouped by category, with weight and when computed) and recommendations with their reasons."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tagora.console.pages import Reader, StoresDep, show
from tagora.core.auth import Permission
from tagora.core.errors import AppError
from tagora.profiles import facade as profiles
from tagora.recs import facade as recs
from tagora.tags import facade as tags

router = APIRouter(include_in_schema=False)


def _portrait(stores: Any, key: str, zh: bool) -> list[tuple[str, list[dict[str, Any]]]]:
    """(category name, its tags' values) in catalogue order."""
    with stores.sessions() as session:
        uid = profiles.person_uid(session, key)
        categories = {c.code: c.name_zh if zh else c.name_en for c in tags.categories(session)}
        catalogue = {t.code: t for t in tags.search(session, "", None, False)}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for value in tags.customer_tags(stores.warehouse, uid):
        tag = catalogue.get(value.tag)
        if tag is None:  # retired: its history stays readable on the tag's own page
            continue
        groups[tag.category].append(
            {"code": tag.code, "name": tag.name_zh if zh else tag.name_en, "value": value.value,
             "weight": value.weight, "computed_at": value.computed_at, "source": value.source}
        )  # fmt: skip
    order = list(categories)
    ranked = sorted(groups.items(), key=lambda g: order.index(g[0]) if g[0] in order else len(order))
    return [(categories.get(code, code), rows) for code, rows in ranked]


@router.get("/partials/customers/{key:path}/tags", response_class=HTMLResponse)
def customer_tags(request: Request, stores: StoresDep, principal: Reader, key: str) -> Response:
    if not principal.can(Permission.TAGS_READ):
        return show(request, "_customer_tags.html", principal, groups=[], hidden=True)
    try:
        groups = _portrait(stores, key, (principal.locale or "").startswith("zh"))
    except AppError as exc:
        return show(request, "_customer_tags.html", principal, groups=[], error=exc)
    return show(request, "_customer_tags.html", principal, groups=groups)


@router.get("/partials/customers/{key:path}/recommendations", response_class=HTMLResponse)
def customer_recommendations(request: Request, stores: StoresDep, principal: Reader, key: str) -> Response:
    try:
        result = recs.recommend_for(stores, key, 10)
    except AppError as exc:
        return show(request, "_customer_recs.html", principal, result=None, error=exc)
    return show(request, "_customer_recs.html", principal, result=result)
