"""The built-in tag library: definitions shipped as data (``library.yaml``), installed published."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from tagora.core.auth import Principal
from tagora.tags.logic import install_definitions, validate_draft
from tagora.tags.schemas import TagDraft

LIBRARY = "library.yaml"


def library_definitions() -> list[TagDraft]:
    text = resources.files("tagora.tags").joinpath(LIBRARY).read_text(encoding="utf-8")
    raw: list[dict[str, Any]] = yaml.safe_load(text)
    return [validate_draft(item) for item in raw]


def install_library(sessions: sessionmaker[Session], actor: Principal) -> list[str]:
    """Publish every library tag whose code is free; returns the codes added (none the second time)."""
    return install_definitions(sessions, actor, library_definitions(), "built-in library")
