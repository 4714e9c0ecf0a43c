"""Session login/logout for API clients and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from tagora.core import logic
from tagora.core.auth import Principal, current_principal
from tagora.core.deps import get_stores
from tagora.core.stores import Stores

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str
    password: str


class MePublic(BaseModel):
    username: str
    role: str
    permissions: list[str]
    locale: str


def _me(p: Principal) -> MePublic:
    return MePublic(
        username=p.username, role=p.role.value, permissions=sorted(p.permissions), locale=p.locale
    )


@router.post("/login", response_model=MePublic)
def login(request: Request, body: LoginIn, stores: Annotated[Stores, Depends(get_stores)]) -> MePublic:
    principal = logic.authenticate(stores.sessions, body.username, body.password)
    request.session.clear()  # a fresh session on sign-in: no fixation
    request.session["user_id"] = principal.user_id
    return _me(principal)


@router.post("/logout", status_code=204)
def logout(request: Request) -> None:
    request.session.clear()


@router.get("/me", response_model=MePublic)
def me(principal: Annotated[Principal, Depends(current_principal)]) -> MePublic:
    return _me(principal)
