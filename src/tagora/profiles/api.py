"""Customer 360 API: search, show, timeline, interactions, export and store counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import get_stores
from tagora.core.stores import Stores
from tagora.profiles import logic, queries
from tagora.profiles.schemas import Customer360, CustomerSummary, InteractionCreate, Page, TimelineItem

router = APIRouter(prefix="/api", tags=["customers"])
StoresDep = Annotated[Stores, Depends(get_stores)]
Reader = Annotated[Principal, Depends(require(Permission.CUSTOMERS_READ))]


@router.get("/customers", response_model=Page[CustomerSummary])
def search_customers(
    stores: StoresDep,
    actor: Reader,
    q: str = "",
    page: int = Query(1, ge=1),
    page_size: int = Query(20, ge=1, le=200),
) -> Page[CustomerSummary]:
    return logic.search_customers(stores, actor, q, page, page_size)


@router.get("/customers/export.csv")
def export_customers(
    stores: StoresDep, actor: Annotated[Principal, Depends(require(Permission.CUSTOMERS_EXPORT))], q: str = ""
) -> Response:
    body = logic.export_customers(stores, actor, q)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="customers.csv"'},
    )


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
