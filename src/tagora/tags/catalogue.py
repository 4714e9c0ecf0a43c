"""Read side of the catalogue: tag versions, the category tree, and the names a rule may use."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tagora.core.errors import AppError, not_found
from tagora.core.models import AuditEntry
from tagora.tags.errors import TagErrorCode
from tagora.tags.models import TagCategory, TagDefinition
from tagora.tags.rules import Field, ValueType
from tagora.tags.schemas import CategoryPublic, HistoryEntry, TagPublic
from tagora.tags.specs import Status, TagValueType

LIVE = (Status.PUBLISHED.value, Status.DEPRECATED.value)
# Profile attributes a rule may name directly (``member_tier in ("gold")``).
PROFILE_FIELDS: dict[str, Field] = {
    name: Field(name, ValueType.STRING, is_tag=False)
    for name in ("gender", "country", "province", "city", "member_tier", "source_channel")
} | {"age": Field("age", ValueType.NUMBER, is_tag=False)}
_RULE_TYPE = {
    TagValueType.BOOLEAN: ValueType.BOOLEAN,
    TagValueType.ENUM: ValueType.ENUM,
    TagValueType.NUMBER: ValueType.NUMBER,
}


def latest(session: Session, code: str) -> TagDefinition:
    """The newest version of a tag, whatever its status."""
    tag = session.scalar(
        select(TagDefinition)
        .where(TagDefinition.code == code)
        .order_by(TagDefinition.version.desc())
        .limit(1)
    )
    if tag is None:
        raise not_found("tag", code)
    return tag


def live(session: Session, code: str) -> TagDefinition:
    """The version that is computed and offered to segments (published or deprecated)."""
    tag = session.scalar(
        select(TagDefinition).where(TagDefinition.code == code, TagDefinition.status.in_(LIVE)).limit(1)
    )
    if tag is None:
        raise AppError(TagErrorCode.NOT_LIVE, f"tag {code!r} has no published version", 409, {"tag": code})
    return tag


def current_versions(session: Session, include_retired: bool = False) -> list[TagDefinition]:
    """One row per code: the live version if there is one, else the newest."""
    newest = (
        select(TagDefinition.code, func.max(TagDefinition.version).label("v"))
        .group_by(TagDefinition.code)
        .subquery()
    )
    rows = list(
        session.scalars(
            select(TagDefinition).join(
                newest, (TagDefinition.code == newest.c.code) & (TagDefinition.version == newest.c.v)
            )
        )
    )
    live_rows = {
        t.code: t for t in session.scalars(select(TagDefinition).where(TagDefinition.status.in_(LIVE)))
    }
    out = [live_rows.get(t.code, t) for t in rows]
    if not include_retired:
        out = [t for t in out if t.status != Status.RETIRED.value]
    return sorted(out, key=lambda t: t.code)


def live_tags(session: Session) -> list[TagDefinition]:
    return list(session.scalars(select(TagDefinition).where(TagDefinition.status.in_(LIVE))))


def rule_catalogue(session: Session, exclude: str | None = None) -> dict[str, Field]:
    """Profile fields and every non-retired, non-weighted tag, as the rule checker sees them."""
    catalogue = dict(PROFILE_FIELDS)
    for tag in current_versions(session):
        value_type = _RULE_TYPE.get(TagValueType(tag.value_type))
        if tag.code != exclude and value_type is not None:
            catalogue[tag.code] = Field(tag.code, value_type, frozenset(tag.values or ()))
    return catalogue


def category_by_code(session: Session, code: str) -> TagCategory:
    category = session.scalar(select(TagCategory).where(TagCategory.code == code))
    if category is None:
        codes = ", ".join(session.scalars(select(TagCategory.code).order_by(TagCategory.code)))
        raise AppError(
            TagErrorCode.UNKNOWN_CATEGORY,
            f"unknown category {code!r} (one of: {codes})",
            422,
            {"field": "category"},
        )
    return category


def categories(session: Session) -> list[CategoryPublic]:
    rows = list(session.scalars(select(TagCategory).order_by(TagCategory.id)))
    codes = {c.id: c.code for c in rows}
    return [
        CategoryPublic(code=c.code, name_zh=c.name_zh, name_en=c.name_en, parent=codes.get(c.parent_id or 0))
        for c in rows
    ]


def present(session: Session, tag: TagDefinition) -> TagPublic:
    category = session.get(TagCategory, tag.category_id)
    return TagPublic(
        code=tag.code,
        version=tag.version,
        name_zh=tag.name_zh,
        name_en=tag.name_en,
        description=tag.description,
        category=category.code if category else "",
        owner=tag.owner,
        type=tag.type,
        value_type=tag.value_type,
        refresh=tag.refresh,
        values=list(tag.values or []),
        status=tag.status,
        spec=dict(tag.spec),
        created_by=tag.created_by,
        created_at=tag.created_at,
        updated_at=tag.updated_at,
        published_at=tag.published_at,
    )


def search(
    session: Session, q: str = "", category: str | None = None, include_retired: bool = False
) -> list[TagPublic]:
    """Search by code or either name (case-insensitive), optionally within a category and its children."""
    tags = current_versions(session, include_retired)
    if category:
        root = category_by_code(session, category)
        wanted = {root.id} | {
            c.id for c in session.scalars(select(TagCategory).where(TagCategory.parent_id == root.id))
        }
        tags = [t for t in tags if t.category_id in wanted]
    needle = q.strip().lower()
    if needle:
        tags = [t for t in tags if needle in f"{t.code} {t.name_zh} {t.name_en}".lower()]
    return [present(session, t) for t in tags]


def versions(session: Session, code: str) -> list[TagPublic]:
    rows = list(
        session.scalars(
            select(TagDefinition).where(TagDefinition.code == code).order_by(TagDefinition.version)
        )
    )
    if not rows:
        raise not_found("tag", code)
    return [present(session, t) for t in rows]


def current(session: Session, code: str) -> TagPublic:
    """The live version if there is one, else the newest."""
    found = session.scalar(
        select(TagDefinition).where(TagDefinition.code == code, TagDefinition.status.in_(LIVE)).limit(1)
    )
    return present(session, found or latest(session, code))


def lifecycle_history(session: Session, code: str) -> list[HistoryEntry]:
    """Every audited step of a tag (create, revise, submit, approve, ...), oldest first."""
    latest(session, code)
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "tag", AuditEntry.target_id == code)
        .order_by(AuditEntry.id)
    )
    return [
        HistoryEntry(
            at=e.at,
            actor=e.actor,
            action=e.action,
            version=e.detail.get("version"),
            comment=e.detail.get("comment", ""),
        )
        for e in rows
    ]


def pending(session: Session) -> list[TagPublic]:
    """Versions waiting for approval, oldest request first (a revision of a live tag included)."""
    rows = session.scalars(
        select(TagDefinition)
        .where(TagDefinition.status == Status.PENDING_APPROVAL.value)
        .order_by(TagDefinition.updated_at, TagDefinition.id)
    )
    return [present(session, t) for t in rows]
