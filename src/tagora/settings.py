"""The one validated settings object; every value can be set by a ``TAGORA_`` environment variable."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that appear in docs, examples or earlier releases: whoever knows them can forge a session.
PLACEHOLDER_SECRETS = frozenset(
    {"changethis", "change-me", "changeme", "secret", "development-only-secret", "your-secret-key"}
)
MIN_EXPOSED_SECRET_BYTES = 32
MIN_DISTINCT_SECRET_CHARS = 10
SECRET_FILE = "secret_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAGORA_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    home: Path = Path("./tagora-data")
    database_url: str | None = None
    warehouse_url: str | None = None
    # Empty means "not configured": development then uses a random secret kept in the home (SECRET_FILE).
    secret_key: SecretStr = SecretStr("")
    default_locale: Literal["en", "zh"] = "en"
    display_timezone: str = "UTC"
    session_max_age_s: int = Field(default=12 * 3600, ge=60)  # a console session's absolute lifetime
    session_idle_s: int = Field(default=2 * 3600, ge=60)  # ... and how long it lives unused
    # Failed logins within the window, per account and per client address, before 429 (docs/accounts.md).
    login_window_s: int = Field(default=15 * 60, ge=1)
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_client: int = Field(default=20, ge=1)
    default_region: str = "CN"  # phones without a country code are read as numbers of this region
    identity_rules: Path | None = None  # YAML/JSON overriding identity types and merge rules
    tag_history_days: int = Field(default=90, ge=1)  # run snapshots kept (docs/tags.md, Storage)
    # Rows one export or one lookalike list may hold, per role (JSON: {"sales": 5000}); unnamed roles: no cap.
    export_max_rows: dict[str, int] = {
        "admin": 1_000_000,
        "analyst": 1_000_000,
        "marketer": 1_000_000,
        "sales": 10_000,
    }
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # JSON and form bodies (413 above)
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)  # multipart file uploads
    # Origins besides the server's own whose cookie-authenticated writes are accepted (a console served
    # through another host name, say): "https://crm.example.com".
    trusted_origins: list[str] = []

    _secret_generated: bool = PrivateAttr(default=False)

    @model_validator(mode="after")
    def _resolve_secret(self) -> Settings:
        value = self.secret_key.get_secret_value()
        if value.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "TAGORA_SECRET_KEY is a well-known placeholder; anyone could sign sessions with it. "
                'Set a random one, e.g. python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        if not value:
            if self.env != "development":
                raise ValueError(f"TAGORA_SECRET_KEY must be set when TAGORA_ENV={self.env}")
            self.secret_key = SecretStr(home_secret(self.home))
            self._secret_generated = True
        return self

    @property
    def secret_configured(self) -> bool:
        """Whether the secret came from the configuration rather than the development home file."""
        return not self._secret_generated

    def exposed_bind_problem(self, host: str) -> str | None:
        """Why serving on ``host`` would be unsafe, or None. Off this machine, the secret must be configured
        (a generated one is fine only where nobody else can reach the server) and long enough."""
        if is_loopback(host):
            return None
        if not self.secret_configured:
            return (
                f"refusing to listen on {host}: other machines could reach the server, so set "
                f"TAGORA_SECRET_KEY to at least {MIN_EXPOSED_SECRET_BYTES} random bytes "
                '(python -c "import secrets; print(secrets.token_urlsafe(32))"), or listen on 127.0.0.1'
            )
        secret = self.secret_key.get_secret_value()
        if len(secret.encode()) < MIN_EXPOSED_SECRET_BYTES:
            return (
                f"refusing to listen on {host}: TAGORA_SECRET_KEY is shorter than "
                f"{MIN_EXPOSED_SECRET_BYTES} bytes; set a longer random secret or listen on 127.0.0.1"
            )
        if len(set(secret)) < MIN_DISTINCT_SECRET_CHARS:  # randomness cannot be proven, but "aaaa..." is not
            return (
                f"refusing to listen on {host}: TAGORA_SECRET_KEY does not look random (fewer than "
                f"{MIN_DISTINCT_SECRET_CHARS} different characters); set a random one or listen on 127.0.0.1"
            )
        return None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'tagora.db').resolve()}"

    @property
    def resolved_warehouse_url(self) -> str:
        return self.warehouse_url or f"duckdb://{(self.home / 'warehouse.duckdb').resolve()}"


def home_secret(home: Path) -> str:
    """The development secret kept in ``home``: made once (readable by its owner only), then reused, so
    sessions survive a restart and every process on the home signs alike."""
    path = home / SECRET_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        draft = home / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)  # atomic and never overwrites: of two processes starting at once, one wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    secret = path.read_text().strip()
    if len(secret.encode()) < MIN_EXPOSED_SECRET_BYTES:
        raise ValueError(f"{path} is damaged (shorter than {MIN_EXPOSED_SECRET_BYTES} bytes); delete it")
    return secret


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (every address it names is a loopback one)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
