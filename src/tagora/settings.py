"""The one validated settings object; every value can be set by a ``TAGORA_`` environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "development-only-secret"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAGORA_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    home: Path = Path("./tagora-data")
    database_url: str | None = None
    warehouse_url: str | None = None
    secret_key: SecretStr = SecretStr("development-only-secret")
    default_locale: Literal["en", "zh"] = "en"
    display_timezone: str = "UTC"
    session_max_age_s: int = 12 * 3600
    default_region: str = "CN"  # phones without a country code are read as numbers of this region
    identity_rules: Path | None = None  # YAML/JSON overriding identity types and merge rules
    tag_history_days: int = Field(default=90, ge=1)  # run snapshots kept (docs/tags.md, Storage)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env != "development" and self.secret_key.get_secret_value() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "TAGORA_SECRET_KEY is a placeholder; set a real secret outside development "
                f"(TAGORA_ENV={self.env})"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'tagora.db').resolve()}"

    @property
    def resolved_warehouse_url(self) -> str:
        return self.warehouse_url or f"duckdb://{(self.home / 'warehouse.duckdb').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
