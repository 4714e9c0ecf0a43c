"""Recommendations API: a customer's list with reasons, and a product's best target customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import get_stores
from tagora.core.stores import Stores
from tagora.recs import facade
from tagora.recs.base import Filters
from tagora.recs.schemas import Recommendations, TargetCustomers

router = APIRouter(prefix="/v1", tags=["recommendations"])
StoresDep = Annotated[Stores, Depends(get_stores)]
Reader = Annotated[Principal, Depends(require(Permission.CUSTOMERS_READ))]


@router.get("/recommendations/{customer_key}", response_model=Recommendations)
def recommendations(
    stores: StoresDep,
    actor: Reader,
    customer_key: str,
    n: int = Query(10, ge=1, le=100),
    category: Annotated[list[str] | None, Query(description="Category path prefixes to keep.")] = None,
    price_min: float | None = Query(None, ge=0),
    price_max: float | None = Query(None, ge=0),
    exclude_bought: bool = False,  # repeat purchases are most of a store's sales (see docs/recs.md)
) -> Recommendations:
    filters = Filters(
        exclude_seen=exclude_bought,
        categories=tuple(category or ()),
        price_min=price_min,
        price_max=price_max,
    )
    return facade.recommend_for(stores, customer_key, n, filters)


@router.get("/target-customers/{sku}", response_model=TargetCustomers)
def target_customers(
    stores: StoresDep,
    actor: Reader,
    sku: str,
    n: int = Query(100, ge=1, le=10000),
    exclude_bought: bool = False,
) -> TargetCustomers:
    return facade.target_customers(stores, sku, n, exclude_bought)
