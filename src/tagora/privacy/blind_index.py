"""A keyed blind index (HMAC-SHA256) of personal values, for exact lookups that need no plain text.

The key is derived from the settings' secret key with a fixed label, so no second secret has to be
kept; rotating the secret changes every digest, which ``tagora customers reindex`` recomputes (a search
notices the new key by its fingerprint and re-indexes too). Pure functions.
"""

from __future__ import annotations

import hashlib
import hmac

LABEL = b"tagora/blind-index/v1"


def index_key(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), LABEL, hashlib.sha256).digest()


def blind_digest(key: bytes, kind: str, value: str) -> str:
    """The digest of an already normalised ``value`` of one identity type (types never collide)."""
    return hmac.new(key, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def key_fingerprint(key: bytes) -> str:
    """Names the key without revealing it, so a store can tell which key its digests were made with."""
    return hmac.new(key, b"fingerprint", hashlib.sha256).hexdigest()[:32]
