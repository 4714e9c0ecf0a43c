"""Tag API: catalogue, lifecycle steps, computation runs and customers' tag values.

Every route needs ``tags:read``; the verbs in ``logic`` check the permission of each step themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import RowId, get_stores
from tagora.core.exports import MEDIA_TYPES, FileFormat, file_responses
from tagora.core.stores import Stores
from tagora.tags import catalogue, evaluation, exports, logic, preview, queries, runs
from tagora.tags.realtime import RealtimeTags
from tagora.tags.schemas import (
    AssignRequest,
    CategoryPublic,
    Comment,
    ComputeRequest,
    HistoryEntry,
    RuleCheck,
    RuleCheckRequest,
    RunPublic,
    TagDraft,
    TagEvaluation,
    TagPreview,
    TagPublic,
    TagRevision,
    TagValuePublic,
    ValueReport,
)


@asynccontextmanager
async def _realtime_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Real-time tags follow the events the tracking loader stores, for as long as the server runs."""
    stores = getattr(app.state, "stores", None)
    worker = RealtimeTags(stores) if stores is not None else None
    if worker is not None:
        worker.start()
    app.state.realtime_tags = worker
    try:
        yield
    finally:
        if worker is not None:
            await run_in_threadpool(worker.stop)


router = APIRouter(prefix="/api/tags", tags=["tags"], lifespan=_realtime_lifespan)
StoresDep = Annotated[Stores, Depends(get_stores)]
Reader = Annotated[Principal, Depends(require(Permission.TAGS_READ))]
Verb = Literal["submit", "approve", "reject", "publish", "deprecate", "retire"]


@router.get("", response_model=list[TagPublic])
def list_tags(
    stores: StoresDep, _actor: Reader, q: str = "", category: str | None = None, include_retired: bool = False
) -> list[TagPublic]:
    with stores.sessions() as session:
        return catalogue.search(session, q, category, include_retired)


@router.get("/categories", response_model=list[CategoryPublic])
def list_categories(stores: StoresDep, _actor: Reader) -> list[CategoryPublic]:
    with stores.sessions() as session:
        return catalogue.categories(session)


@router.post("", response_model=TagPublic, status_code=201)
def create_tag(stores: StoresDep, actor: Reader, draft: TagDraft, comment: str = "") -> TagPublic:
    return logic.create_tag(stores.sessions, actor, draft, comment)


@router.get("/runs", response_model=list[RunPublic])
def list_runs(stores: StoresDep, _actor: Reader, limit: int = Query(20, ge=1, le=200)) -> list[RunPublic]:
    return runs.runs(stores, limit)


@router.get("/runs/{run_id}", response_model=RunPublic)
def get_run(stores: StoresDep, _actor: Reader, run_id: RowId) -> RunPublic:
    return runs.run(stores, run_id)


@router.post("/compute", response_model=RunPublic)
def compute(stores: StoresDep, actor: Reader, request: ComputeRequest) -> RunPublic:
    uids = None
    if request.customers is not None:
        with stores.sessions() as session:
            uids = [queries.resolve_customer(session, key) for key in request.customers]
    return runs.compute_tags(stores, actor, request.tags, uids, request.as_of)


def segment_users(stores: Stores) -> evaluation.SegmentUsers:
    """Which saved segments read a tag. Imported here, not in ``evaluation``: audiences reads tags."""
    from tagora.audiences import facade as audiences

    return lambda code: audiences.segments_using(stores, code)


@router.get("/report", response_model=ValueReport)
def report(stores: StoresDep, _actor: Reader) -> ValueReport:
    """Every live tag's coverage, freshness, last run and users; which are unused, stale or failing."""
    return evaluation.value_report(stores, segment_users(stores))


@router.post("/check-rule", response_model=RuleCheck)
def check_rule(stores: StoresDep, _actor: Reader, request: RuleCheckRequest) -> RuleCheck:
    """Parse and type-check a rule against the catalogue (for an editor: errors come with a position)."""
    with stores.sessions() as session:
        return preview.check_rule(session, request.rule, request.code)


@router.post("/preview", response_model=TagPreview)
def preview_tag(stores: StoresDep, actor: Reader, draft: TagDraft) -> TagPreview:
    """A draft computed for a sample of customers: estimated coverage, distribution, a few customers."""
    return preview.preview_tag(stores, actor, draft)


@router.get("/values", response_model=list[TagValuePublic])
def customer_values(stores: StoresDep, _actor: Reader, customer: str) -> list[TagValuePublic]:
    """Every current tag value of one customer (external key or uid)."""
    with stores.sessions() as session:
        uid = queries.resolve_customer(session, customer)
    return queries.customer_tags(stores.warehouse, uid)


@router.get("/{code}", response_model=TagPublic)
def get_tag(stores: StoresDep, _actor: Reader, code: str) -> TagPublic:
    with stores.sessions() as session:
        return catalogue.current(session, code)


@router.get("/{code}/evaluation", response_model=TagEvaluation)
def evaluate(stores: StoresDep, _actor: Reader, code: str) -> TagEvaluation:
    """Coverage, distribution, drift since the previous full run, usage and last run of one tag."""
    return evaluation.evaluate_tag(stores, code, segment_users(stores))


@router.get("/{code}/versions", response_model=list[TagPublic])
def get_versions(stores: StoresDep, _actor: Reader, code: str) -> list[TagPublic]:
    with stores.sessions() as session:
        return catalogue.versions(session, code)


@router.get("/{code}/history", response_model=list[HistoryEntry])
def get_history(stores: StoresDep, _actor: Reader, code: str) -> list[HistoryEntry]:
    with stores.sessions() as session:
        return catalogue.lifecycle_history(session, code)


@router.patch("/{code}", response_model=TagPublic)
def revise_tag(stores: StoresDep, actor: Reader, code: str, changes: TagRevision) -> TagPublic:
    return logic.revise_tag(stores.sessions, actor, code, changes, changes.comment)


@router.post("/{code}/assign")
def assign(stores: StoresDep, actor: Reader, code: str, request: AssignRequest) -> dict[str, int]:
    """Put a manual tag on customers (all or nothing; unknown customers and bad values name their row)."""
    rows = list(request.values.items())
    return {"assigned": logic.assign_by_key(stores, actor, code, rows, request.comment)}


@router.post("/{code}/{verb}", response_model=TagPublic)
def step(stores: StoresDep, actor: Reader, code: str, verb: Verb, body: Comment) -> TagPublic:
    return logic.transition(stores, actor, code, verb, body.comment)


@router.get(
    "/{code}/export", response_class=Response, responses=file_responses(FileFormat.CSV, FileFormat.XLSX)
)
def export_values(
    stores: StoresDep, actor: Reader, code: str, format: Literal["csv", "xlsx"] = "csv"
) -> Response:
    """Every customer's current value of the tag as a file (``customers:export``; masked per role)."""
    body = exports.export_tag_values(stores, actor, code, format)
    return Response(
        body,
        media_type=MEDIA_TYPES[FileFormat(format)],
        headers={"Content-Disposition": f'attachment; filename="{code}.{format}"'},
    )


@router.get("/{code}/values", response_model=list[TagValuePublic])
def tag_values(
    stores: StoresDep, _actor: Reader, code: str, customer: str, history: bool = False
) -> list[TagValuePublic]:
    """One customer's value of one tag (several for a weighted tag); ``history`` gives every run's."""
    with stores.sessions() as session:
        catalogue.latest(session, code)
        uid = queries.resolve_customer(session, customer)
    if history:
        return queries.tag_history(stores.warehouse, uid, code)
    return queries.customer_tags(stores.warehouse, uid, code)
