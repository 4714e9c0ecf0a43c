"""The audit log as a file (``audit:read``), through the one export writer; the export is audited too."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from tagora.core import audit, exports
from tagora.core.auth import Permission, Principal
from tagora.core.db import transaction
from tagora.core.errors import AppError, CoreErrorCode
from tagora.core.models import AuditEntry
from tagora.core.stores import Stores

EXPORT_COLUMNS = ("id", "at", "actor", "action", "target_type", "target_id", "detail")
CHUNK = 5000


def export_audit(
    stores: Stores,
    actor: Principal,
    fmt: str = "csv",
    action: str | None = None,
    since: datetime | None = None,
) -> bytes:
    """Entries oldest first, optionally of one ``action`` and from ``since`` on; ``detail`` as JSON text."""
    if not actor.can(Permission.AUDIT_READ):
        raise AppError(
            CoreErrorCode.FORBIDDEN,
            f"role {actor.role.value!r} lacks permission {Permission.AUDIT_READ.value!r}",
            403,
            {"permission": Permission.AUDIT_READ.value},
        )
    chosen = exports.file_format(fmt, (exports.FileFormat.CSV, exports.FileFormat.XLSX))
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= (since if since.tzinfo else since.replace(tzinfo=UTC)))
    out = io.BytesIO()
    with transaction(stores.sessions) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        exports.check_row_cap(stores.settings.export_max_rows, actor.role.value, total, "audit export")
        with exports.open_writer(out, chosen, EXPORT_COLUMNS, exports.ExportOptions(sheet="audit")) as writer:
            last = written = 0
            while True:  # by id, in chunks: the log can be long and entries keep arriving
                page = query.where(AuditEntry.id > last).order_by(AuditEntry.id).limit(CHUNK)
                entries = list(session.scalars(page))
                for e in entries:
                    detail = json.dumps(e.detail, ensure_ascii=False, default=str)
                    writer.write([e.id, e.at, e.actor, e.action, e.target_type, e.target_id, detail])
                written += len(entries)
                if len(entries) < CHUNK:
                    break
                last = entries[-1].id
        audit.record(
            session,
            actor.username,
            "audit.export",
            "audit",
            action or "",
            rows=written,
            format=chosen.value,
            since=since.isoformat() if since else None,
        )
    return out.getvalue()
