"""What other areas may call: read and link a profile's identities."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tagora.core.db import upsert
from tagora.identity.models import Identity
from tagora.identity.schemas import IdentityPublic


def identities_of(session: Session, uid: int) -> list[IdentityPublic]:
    rows = session.scalars(select(Identity).where(Identity.uid == uid).order_by(Identity.id))
    return [IdentityPublic(type=i.type, value=i.value, source_system=i.source_system) for i in rows]


def count_identities(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Identity)) or 0


def link_external_ids(session: Session, uids: dict[str, int], source_system: str) -> None:
    """Record each external key as an ``external_id`` identity of its profile (in the caller's transaction).

    A key already linked keeps its profile: identity resolution, not a file import, decides merges.
    """
    rows = [
        {"uid": uid, "type": "external_id", "value": key, "source_system": source_system}
        for key, uid in uids.items()
    ]
    upsert(session, Identity.__table__, rows, ["type", "value"])
