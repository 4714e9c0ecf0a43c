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
        _operand(path, leaf, target)


RANGES = ("<", "<=", ">", ">=", "between")
Operand = list[float] | list[str]


def _operand(path: str, c: Condition, target: Index) -> Operand:
    """The condition's values, checked against its operator and the kind of index (``SegmentError``)."""
    if c.op in ("is_set", "is_not_set"):
        return []
    if isinstance(target, NumericIndex):
        if c.op == "contains":
            raise SegmentError(_at(path, "op"), "contains is for multi-value tags")
        return _numbers(path, c.value, 2 if c.op == "between" else None if c.op in ("in", "not_in") else 1)
    if isinstance(target, WeightedIndex):
        if c.op != "contains":
            raise SegmentError(_at(path, "op"), "a multi-value tag takes contains, is_set or is_not_set")
        return _labels(path, c.value, many=False)
    if c.op in ("=", "!=", "in", "not_in"):
        return _labels(path, c.value, many=c.op in ("in", "not_in"))
    raise SegmentError(_at(path, "op"), f"{c.op} needs a numeric tag")


def _rows(op: str, values: Operand, target: NumericIndex) -> tuple[int, int]:
    """The value-order rows of a range condition on a numeric index."""
    numbers = [float(v) for v in values]
    return target.rows(op, (numbers[0], numbers[1]) if op == "between" else numbers[0])


def _leaf(path: str, c: Condition, target: Index, universe: BitMap) -> BitMap:
    """A condition's members; may be a bitmap of the index itself (never change it)."""
    values = _operand(path, c, target)
    if c.op == "is_set":
        return target.present
    if c.op == "is_not_set":
        return universe - target.present
    if isinstance(target, NumericIndex):
        if c.op in RANGES:
            return target.select(*_rows(c.op, values, target))
        if c.op in ("in", "not_in"):
            hits = union([target.compare("=", float(v)) for v in values])
            return hits if c.op == "in" else target.present - hits
        return target.compare(c.op, float(values[0]))
    if isinstance(target, WeightedIndex):
        return target.contains(str(values[0]), c.min_weight)
    hits = _hits(target, values)
    return hits if c.op in ("=", "in") else target.present - hits


def _hits(target: ValueIndex, values: Operand) -> BitMap:
    """Who has one of the values (one value: the index's own bitmap)."""
    return target.any_of([str(v) for v in values]) if len(values) > 1 else target.equals(str(values[0]))


def _narrow(members: BitMap, c: Condition, target: Index, universe: BitMap, path: str) -> BitMap:
    """``members`` that meet ``c``, without building all of c's members where that is cheaper (new)."""
    values = _operand(path, c, target)
    if c.op == "is_not_set":
        return members - target.present
    if isinstance(target, NumericIndex) and c.op in RANGES:
        return target.narrow(members, *_rows(c.op, values, target))
    if isinstance(target, WeightedIndex) and c.op == "contains" and c.min_weight is not None:
        weights = target.weights.get(str(values[0]))
        return BitMap() if weights is None else weights.narrow(members, *weights.rows(">=", c.min_weight))
    if isinstance(target, ValueIndex) and c.op in ("!=", "not_in", "in"):
        return _narrow_values(members, target, {str(v) for v in values}, c.op == "in", universe)
    return members & _leaf(path, c, target, universe)


def _narrow_values(
    members: BitMap, target: ValueIndex, chosen: set[str], keep: bool, universe: BitMap
) -> BitMap:
    """``members`` with one of the ``chosen`` values (``keep``) or with another value (a new bitmap).

    "One of these" is also "has a value, less the other values", whichever touches fewer bitmaps. Few
    members (under one in 16 of the base: Roaring's sparse containers) are checked against each value's
    bitmap, at a cost of what the members hold; many are checked against the union of the values.
    """
    picked = [b for v, b in target.bitmaps.items() if v in chosen]
    others = [b for v, b in target.bitmaps.items() if v not in chosen]
    if keep and len(picked) == 1:
        return members & picked[0]
    if not keep:
        picked, others = others, picked
    sparse = len(members) * 16 < len(universe)
    if sparse and len(picked) <= len(others) + 1:
        return union([members & b for b in picked])
    if sparse:
        out = members & target.present
        for b in others:
            out -= b
        return out
    if sum(map(len, picked)) <= len(target.present) // 2:
        return members & union(picked)
    out = members & target.present
    out -= union(others)
    return out


def _size(c: Condition, target: Index, universe: BitMap, path: str) -> int:
    """How many customers a condition selects, as far as that is known without evaluating it."""
    values = _operand(path, c, target)
    if c.op == "is_set":
        return len(target.present)
    if c.op == "is_not_set":
        return len(universe) - len(target.present)
    if isinstance(target, NumericIndex) and c.op in RANGES:
        low, high = _rows(c.op, values, target)
        return max(high - low, 0)
    if isinstance(target, WeightedIndex):
        weights = target.weights.get(str(values[0]))
        if weights is None or c.min_weight is None:
            return 0 if weights is None else len(weights.present)
        return len(weights.uids) - weights.rows_below(c.min_weight, False)
    if isinstance(target, ValueIndex):
        hits = sum(len(target.equals(str(v))) for v in values)
        return hits if c.op in ("=", "in") else len(target.present) - hits
    return len(universe)


def evaluate(expr: Expr, index: TagIndex, segments: SegmentLookup | None = None) -> BitMap:
    """The members of ``expr``: a new bitmap the caller may change."""
    result = _evaluate(expr, index, segments, "")
    return result.copy() if isinstance(expr, Condition) else result  # a leaf may be the index's own


def _estimate(expr: Expr, index: TagIndex, path: str) -> int:
    """An upper bound of the members, cheap to know; -1 for a condition in error (evaluated first, so
    the error is raised)."""
    if isinstance(expr, Condition):
        target = index.find(expr)
        try:
            return -1 if target is None else _size(expr, target, index.universe, path)
        except SegmentError:
            return -1
    if isinstance(expr, Not):
        return len(index.universe) - max(_estimate(expr.not_, index, f"{path}not."), 0)
    if isinstance(expr, All):
        return min(_estimate(c, index, f"{path}all.{i}.") for i, c in enumerate(expr.all))
    return len(index.universe)


def _parts(expr: All, index: TagIndex, path: str) -> list[tuple[str, Expr]]:
    """The parts of an AND with their paths, the smallest (as far as is known cheaply) first."""
    parts = [(f"{path}all.{i}.", c) for i, c in enumerate(expr.all)]
    return sorted(parts, key=lambda part: _estimate(part[1], index, part[0]))


def _all(expr: All, index: TagIndex, segments: SegmentLookup | None, path: str) -> BitMap:
    """The smallest part first; the others then narrow what is left."""
    (first_path, first), *rest = _parts(expr, index, path)
    return _narrowed(_evaluate(first, index, segments, first_path), rest, index, segments)


def _narrowed(
    members: BitMap, parts: list[tuple[str, Expr]], index: TagIndex, segments: SegmentLookup | None
) -> BitMap:
    """``members`` narrowed by each part in turn (a new bitmap, never the index's own, even when empty)."""
    for at, part in parts:
        if not members:
            return BitMap()
        members = _within(members, part, index, segments, at)
    return members if parts else members.copy()


def _within(
    members: BitMap, expr: Expr, index: TagIndex, segments: SegmentLookup | None, path: str
) -> BitMap:
    """``members`` that meet ``expr`` (a new bitmap; ``members`` is not changed).

    Each step costs about what is left of ``members``, not what the part selects: parts of an AND are
    applied smallest first, a NOT takes away what it matches among the members, an OR joins what each
    branch keeps, and a range narrows from its cumulative bitmaps.
    """
    if isinstance(expr, All):
        return _narrowed(members, _parts(expr, index, path), index, segments)
    if isinstance(expr, Not):
        return members - _within(members, expr.not_, index, segments, f"{path}not.")
    if isinstance(expr, AnyOf):
        return union(
            [_within(members, c, index, segments, f"{path}any.{i}.") for i, c in enumerate(expr.any)]
        )
    if isinstance(expr, Condition) and (target := index.find(expr)) is not None:
        return _narrow(members, expr, target, index.universe, path.rstrip("."))
    return members & _evaluate(expr, index, segments, path)


def _evaluate(expr: Expr, index: TagIndex, segments: SegmentLookup | None, path: str) -> BitMap:
    """May return a bitmap owned by the index (never modify the result of a leaf)."""
    if isinstance(expr, All):
        return _all(expr, index, segments, path)
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
