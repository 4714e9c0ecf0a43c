"""Append one audit row inside the caller's transaction (the ``logic`` verbs call this)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tagora.core.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    target_type: str = "",
    target_id: object = "",
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            actor=actor, action=action, target_type=target_type, target_id=str(target_id), detail=detail
        )
    )


def entries(session: Session, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
