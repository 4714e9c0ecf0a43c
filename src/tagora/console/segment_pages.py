"""Console: the segment builder with a live count, saved segments and their portraits."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tagora.audiences import logic
from tagora.audiences.facade import read_expression
from tagora.audiences.schemas import SegmentCreate
from tagora.console.pages import StoresDep, check_csrf, console_user, error_page, show
from tagora.core.auth import Permission, Principal
from tagora.core.errors import AppError, CoreErrorCode

router = APIRouter(include_in_schema=False)
EXAMPLE = {
    "all": [{"tag": "value_tier", "op": "=", "value": "high"}, {"tag": "orders_90d", "op": ">=", "value": 2}]
}


def segment_reader(principal: Annotated[Principal, Depends(console_user)]) -> Principal:
    if not principal.can(Permission.SEGMENTS_READ):
        raise AppError(CoreErrorCode.FORBIDDEN, "you may not see segments", 403)
    return principal


Reader = Annotated[Principal, Depends(segment_reader)]


@router.get("/segments", response_class=HTMLResponse)
def segments(request: Request, stores: StoresDep, principal: Reader) -> Response:
    example = json.dumps(EXAMPLE, ensure_ascii=False, indent=2)
    return show(
        request, "segments.html", principal, segments=logic.list_segments(stores), example=example,
        can_write=principal.can(Permission.SEGMENTS_WRITE), tags=sorted(logic.audience_index(stores).tags),
    )  # fmt: skip


@router.post("/partials/segments/count", response_class=HTMLResponse)
def live_count(
    request: Request, stores: StoresDep, principal: Reader, expression: Annotated[str, Form()] = ""
) -> Response:
    try:
        result: Any = logic.count(stores, *read_expression(expression))
    except AppError as exc:
        return show(request, "_segment_count.html", principal, error=exc)
    return show(request, "_segment_count.html", principal, result=result)


@router.post("/segments")
def save(
    request: Request,
    stores: StoresDep,
    principal: Reader,
    code: Annotated[str, Form()],
    name: Annotated[str, Form()],
    expression: Annotated[str, Form()],
    kind: Annotated[str, Form()] = "dynamic",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    if not principal.can(Permission.SEGMENTS_WRITE):
        return error_page(
            request, principal, AppError(CoreErrorCode.FORBIDDEN, "you may not save segments", 403)
        )
    try:
        raw, text = read_expression(expression)
        data = SegmentCreate.model_validate(
            {"code": code.strip(), "name": name.strip(), "kind": kind, "expression": raw, "text": text}
        )
        logic.create_segment(stores, principal, data)
    except AppError as exc:
        return error_page(request, principal, exc)
    except ValueError as exc:  # pydantic: a bad code or name
        return error_page(request, principal, AppError(CoreErrorCode.INVALID_INPUT, str(exc), 422))
    return RedirectResponse(f"/segments/{quote(code.strip())}", status_code=303)


@router.get("/segments/{code}", response_class=HTMLResponse)
def segment(request: Request, stores: StoresDep, principal: Reader, code: str) -> Response:
    try:
        saved = logic.show_segment(stores, code)
        sizes = logic.size_history(stores, code)
        portrait = logic.portrait(stores, principal, logic.members(stores, code))
    except AppError as exc:
        return error_page(request, principal, exc)
    chart = {
        "days": [s.day.isoformat() for s in sizes],
        "sizes": [s.size for s in sizes],
        "distinguishing": [asdict(d) for d in portrait.distinguishing[:12]],
        "provinces": _provinces(portrait),
    }
    return show(
        request, "segment.html", principal, segment=saved, portrait=portrait, chart=chart,
        expression=json.dumps(saved.expression, ensure_ascii=False, indent=2),
        can_export=principal.can(Permission.CUSTOMERS_EXPORT),
    )  # fmt: skip


def _provinces(portrait: Any) -> list[dict[str, Any]]:
    """The members by province (for the map): counts hidden by the privacy threshold stay out."""
    tag = next((t for t in portrait.tags if t.name == "province"), None)
    if tag is None:
        return []
    return [{"name": v.value, "value": v.count, "tgi": v.tgi} for v in tag.values if v.count is not None]
