"""Identity response models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class IdentityPublic(BaseModel):
    type: str
    value: str
    source_system: str
    origin_uid: int | None = None  # the record that holds it


class RecordPublic(BaseModel):
    uid: int
    customer_key: str
    survivor: bool


class MergePublic(BaseModel):
    id: int
    survivor_uid: int
    merged_uid: int
    rule: str
    evidence: str
    actor: str
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None
    undo_reason: str | None


class ConflictPublic(BaseModel):
    id: int
    type: str
    value: str
    uid_a: int
    uid_b: int
    reason: str
    seen_at: datetime


class IdentityGraph(BaseModel):
    uid: int  # the person (its surviving record)
    records: list[RecordPublic]
    identities: list[IdentityPublic]
    merges: list[MergePublic]  # every merge and unmerge that touched these records, newest first
    conflicts: list[ConflictPublic]
    masked: bool


class MergeRequest(BaseModel):
    a: str
    b: str
    comment: str = ""


class UnmergeRequest(BaseModel):
    key: str | None = None
    merge_id: int | None = None
    comment: str = ""


class ResolvePublic(BaseModel):
    components: int
    merged: int
    separated: int
    conflicts: int
    merge_ids: list[int]
