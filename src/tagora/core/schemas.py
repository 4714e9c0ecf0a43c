"""Request and response models of the kernel's API: sign-in, users and API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    username: str = Field(max_length=1024)
    password: str = Field(max_length=4096)


class MePublic(BaseModel):
    username: str
    role: str
    permissions: list[str]
    locale: str


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    locale: str
    is_active: bool
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=4096)
    role: str
    display_name: str = Field(default="", max_length=128)
    locale: str = "en"


class UserUpdate(BaseModel):
    """Fields left out stay as they are."""

    role: str | None = None
    is_active: bool | None = None


class PasswordReset(BaseModel):
    password: str = Field(max_length=4096)


class TokenCreate(BaseModel):
    username: str
    name: str = Field(max_length=128)
    scopes: list[str] | None = Field(
        default=None, description="permissions the token may use (within its user's role); all if left out"
    )
    expires_at: datetime | None = None


class TokenPublic(BaseModel):
    id: int
    username: str
    name: str
    scopes: list[str] | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(BaseModel):
    token: str = Field(description="shown this once; only its hash is stored")
    username: str
    name: str
