"""The blind index of personal identities: phones, e-mails and ID numbers are found by exact value only.

Each personal identity carries ``digest`` = HMAC(key, type, normalised value) with the key derived from
the secret key (privacy.blind_index). ``link_identities`` fills it in when its session knows the settings
(``session.info["settings"]``, set where the stores are opened); rows written without them, rows from
before the index existed and rows indexed under an older key are (re)indexed before a search uses them.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from tagora.core.clock import utcnow
from tagora.core.db import upsert
from tagora.identity.models import Identity, IdentityIndexKey
from tagora.identity.rules import PERSONAL_TYPES, normalize
from tagora.privacy.facade import blind_digest, index_key, key_fingerprint
from tagora.settings import Settings

SESSION_SETTINGS = "settings"  # the ``Session.info`` entry holding the stores' Settings
BATCH = 5000
_PHONE_LIKE = re.compile(r"[+(]?[0-9][0-9 ().-]{2,30}")
_ID_NUMBER_LIKE = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}")


def key_of(settings: Settings) -> bytes:
    return index_key(settings.secret_key.get_secret_value())


def session_key(session: Session) -> bytes | None:
    settings = session.info.get(SESSION_SETTINGS)
    return key_of(settings) if isinstance(settings, Settings) else None


def digest_for(key: bytes | None, kind: str, value: str) -> str | None:
    """The digest a stored identity gets: only personal types have one."""
    return blind_digest(key, kind, value) if key is not None and kind in PERSONAL_TYPES else None


def index_personal_identities(session: Session, key: bytes, everything: bool = False) -> int:
    """Give personal identities that lack one their digest under ``key`` (all of them when ``everything``
    or when the stored digests were made with another key); returns how many were written."""
    fingerprint = key_fingerprint(key)
    state = session.get(IdentityIndexKey, 1)
    everything = everything or state is None or state.fingerprint != fingerprint
    pending: ColumnElement[bool] = Identity.type.in_(PERSONAL_TYPES)
    if not everything:
        pending = and_(pending, Identity.digest.is_(None))
    written, last = 0, 0
    while True:
        rows = session.execute(
            select(Identity.id, Identity.type, Identity.value)
            .where(pending, Identity.id > last)
            .order_by(Identity.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        changes = [{"id": i, "digest": blind_digest(key, kind, value)} for i, kind, value in rows]
        session.execute(update(Identity), changes)  # by primary key, one executemany
        written += len(rows)
        last = rows[-1][0]
    if everything:  # an upsert: two first searches at once must not both insert the row
        state_row = {"id": 1, "fingerprint": fingerprint, "indexed_at": utcnow()}
        upsert(session, IdentityIndexKey.__table__, [state_row], ["id"], ["fingerprint", "indexed_at"])
    return written


def lookups(q: str, region: str) -> list[tuple[str, str]]:
    """The (type, normalised value) pairs a search text could be: an e-mail, a phone, an ID number."""
    q = q.strip()
    found: list[tuple[str, str]] = []
    if "@" in q:
        found.append(("email", normalize("email", q) or ""))
    elif _PHONE_LIKE.fullmatch(q):
        found.append(("phone", normalize("phone", q, region) or ""))
    if _ID_NUMBER_LIKE.fullmatch(q):
        found.append(("id_number", normalize("id_number", q) or ""))
    return [(kind, value) for kind, value in found if value]


def people_known_by(session: Session, key: bytes, q: str, region: str) -> set[int]:
    """The people holding ``q`` (normalised) as a phone, e-mail or ID number: exact matches only, never
    parts of a value, so a search tells nobody more than the whole value they already typed."""
    pairs = lookups(q, region)
    if not pairs:
        return set()
    index_personal_identities(session, key)
    matches = [and_(Identity.type == k, Identity.digest == blind_digest(key, k, v)) for k, v in pairs]
    return set(session.scalars(select(Identity.uid).where(or_(*matches)).distinct()))
