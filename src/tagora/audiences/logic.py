"""Audience verbs: live counts, saved segments (dynamic and static), sizes, membership, export, portraits."""

from __future__ import annotations

import json
import logging
import threading
from datetime import date
from pathlib import Path
from time import perf_counter
from typing import Any

from ibis.backends import BaseBackend
from pyroaring import BitMap
from sqlalchemy import select
from sqlalchemy.orm import Session

from tagora.audiences import expr as expressions
from tagora.audiences import portraits, store
from tagora.audiences.bitmaps import WeightedIndex, to_bitmap
from tagora.audiences.engine import TagIndex, check, evaluate
from tagora.audiences.models import Segment, SegmentSize, SegmentSnapshot
from tagora.audiences.schemas import (
    CountPublic,
    Driver,
    Lookalike,
    SegmentCreate,
    SegmentPublic,
    SegmentUpdate,
    SizePoint,
)
from tagora.core import audit, exports
from tagora.core.auth import Permission, Principal
from tagora.core.clock import utcnow
from tagora.core.db import transaction, upsert
from tagora.core.errors import AppError, CoreErrorCode, not_found
from tagora.core.stores import Stores
from tagora.core.warehouse import thread_connection
from tagora.profiles import facade as profiles
from tagora.tags import facade as tags

log = logging.getLogger(__name__)
INDEX_KEY = "audience_index"
SEEN_KEY = "audience_index_checked"  # (stores.generation, perf_counter()) of the last freshness check
RECHECK_S = 30.0
MAX_LOOKALIKES = 10_000
MIN_GROUP = 10  # group figures on fewer customers are hidden from roles without pii:view
_lock = threading.Lock()
_rebuilding = threading.Lock()


def index_path(stores: Stores) -> Path:
    return stores.settings.home / "audiences" / "index.npz"


def _loaded(stores: Stores) -> TagIndex:
    """The index in memory, else the one saved in its file, else an empty one."""
    index = stores.extras.get(INDEX_KEY)
    if isinstance(index, TagIndex):
        return index
    with _lock:
        index = stores.extras.get(INDEX_KEY)
        if not isinstance(index, TagIndex):
            path = index_path(stores)
            index = store.load(path) if path.exists() else TagIndex(universe=BitMap())
            stores.extras[INDEX_KEY] = index
    return index


def index_version(stores: Stores, warehouse: BaseBackend | None = None) -> str:
    """Who the people are and what the tags say, in a few figures: the index is stale when they move."""
    with stores.sessions() as session:
        tag_figures = tags.values_version(session, warehouse or stores.warehouse)
        return f"{profiles.population_version(session)}|{tag_figures}"


def audience_index(stores: Stores) -> TagIndex:
    """The index, fresh: rebuilt from the tag store if customers or tags changed since it was built.

    After a write in this process that says so (``stores.touch``: a tag run, a manual tag, a merge) the
    next caller rebuilds it and waits. Every ``RECHECK_S`` it also looks for quieter changes (real-time
    tags, another process) and then rebuilds in the background, answering from the index it holds.
    """
    index = _loaded(stores)
    seen = stores.extras.get(SEEN_KEY)
    generation, checked_at = seen if isinstance(seen, tuple) else (None, float("-inf"))
    touched = generation != stores.generation
    if not touched and perf_counter() - checked_at < RECHECK_S:
        return index
    if touched or not index.version:
        return _refresh(stores, wait=True)
    threading.Thread(target=_refresh_in_background, args=(stores,), daemon=True).start()
    stores.extras[SEEN_KEY] = (stores.generation, perf_counter())
    return index


def _refresh(stores: Stores, wait: bool, warehouse: BaseBackend | None = None) -> TagIndex:
    if not _rebuilding.acquire(blocking=wait):  # someone else is rebuilding: keep the one we have
        return _loaded(stores)
    try:
        stores.extras[SEEN_KEY] = (stores.generation, perf_counter())  # a write from now on is seen later
        version = index_version(stores, warehouse)
        index = _loaded(stores)
        return index if index.version == version else reindex(stores, version, warehouse)
    finally:
        _rebuilding.release()


def _refresh_in_background(stores: Stores) -> None:
    warehouse = thread_connection(stores.warehouse)
    try:
        _refresh(stores, wait=False, warehouse=warehouse)
    except Exception:  # the next check tries again; requests keep the index they have
        log.exception("audiences: rebuilding the index failed")
    finally:
        if warehouse is not stores.warehouse:
            warehouse.disconnect()


def install_index(stores: Stores, index: TagIndex) -> None:
    """Swap in a freshly built index (readers keep the one they hold) and persist it."""
    store.save(index, index_path(stores))
    stores.extras[INDEX_KEY] = index


def _parse(raw: Any, text: str | None = None, index: TagIndex | None = None) -> expressions.Expr:
    """The JSON form, or the rule-language ``text`` (read against ``index``'s tags)."""
    if text is not None:
        raw = _from_text(text, index or TagIndex(universe=BitMap()))
    if raw is None:
        message = "send a segment expression (JSON) or its text"
        raise AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": "expression"})
    return expressions.parse(raw)


def _from_text(text: str, index: TagIndex) -> Any:
    """``member_tier in ("gold", "diamond") and not churn_risk = "high"`` -> the JSON form."""
    try:
        tree = tags.rule_json(text)
    except tags.RuleError as exc:
        data = {"field": "text", "line": exc.line, "column": exc.column}
        raise AppError(CoreErrorCode.INVALID_INPUT, f"text: {exc}", 422, data) from exc
    return _json_form(tree, index)


def _json_form(tree: dict[str, Any], index: TagIndex) -> Any:
    for key in ("all", "any"):
        if key in tree:
            return {key: [_json_form(item, index) for item in tree[key]]}
    if "not" in tree:
        return {"not": _json_form(tree["not"], index)}
    name, op = tree["field"], tree["op"]
    target = index.tags.get(name)
    if isinstance(target, WeightedIndex) and op == "=":
        op = "contains"  # a multi-value tag "is" each of its values
    where = "attribute" if target is None and name in index.attributes else "tag"
    return {where: name, "op": op, **({"value": tree["value"]} if "value" in tree else {})}


def _lookup(session: Session, index: TagIndex, seen: tuple[str, ...] = ()) -> Any:
    """Resolves ``{"segment": code}`` references (cycles are an error)."""

    def members(code: str) -> BitMap:
        if code in seen:
            raise expressions.SegmentError("segment", f"segment {code!r} refers to itself")
        segment = session.scalar(select(Segment).where(Segment.code == code, Segment.archived_at.is_(None)))
        if segment is None:
            raise expressions.SegmentError("segment", f"unknown segment {code!r}")
        return _members(session, index, segment, (*seen, code))

    return members


def _members(session: Session, index: TagIndex, segment: Segment, seen: tuple[str, ...] = ()) -> BitMap:
    if segment.kind == "static":
        snapshot = session.scalar(
            select(SegmentSnapshot)
            .where(SegmentSnapshot.segment_id == segment.id)
            .order_by(SegmentSnapshot.id.desc())
        )
        return BitMap.deserialize(snapshot.members) if snapshot is not None else BitMap()
    expr = expressions.parse(json.loads(segment.expression))
    return evaluate(expr, index, _lookup(session, index, (*seen, segment.code)))


def count(stores: Stores, raw: Any, text: str | None = None) -> CountPublic:
    """The live size of an expression (JSON, or rule-language ``text``) while it is being edited."""
    index = audience_index(stores)
    expr = _parse(raw, text, index)
    started = perf_counter()
    with stores.sessions() as session:
        check(expr, index)
        members = evaluate(expr, index, _lookup(session, index))
    return CountPublic(
        count=len(members), base=len(index.universe), ms=round((perf_counter() - started) * 1000, 3)
    )


def _public(segment: Segment) -> SegmentPublic:
    return SegmentPublic(
        code=segment.code, name=segment.name, description=segment.description, kind=segment.kind,
        expression=json.loads(segment.expression), owner=segment.owner, size=segment.size,
        refreshed_at=segment.refreshed_at, created_at=segment.created_at,
    )  # fmt: skip


def _get(session: Session, code: str) -> Segment:
    segment = session.scalar(select(Segment).where(Segment.code == code, Segment.archived_at.is_(None)))
    if segment is None:
        raise not_found("segment", code)
    return segment


def create_segment(stores: Stores, actor: Principal, data: SegmentCreate) -> SegmentPublic:
    index = audience_index(stores)
    expr = _parse(data.expression, data.text, index)
    with transaction(stores.sessions) as session:
        if session.scalar(select(Segment.id).where(Segment.code == data.code)) is not None:
            raise AppError(CoreErrorCode.CONFLICT, f"segment {data.code!r} exists", 409, {"field": "code"})
        check(expr, index)
        members = evaluate(expr, index, _lookup(session, index, (data.code,)))
        segment = Segment(
            code=data.code, name=data.name, description=data.description, kind=data.kind,
            expression=json.dumps(expressions.dump(expr), ensure_ascii=False), owner=actor.username,
            size=len(members), refreshed_at=utcnow(),
        )  # fmt: skip
        session.add(segment)
        session.flush()
        if data.kind == "static":
            session.add(
                SegmentSnapshot(segment_id=segment.id, members=members.serialize(), size=len(members))
            )
        _record_size(session, segment)
        audit.record(session, actor.username, "segment.create", "segment", segment.code, size=len(members))
        return _public(segment)


def update_segment(stores: Stores, actor: Principal, code: str, data: SegmentUpdate) -> SegmentPublic:
    index = audience_index(stores)
    with transaction(stores.sessions) as session:
        segment = _get(session, code)
        if data.name is not None:
            segment.name = data.name
        if data.description is not None:
            segment.description = data.description
        if data.expression is not None or data.text is not None:
            if segment.kind == "static":
                raise AppError(
                    CoreErrorCode.CONFLICT, "a static segment is a frozen list; create a new one", 409,
                    {"field": "expression"},
                )  # fmt: skip
            expr = _parse(data.expression, data.text, index)
            check(expr, index)
            segment.size = len(evaluate(expr, index, _lookup(session, index, (code,))))
            segment.expression = json.dumps(expressions.dump(expr), ensure_ascii=False)
            segment.refreshed_at = utcnow()
        audit.record(session, actor.username, "segment.update", "segment", code)
        return _public(segment)


def archive_segment(stores: Stores, actor: Principal, code: str) -> None:
    with transaction(stores.sessions) as session:
        segment = _get(session, code)
        segment.archived_at = utcnow()
        audit.record(session, actor.username, "segment.archive", "segment", code)


def list_segments(stores: Stores) -> list[SegmentPublic]:
    with stores.sessions() as session:
        rows = session.scalars(select(Segment).where(Segment.archived_at.is_(None)).order_by(Segment.code))
        return [_public(s) for s in rows]


def show_segment(stores: Stores, code: str) -> SegmentPublic:
    with stores.sessions() as session:
        return _public(_get(session, code))


def members(stores: Stores, code: str) -> BitMap:
    index = audience_index(stores)
    with stores.sessions() as session:
        return _members(session, index, _get(session, code))


def _record_size(session: Session, segment: Segment) -> None:
    row = {"segment_id": segment.id, "day": date.today(), "size": segment.size}
    upsert(session, SegmentSize.__table__, [row], ["segment_id", "day"], ["size"])


def refresh_segments(stores: Stores) -> int:
    """Re-count every dynamic segment on the current index and keep today's size (the daily history)."""
    index = audience_index(stores)
    refreshed = 0
    with transaction(stores.sessions) as session:
        for segment in session.scalars(select(Segment).where(Segment.archived_at.is_(None))):
            segment.size = len(_members(session, index, segment))
            segment.refreshed_at = utcnow()
            _record_size(session, segment)
            refreshed += 1
    return refreshed


def size_history(stores: Stores, code: str) -> list[SizePoint]:
    with stores.sessions() as session:
        segment = _get(session, code)
        rows = session.scalars(
            select(SegmentSize).where(SegmentSize.segment_id == segment.id).order_by(SegmentSize.day)
        )
        return [SizePoint(day=r.day, size=r.size) for r in rows]


def segments_containing(stores: Stores, uid: int) -> list[str]:
    """The codes of the segments customer ``uid`` is in."""
    index = audience_index(stores)
    with stores.sessions() as session:
        rows = session.scalars(select(Segment).where(Segment.archived_at.is_(None)).order_by(Segment.code))
        return [s.code for s in rows if uid in _members(session, index, s)]


def group_threshold(actor: Principal) -> int:
    return 0 if actor.can(Permission.PII_VIEW) else MIN_GROUP


def portrait(
    stores: Stores, actor: Principal, members_of: BitMap, group: str | None = None
) -> portraits.GroupPortrait:
    """The group's portrait; a named ``group`` without members is refused (409): there is nothing to draw."""
    if group is not None and not members_of:
        message = f"{group} has no members: there is no portrait to draw"
        raise AppError(CoreErrorCode.CONFLICT, message, 409, {"group": group, "size": 0})
    return portraits.group_portrait(audience_index(stores), members_of, k=group_threshold(actor))


def lookalike(stores: Stores, actor: Principal, code: str, n: int = 100) -> Lookalike:
    """The ``n`` customers outside segment ``code`` most like its members on their tags (audited)."""
    if not 1 <= n <= MAX_LOOKALIKES:
        message = f"n must be between 1 and {MAX_LOOKALIKES:,}"
        raise AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": "n"})
    exports.check_row_cap(stores.settings.export_max_rows, actor.role.value, n, "lookalike list")
    seed = members(stores, code)
    found = portraits.lookalike(audience_index(stores), seed, n)
    masked = not actor.can(Permission.PII_VIEW)
    with transaction(stores.sessions) as session:
        people = {c.uid: c for c in profiles.summaries_for(session, found.members, masked)}
        audit.record(
            session, actor.username, "segment.lookalike", "segment", code, n=n, found=len(found.members)
        )
    customers = [
        {**people[uid].model_dump(), "score": round(score, 4)}
        for uid, score in zip(found.members, found.scores, strict=True)
        if uid in people
    ]
    drivers = [Driver(tag=t, value=v, weight=w) for t, v, w in found.drivers]
    return Lookalike(segment=code, seed_size=len(seed), customers=customers, drivers=drivers)


EXPORT_FIELDS = ("customer_key", "name", "phone", "email", "country", "city", "member_tier")


def export_members(
    stores: Stores,
    actor: Principal,
    code: str,
    fields: list[str] | None = None,
    fmt: str = "csv",
    phone_format: str = "e164",
) -> bytes:
    """The members as CSV or Excel with the chosen fields, masked per role, through the one export writer
    (formula cells neutralized, phones in ``phone_format``); capped per role and audited with its rows."""
    fields = fields or list(EXPORT_FIELDS)
    unknown = [f for f in fields if f not in (*EXPORT_FIELDS, "uid")]
    if unknown:
        choices = ", ".join(EXPORT_FIELDS)
        message = f"unknown export field {unknown[0]!r}; choose from uid, {choices}"
        raise AppError(CoreErrorCode.INVALID_INPUT, message, 422, {"field": "fields"})
    chosen = exports.file_format(fmt, (exports.FileFormat.CSV, exports.FileFormat.XLSX))
    options = exports.ExportOptions(
        phone_columns=("phone",),
        phone_format=exports.phone_format(phone_format),
        region=stores.settings.default_region,
        sheet="members",
    )
    masked = not actor.can(Permission.PII_VIEW)
    uids = list(members(stores, code))
    exports.check_row_cap(stores.settings.export_max_rows, actor.role.value, len(uids), "segment")
    rows: list[list[object]] = []
    with transaction(stores.sessions) as session:
        for start in range(0, len(uids), 5000):
            for c in profiles.summaries_for(session, uids[start : start + 5000], masked):
                values = c.model_dump()
                rows.append([values.get(f) for f in fields])
        audit.record(
            session,
            actor.username,
            "segment.export",
            "segment",
            code,
            rows=len(rows),
            masked=masked,
            format=chosen.value,
        )
    return exports.to_bytes(chosen, fields, rows, options)


def is_member(stores: Stores, key: str, code: str) -> bool:
    with stores.sessions() as session:
        uid = profiles.person_uid(session, key)
    return uid in members(stores, code)


def segments_of(stores: Stores, key: str) -> list[str]:
    with stores.sessions() as session:
        uid = profiles.person_uid(session, key)
    return segments_containing(stores, uid)


def product_buyers(stores: Stores, sku: str | None = None, category: str | None = None) -> BitMap:
    """The buyers of a product or of a category (and its subcategories): a product portrait's group."""
    with stores.sessions() as session:
        skus = [sku] if sku else profiles.skus_in_category(session, category or "")
        if not (sku or category):
            raise AppError(CoreErrorCode.INVALID_INPUT, "name a sku or a category", 422, {"field": "sku"})
        found = to_bitmap(profiles.buyers(stores.warehouse, skus)) if skus else BitMap()
        if not found and not profiles.known_skus(session, skus):
            raise not_found("product" if sku else "category", sku or category)
    return found


def rebuild_index(
    stores: Stores, catalogue: dict[str, str], values: Any, version: str | None = None
) -> TagIndex:
    """A new index over every live customer from tag rows (``uid, tag, value, number, weight``)."""
    version = index_version(stores) if version is None else version
    with stores.sessions() as session:
        universe = profiles.live_uids(session)
    index = store.build_index(universe, catalogue, values, version)
    install_index(stores, index)
    return index


def reindex(stores: Stores, version: str | None = None, warehouse: BaseBackend | None = None) -> TagIndex:
    """Rebuild the index from the tag store: every published tag, everyone's current values."""
    with stores.sessions() as session:
        value_types = tags.live_value_types(session)
    values = tags.current_values(warehouse or stores.warehouse)
    return rebuild_index(stores, value_types, values, version or index_version(stores, warehouse))


def _names_in(raw: Any, key: str) -> set[str]:
    """Every ``{key: name}`` in a stored expression, at any depth (read as JSON, not parsed: old rows too)."""
    if isinstance(raw, list):
        return set().union(*(_names_in(item, key) for item in raw)) if raw else set()
    if not isinstance(raw, dict):
        return set()
    found = {raw[key]} if isinstance(raw.get(key), str) else set()
    return found.union(*(_names_in(v, key) for v in raw.values() if isinstance(v, dict | list)))


def segments_using(stores_or_session: Stores | Session, code: str) -> list[str]:
    """Saved segments whose conditions read tag ``code``, directly or through a segment they include."""
    query = select(Segment.code, Segment.expression).where(Segment.archived_at.is_(None))
    if isinstance(stores_or_session, Session):
        rows = stores_or_session.execute(query).all()
    else:
        with stores_or_session.sessions() as session:
            rows = session.execute(query).all()
    parsed: dict[str, Any] = {}
    for segment_code, text in rows:
        try:
            parsed[segment_code] = json.loads(text)
        except json.JSONDecodeError:
            continue
    using = {c for c, raw in parsed.items() if code in _names_in(raw, "tag")}
    while more := {c for c, raw in parsed.items() if c not in using and _names_in(raw, "segment") & using}:
        using |= more  # a segment that includes a user is a user too
    return sorted(using)
