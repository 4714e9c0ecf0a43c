"""Identity response models."""

from __future__ import annotations

from pydantic import BaseModel


class IdentityPublic(BaseModel):
    type: str
    value: str
    source_system: str
