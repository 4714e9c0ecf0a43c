"""What other areas and the console may call in ingest: the tracking API's write keys."""

from __future__ import annotations

from tagora.core.auth import Permission, Principal, ensure
from tagora.core.stores import Stores
from tagora.ingest.tracking import logic as tracking
from tagora.ingest.tracking.schemas import WriteKeyPublic

# Write keys are credentials, so whoever manages users' accounts and tokens manages them too.
MANAGE_KEYS = Permission.USERS_MANAGE


def create_write_key(stores: Stores, actor: Principal, name: str) -> str:
    """A new write key, shown this once (only its hash is stored)."""
    ensure(actor, MANAGE_KEYS)
    return tracking.create_write_key(stores.sessions, actor, name)


def list_write_keys(stores: Stores, actor: Principal) -> list[WriteKeyPublic]:
    ensure(actor, MANAGE_KEYS)
    return tracking.list_write_keys(stores.sessions)


def revoke_write_key(stores: Stores, actor: Principal, name: str) -> None:
    ensure(actor, MANAGE_KEYS)
    tracking.revoke_write_key(stores.sessions, actor, name)
