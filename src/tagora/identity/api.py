"""Identity API: a person's identity graph and merge history, conflicts, manual merge and unmerge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import get_stores
from tagora.core.stores import Stores
from tagora.identity import logic, queries
from tagora.identity.schemas import (
    ConflictPublic,
    IdentityGraph,
    MergeRequest,
    ResolvePublic,
    UnmergeRequest,
)

router = APIRouter(prefix="/api/identity", tags=["identity"])
StoresDep = Annotated[Stores, Depends(get_stores)]
Reader = Annotated[Principal, Depends(require(Permission.CUSTOMERS_READ))]
Merger = Annotated[Principal, Depends(require(Permission.IDENTITY_MERGE))]


@router.get("/conflicts", response_model=list[ConflictPublic])
def list_conflicts(
    stores: StoresDep, actor: Reader, limit: int = Query(100, ge=1, le=1000)
) -> list[ConflictPublic]:
    with stores.sessions() as session:
        return queries.conflicts(session, limit, masked=not actor.can(Permission.PII_VIEW))


@router.post("/merge", response_model=ResolvePublic)
def merge(stores: StoresDep, actor: Merger, body: MergeRequest) -> ResolvePublic:
    report = logic.merge_profiles(stores, actor, body.a, body.b, body.comment)
    return ResolvePublic.model_validate(report, from_attributes=True)


@router.post("/unmerge", response_model=ResolvePublic)
def unmerge(stores: StoresDep, actor: Merger, body: UnmergeRequest) -> ResolvePublic:
    report = logic.unmerge_profile(stores, actor, body.key, body.merge_id, body.comment)
    return ResolvePublic.model_validate(report, from_attributes=True)


@router.get("/{key:path}", response_model=IdentityGraph)
def show_graph(stores: StoresDep, actor: Reader, key: str) -> IdentityGraph:
    return logic.view_identity_graph(stores, actor, key)
