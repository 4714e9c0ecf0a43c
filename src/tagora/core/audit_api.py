"""``GET /api/audit/export``: the audit log as a file, for ``audit:read``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from tagora.core.audit_export import export_audit
from tagora.core.auth import Permission, Principal, require
from tagora.core.deps import get_stores
from tagora.core.exports import MEDIA_TYPES, FileFormat, file_responses
from tagora.core.stores import Stores

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("/export", response_class=Response, responses=file_responses(FileFormat.CSV, FileFormat.XLSX))
def export(
    stores: Annotated[Stores, Depends(get_stores)],
    actor: Annotated[Principal, Depends(require(Permission.AUDIT_READ))],
    format: Literal["csv", "xlsx"] = "csv",
    action: str | None = None,
    since: datetime | None = None,
) -> Response:
    """Entries oldest first, of one ``action`` and from ``since`` on when given (the export is audited)."""
    body = export_audit(stores, actor, format, action, since)
    return Response(
        body,
        media_type=MEDIA_TYPES[FileFormat(format)],
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )
