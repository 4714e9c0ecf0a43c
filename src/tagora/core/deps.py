"""FastAPI dependencies shared by every area's router."""

from __future__ import annotations

from fastapi import Request

from tagora.core.stores import Stores


def get_stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores
    return stores
