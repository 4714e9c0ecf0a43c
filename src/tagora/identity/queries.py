"""Read queries of the identity graph; other areas reach them through ``facade``."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tagora.identity.models import Identity, IdentityConflict, IdentityMerge
from tagora.identity.rules import USER_ID
from tagora.identity.schemas import (
    ConflictPublic,
    IdentityGraph,
    IdentityPublic,
    MergePublic,
    RecordPublic,
)
from tagora.privacy.facade import mask_email, mask_identifier, mask_phone, mask_text

PERSONAL = {"phone": mask_phone, "email": mask_email, "id_number": mask_identifier}


def _shown(kind: str, value: str, masked: bool) -> str:
    """A value as a viewer without ``pii:view`` may see it: personal types by their own mask, any other
    (a user id, an alias, a device id) with the phones, e-mails and ID numbers written in it masked."""
    if not masked:
        return value
    return PERSONAL.get(kind, mask_text)(value) or ""


def identities_of(session: Session, uid: int) -> list[IdentityPublic]:
    """Every identity of the person ``uid`` (across its merged records), one per (type, value)."""
    rows = session.execute(
        select(Identity.type, Identity.value, Identity.source_system, Identity.origin_uid)
        .where(Identity.uid == uid)
        .order_by(Identity.id)
    )
    seen: set[tuple[str, str]] = set()
    out = []
    for kind, value, source, origin in rows:
        if (kind, value) not in seen:
            seen.add((kind, value))
            out.append(IdentityPublic(type=kind, value=value, source_system=source, origin_uid=origin))
    return out


def count_identities(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Identity)) or 0


def people_for(session: Session, kind: str, values: list[str]) -> dict[str, tuple[int, int]]:
    """identity value -> (person uid, record uid) for values of one type; the earliest link wins."""
    out: dict[str, tuple[int, int]] = {}
    for start in range(0, len(values), 500):
        rows = session.execute(
            select(Identity.value, Identity.uid, Identity.origin_uid)
            .where(Identity.type == kind, Identity.value.in_(values[start : start + 500]))
            .order_by(Identity.id.desc())
        )
        out.update({value: (uid, origin) for value, uid, origin in rows})
    return out


def graph(session: Session, uid: int, masked: bool) -> IdentityGraph:
    records = sorted(set(session.scalars(select(Identity.origin_uid).where(Identity.uid == uid))) | {uid})
    keys = dict(
        session.execute(
            select(Identity.origin_uid, Identity.value).where(
                Identity.origin_uid.in_(records), Identity.type == USER_ID
            )
        ).all()
    )
    held = session.scalars(
        select(Identity).where(Identity.uid == uid).order_by(Identity.origin_uid, Identity.id)
    )
    identities = [
        IdentityPublic(
            type=i.type,
            value=_shown(i.type, i.value, masked),
            source_system=i.source_system,
            origin_uid=i.origin_uid,
        )
        for i in held
    ]
    merges = session.scalars(
        select(IdentityMerge)
        .where(or_(IdentityMerge.merged_uid.in_(records), IdentityMerge.survivor_uid.in_(records)))
        .order_by(IdentityMerge.id.desc())
    )
    conflicts = session.scalars(
        select(IdentityConflict)
        .where(or_(IdentityConflict.uid_a.in_(records), IdentityConflict.uid_b.in_(records)))
        .order_by(IdentityConflict.id.desc())
        .limit(100)
    )
    return IdentityGraph(
        uid=uid,
        records=[
            RecordPublic(uid=r, customer_key=_shown(USER_ID, keys.get(r, str(r)), masked), survivor=r == uid)
            for r in records
        ],
        identities=identities,
        merges=[
            MergePublic.model_validate({**_columns(m), "evidence": _shown(m.rule, m.evidence, masked)})
            for m in merges
        ],
        conflicts=[
            ConflictPublic.model_validate({**_columns(c), "value": _shown(c.type, c.value, masked)})
            for c in conflicts
        ],
        masked=masked,
    )


def conflicts(session: Session, limit: int = 100, masked: bool = True) -> list[ConflictPublic]:
    rows = session.scalars(select(IdentityConflict).order_by(IdentityConflict.id.desc()).limit(limit))
    return [
        ConflictPublic.model_validate({**_columns(c), "value": _shown(c.type, c.value, masked)}) for c in rows
    ]


def _columns(row: object) -> dict[str, object]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}  # type: ignore[attr-defined]
