"""Audiences API: live counts, segments, membership, exports and portraits."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from tagora.audiences import logic
from tagora.audiences.schemas import (
    CountPublic,
    CountRequest,
    Lookalike,
    Membership,
    SegmentCreate,
    SegmentPublic,
    SegmentUpdate,
    SizePoint,
)
from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import get_stores
from tagora.core.exports import MEDIA_TYPES, FileFormat, file_responses
from tagora.core.stores import Stores

ExportFormat = Literal["csv", "xlsx"]
PhoneFormat = Literal["e164", "national"]
router = APIRouter(prefix="/api", tags=["audiences"])
StoresDep = Annotated[Stores, Depends(get_stores)]
Reader = Annotated[Principal, Depends(require(Permission.SEGMENTS_READ))]
Writer = Annotated[Principal, Depends(require(Permission.SEGMENTS_WRITE))]
Exporter = Annotated[Principal, Depends(require(Permission.CUSTOMERS_EXPORT))]


@router.post("/segments/count", response_model=CountPublic)
def count(stores: StoresDep, actor: Reader, body: CountRequest) -> CountPublic:
    return logic.count(stores, body.expression, body.text)


@router.get("/segments", response_model=list[SegmentPublic])
def list_segments(stores: StoresDep, actor: Reader) -> list[SegmentPublic]:
    return logic.list_segments(stores)


@router.post("/segments", response_model=SegmentPublic, status_code=201)
def create(stores: StoresDep, actor: Writer, body: SegmentCreate) -> SegmentPublic:
    return logic.create_segment(stores, actor, body)


@router.get("/segments/of/{key:path}", response_model=list[str])
def segments_of(stores: StoresDep, actor: Reader, key: str) -> list[str]:
    return logic.segments_of(stores, key)


@router.get("/segments/portrait/product")
def product_portrait(
    stores: StoresDep, actor: Reader, sku: str | None = None, category: str | None = None
) -> dict[str, Any]:
    group = f"product {sku!r}" if sku else f"category {category!r}"
    return asdict(logic.portrait(stores, actor, logic.product_buyers(stores, sku, category), group))


@router.get("/segments/compare")
def compare(stores: StoresDep, actor: Reader, a: str, b: str) -> dict[str, Any]:
    return {
        code: asdict(logic.portrait(stores, actor, logic.members(stores, code), f"segment {code!r}"))
        for code in (a, b)
    }


@router.get("/segments/{code}", response_model=SegmentPublic)
def show(stores: StoresDep, actor: Reader, code: str) -> SegmentPublic:
    return logic.show_segment(stores, code)


@router.patch("/segments/{code}", response_model=SegmentPublic)
def update(stores: StoresDep, actor: Writer, code: str, body: SegmentUpdate) -> SegmentPublic:
    return logic.update_segment(stores, actor, code, body)


@router.delete("/segments/{code}", status_code=204)
def archive(stores: StoresDep, actor: Writer, code: str) -> Response:
    logic.archive_segment(stores, actor, code)
    return Response(status_code=204)


@router.get("/segments/{code}/sizes", response_model=list[SizePoint])
def sizes(stores: StoresDep, actor: Reader, code: str) -> list[SizePoint]:
    return logic.size_history(stores, code)


@router.get("/segments/{code}/portrait")
def portrait(stores: StoresDep, actor: Reader, code: str) -> dict[str, Any]:
    return asdict(logic.portrait(stores, actor, logic.members(stores, code), f"segment {code!r}"))


@router.get("/segments/{code}/lookalike", response_model=Lookalike)
def lookalike(stores: StoresDep, actor: Reader, code: str, n: int = 100) -> Lookalike:
    """The n customers outside the segment who look most like its members, and the tag values why."""
    return logic.lookalike(stores, actor, code, n)


@router.get("/segments/{code}/members/{key:path}", response_model=Membership)
def membership(stores: StoresDep, actor: Reader, code: str, key: str) -> Membership:
    return Membership(customer_key=key, segment=code, member=logic.is_member(stores, key, code))


@router.get(
    "/segments/{code}/export",
    response_class=Response,
    responses=file_responses(FileFormat.CSV, FileFormat.XLSX),
)
def export(
    stores: StoresDep,
    actor: Exporter,
    code: str,
    format: ExportFormat = "csv",
    fields: Annotated[list[str] | None, Query()] = None,
    phone_format: PhoneFormat = "e164",
) -> Response:
    """The members as a file: phones in E.164 (+8613800000000) or as national digits (13800000000)."""
    body = logic.export_members(stores, actor, code, fields, format, phone_format)
    return Response(
        body,
        media_type=MEDIA_TYPES[FileFormat(format)],
        headers={"Content-Disposition": f'attachment; filename="{code}.{format}"'},
    )
