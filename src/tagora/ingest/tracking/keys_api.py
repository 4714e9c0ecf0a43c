"""Write keys over the API: create (the key is shown once), list and revoke; for those who manage users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tagora.core.auth import Principal, current_principal
from tagora.core.deps import get_stores
from tagora.core.stores import Stores
from tagora.ingest import facade
from tagora.ingest.tracking.schemas import WriteKeyPublic

router = APIRouter(prefix="/api/tracking/keys", tags=["tracking"])
StoresDep = Annotated[Stores, Depends(get_stores)]
Caller = Annotated[Principal, Depends(current_principal)]


class WriteKeyCreate(BaseModel):
    name: str = Field(max_length=128)


class WriteKeyIssued(BaseModel):
    name: str
    write_key: str = Field(description="shown this once; only its hash is stored")


@router.get("", response_model=list[WriteKeyPublic])
def list_keys(stores: StoresDep, principal: Caller) -> list[WriteKeyPublic]:
    return facade.list_write_keys(stores, principal)


@router.post("", response_model=WriteKeyIssued, status_code=201)
def create_key(body: WriteKeyCreate, stores: StoresDep, principal: Caller) -> WriteKeyIssued:
    key = facade.create_write_key(stores, principal, body.name)
    return WriteKeyIssued(name=body.name.strip(), write_key=key)


@router.delete("/{name}", status_code=204)
def revoke_key(name: str, stores: StoresDep, principal: Caller) -> Response:
    """Calls with the key are refused from now on."""
    facade.revoke_write_key(stores, principal, name)
    return Response(status_code=204)
