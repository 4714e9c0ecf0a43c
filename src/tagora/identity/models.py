"""The identity graph: every (type, value) a system knows a person by, and the merges it caused.

A profile *record* is a ``customers`` row; it keeps its own uid for ever. Records that turn out to be
one person are merged into a surviving record (``customers.merged_into``). Every fact remembers the
record it came from (``origin_uid``) and points at the person it belongs to now (``uid``), so a merge
and an unmerge are both "set uid from origin_uid" and an unmerge restores each record's own history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tagora.core.clock import utcnow
from tagora.core.db import Base, UTCDateTime


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("origin_uid", "type", "value", name="uq_identities_origin_type_value"),
        Index("ix_identities_type_value", "type", "value"),
        Index("ix_identities_type_digest", "type", "digest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin_uid: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"))
    uid: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(256))
    # A personal value's keyed blind index (privacy.blind_index): searches look phones, e-mails and ID
    # numbers up by it, by exact value only. None for other types, and until a session that knows the
    # key indexes the row (``index_personal_identities``).
    digest: Mapped[str | None] = mapped_column(String(64))
    source_system: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityIndexKey(Base):
    """The key the identities' digests were made with (its fingerprint): a new secret means re-indexing."""

    __tablename__ = "identity_index_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityMerge(Base):
    """Record ``merged_uid`` belongs to the person of ``survivor_uid``, because of one shared identity."""

    __tablename__ = "identity_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survivor_uid: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    merged_uid: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(32))  # the identity type that linked them
    evidence: Mapped[str] = mapped_column(String(256))  # its value
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undo_reason: Mapped[str | None] = mapped_column(String(32))  # unmerged | superseded | erased
    facts_moved: Mapped[bool] = mapped_column(default=False)  # the warehouse follows after the commit


class IdentitySeparation(Base):
    """Two records staff said are different people (an unmerge): resolution never joins them again."""

    __tablename__ = "identity_separations"
    __table_args__ = (UniqueConstraint("uid_a", "uid_b", name="uq_identity_separations_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid_a: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    uid_b: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityConflict(Base):
    """A shared identity that did not merge two records, and why (for a person to review)."""

    __tablename__ = "identity_conflicts"
    __table_args__ = (UniqueConstraint("type", "value", "uid_a", "uid_b", name="uq_identity_conflicts_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(256))
    uid_a: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    uid_b: Mapped[int] = mapped_column(ForeignKey("customers.uid", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(64))  # e.g. "user_id:shop" (both hold one), too_common
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
