"""Customer 360 API: search, show, timeline, interactions, export and store counts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import get_stores
from tagora.core.exports import MEDIA_TYPES, FileFormat, file_responses
from tagora.core.stores import Stores
from tagora.profiles import logic, queries
from tagora.profiles.schemas import Customer360, CustomerSummary, InteractionCreate, Page, TimelineItem

router = APIRouter(prefix="/api", tags=["customers"])
StoresDep = Annotated[Stores, Depends(get_stores)]
Reader = Annotated[Principal, Depends(require(Permission.CUSTOMERS_READ))]
Exporter = Annotated[Principal, Depends(require(Permission.CUSTOMERS_EXPORT))]


@router.get("/customers", response_model=Page[CustomerSummary])
def search_customers(
    stores: StoresDep,
    actor: Reader,
    q: str = "",
    page: int = Query(1, ge=1),
    page_size: int = Query(20, ge=1, le=200),
) -> Page[CustomerSummary]:
    return logic.search_customers(stores, actor, q, page, page_size)


@router.get(
    "/customers/export",
    response_class=Response,
    responses=file_responses(FileFormat.CSV, FileFormat.XLSX),
)
def export_customers(
    stores: StoresDep,
    actor: Exporter,
    q: str = "",
    format: Literal["csv", "xlsx"] = "csv",
    phone_format: Literal["e164", "national"] = "e164",
) -> Response:
    """Matching customers as a file; phones in E.164 (+8613800000000) or as national digits (13800000000)."""
    body = logic.export_customers(stores, actor, q, format, phone_format)
    return Response(
        body,
        media_type=MEDIA_TYPES[FileFormat(format)],
        headers={"Content-Disposition": f'attachment; filename="customers.{format}"'},
    )


@router.get("/customers/export.csv", response_class=Response, responses=file_responses(FileFormat.CSV))
def export_customers_csv(
    stores: StoresDep,
    actor: Exporter,
    q: str = "",
    phone_format: Literal["e164", "national"] = "e164",
) -> Response:
    """The CSV export at its first address."""
    return export_customers(stores, actor, q, "csv", phone_format)


@router.get("/customers/{key:path}/timeline", response_model=Page[TimelineItem])
def customer_timeline(
    stores: StoresDep,
    actor: Reader,
    key: str,
    page: int = Query(1, ge=1),
    page_size: int = Query(20, ge=1, le=200),
) -> Page[TimelineItem]:
    return logic.view_timeline(stores, actor, key, page, page_size)


@router.get("/customers/{key:path}", response_model=Customer360)
def show_customer(stores: StoresDep, actor: Reader, key: str) -> Customer360:
    return logic.view_customer(stores, actor, key)


@router.post("/customers/{key:path}/interactions", status_code=201)
def add_interaction(
    stores: StoresDep,
    actor: Annotated[Principal, Depends(require(Permission.INTERACTIONS_WRITE))],
    key: str,
    body: InteractionCreate,
) -> dict[str, int]:
    return {"id": logic.add_interaction(stores.sessions, actor, key, body)}


@router.get("/stats")
def stats(stores: StoresDep, actor: Reader) -> dict[str, Any]:
    with stores.sessions() as session:
        return {
            **queries.store_counts(session, stores.warehouse),
            "monthly": queries.monthly_revenue(stores.warehouse),
        }
