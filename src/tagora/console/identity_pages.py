"""Console: a person's identity graph and merge history, with manual merge and unmerge."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tagora.console.pages import Reader, StoresDep, check_csrf, customer_ref, customer_url, error_page, show
from tagora.core.auth import Permission, Principal
from tagora.core.errors import AppError, CoreErrorCode
from tagora.identity import logic

router = APIRouter(include_in_schema=False)


def identity_url(key: str) -> str:
    return "/identity/" + quote(key, safe="")


def merger(principal: Reader) -> Principal:
    if not principal.can(Permission.IDENTITY_MERGE):
        raise AppError(CoreErrorCode.FORBIDDEN, "you may not merge or unmerge customers", 403)
    return principal


Merger = Annotated[Principal, Depends(merger)]


@router.get("/identity/{key:path}", response_class=HTMLResponse)
def identity_graph(request: Request, stores: StoresDep, principal: Reader, key: str) -> Response:
    try:
        graph = logic.view_identity_graph(stores, principal, key)
    except AppError as exc:
        return error_page(request, principal, exc)
    survivor = next(customer_ref(r.uid, r.customer_key) for r in graph.records if r.survivor)
    return show(
        request,
        "identity.html",
        principal,
        graph=graph,
        key=survivor,
        keys={r.uid: r.customer_key for r in graph.records},
        customer_url=customer_url(survivor),
        can_merge=principal.can(Permission.IDENTITY_MERGE),
        message=request.query_params.get("done", ""),
    )


def _back(key: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{identity_url(key)}?done={quote(done)}", status_code=303)


@router.post("/identity/merge")
def merge(
    request: Request,
    stores: StoresDep,
    principal: Merger,
    a: Annotated[str, Form()],
    b: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        logic.merge_profiles(stores, principal, a.strip(), b.strip(), comment)
    except AppError as exc:
        return error_page(request, principal, exc)
    return _back(a.strip(), "merged")


@router.post("/identity/unmerge")
def unmerge(
    request: Request,
    stores: StoresDep,
    principal: Merger,
    merge_id: Annotated[int, Form()],
    key: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        logic.unmerge_profile(stores, principal, merge_id=merge_id, comment=comment)
    except AppError as exc:
        return error_page(request, principal, exc)
    return _back(key, "unmerged")
