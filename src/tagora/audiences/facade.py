"""What other areas may call: rebuild the index after tags recompute, members of a segment, counts."""

from tagora.audiences.expr import read_expression
from tagora.audiences.logic import (
    count,
    members,
    rebuild_index,
    refresh_segments,
    reindex,
    segments_of,
    segments_using,
)

__all__ = [
    "count",
    "members",
    "read_expression",
    "rebuild_index",
    "refresh_segments",
    "reindex",
    "segments_of",
    "segments_using",
]
