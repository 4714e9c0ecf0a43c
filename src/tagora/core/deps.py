"""FastAPI dependencies shared by every area's router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from tagora.core.stores import Stores

# A row id in a path: past 64 bits the database cannot even compare it (a 500 before), so it is a 422.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def get_stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores
    return stores
