"""Evaluate segment expressions on the bitmap index: a segment is a bitmap of uids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyroaring import BitMap

from tagora.audiences.bitmaps import NumericIndex, ValueIndex, WeightedIndex, union
from tagora.audiences.expr import All, AnyOf, Condition, Expr, InSegment, Not, SegmentError, conditions

Index = ValueIndex | NumericIndex | WeightedIndex
SegmentLookup = Callable[[str], BitMap]


@dataclass
class TagIndex:
    """Every tag and profile attribute of the customer base as bitmaps; ``universe`` is every live uid."""

    universe: BitMap
    tags: dict[str, Index] = field(default_factory=dict)
    attributes: dict[str, Index] = field(default_factory=dict)
    version: str = ""  # what it was built from (see ``logic.index_version``); empty: built from nothing

    def find(self, condition: Condition) -> Index | None:
        if condition.tag is not None:
            return self.tags.get(condition.tag)
        return self.attributes.get(condition.attribute or "")

    def nbytes(self) -> int:
        indexes = [*self.tags.values(), *self.attributes.values()]
        return len(self.universe.serialize()) + sum(i.nbytes() for i in indexes)


def _at(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _numbers(path: str, value: object, count: int | None = None) -> list[float]:
    values = value if isinstance(value, list) else [value]
    if count is not None and len(values) != count:
        raise SegmentError(_at(path, "value"), f"needs {count} values")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise SegmentError(_at(path, "value"), "needs a number")
    return [float(v) for v in values]  # type: ignore[arg-type]


def _labels(path: str, value: object, many: bool) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not many and isinstance(value, list):
        raise SegmentError(_at(path, "value"), "needs one value, not a list")
    if not values or any(v is None or isinstance(v, list) for v in values):
        raise SegmentError(_at(path, "value"), "needs a value")
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]


def check(expr: Expr, index: TagIndex, segments: Callable[[str], bool] | None = None) -> None:
    """Every condition names an indexed tag or attribute with an operator its type supports."""
    for path, leaf in conditions(expr):
        if isinstance(leaf, InSegment):
            if segments is not None and not segments(leaf.segment):
                raise SegmentError(_at(path, "segment"), f"unknown segment {leaf.segment!r}")
            continue
        if (leaf.tag is None) == (leaf.attribute is None):
            raise SegmentError(path, "name exactly one of tag or attribute")
        target = index.find(leaf)
        kind = "tag" if leaf.tag is not None else "attribute"
        if target is None:
            raise SegmentError(_at(path, kind), f"unknown {kind} {leaf.name!r}")
        _leaf(path, leaf, target, index.universe)  # checks operator and value types


def _leaf(path: str, c: Condition, target: Index, universe: BitMap) -> BitMap:
    if c.op == "is_set":
        return target.present.copy()
    if c.op == "is_not_set":
        return universe - target.present
    if isinstance(target, NumericIndex):
        if c.op == "between":
            low, high = _numbers(path, c.value, 2)
            return target.between(low, high)
        if c.op in ("in", "not_in"):
            hits = union([target.compare("=", v) for v in _numbers(path, c.value)])
            return hits if c.op == "in" else target.present - hits
        if c.op == "contains":
            raise SegmentError(_at(path, "op"), "contains is for multi-value tags")
        return target.compare(c.op, _numbers(path, c.value, 1)[0])
    if isinstance(target, WeightedIndex):
        if c.op != "contains":
            raise SegmentError(_at(path, "op"), "a multi-value tag takes contains, is_set or is_not_set")
        return target.contains(_labels(path, c.value, many=False)[0], c.min_weight)
    if c.op in ("=", "!="):
        hits = target.equals(_labels(path, c.value, many=False)[0])
        return hits if c.op == "=" else target.present - hits
    if c.op in ("in", "not_in"):
        hits = target.any_of(_labels(path, c.value, many=True))
        return hits if c.op == "in" else target.present - hits
    raise SegmentError(_at(path, "op"), f"{c.op} needs a numeric tag")


def evaluate(expr: Expr, index: TagIndex, segments: SegmentLookup | None = None) -> BitMap:
    """The members of ``expr``: a new bitmap the caller may change."""
    result = _evaluate(expr, index, segments, "")
    return result.copy() if isinstance(expr, Condition) else result  # a leaf may be the index's own


def _evaluate(expr: Expr, index: TagIndex, segments: SegmentLookup | None, path: str) -> BitMap:
    """May return a bitmap owned by the index (never modify the result of a leaf)."""
    if isinstance(expr, All):
        parts = sorted(
            (_evaluate(c, index, segments, f"{path}all.{i}.") for i, c in enumerate(expr.all)), key=len
        )
        return parts[0].intersection(*parts[1:]) if len(parts) > 1 else parts[0]
    if isinstance(expr, AnyOf):
        return union([_evaluate(c, index, segments, f"{path}any.{i}.") for i, c in enumerate(expr.any)])
    if isinstance(expr, Not):
        return index.universe - _evaluate(expr.not_, index, segments, f"{path}not.")
    if isinstance(expr, InSegment):
        if segments is None:
            raise SegmentError(f"{path}segment", "segments cannot be referenced here")
        return segments(expr.segment) & index.universe
    target = index.find(expr)
    if target is None:
        raise SegmentError(path.rstrip("."), f"unknown tag or attribute {expr.name!r}")
    return _leaf(path.rstrip("."), expr, target, index.universe)
