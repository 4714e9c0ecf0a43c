"""Segment expressions (the JSON form): nested all / any / not over tag and attribute conditions.

```json
{"all": [
  {"tag": "member_tier", "op": "in", "value": ["gold", "diamond"]},
  {"tag": "orders_90d", "op": ">=", "value": 2},
  {"not": {"tag": "churn_risk", "op": "=", "value": "high"}},
  {"tag": "interests", "op": "contains", "value": "鞋靴", "min_weight": 0.3},
  {"attribute": "province", "op": "=", "value": "浙江省"},
  {"segment": "vip_2026"}
]}
```

A comparison only matches customers that have a value (as SQL would); ``not`` takes the complement in
the whole customer base, so ``not {"tag": "x", "op": "=", "value": "a"}`` includes those without ``x``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError

from tagora.core.errors import AppError

Op = Literal[
    "=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_set", "is_not_set", "contains"
]  # fmt: skip
Scalar = str | float | bool
MAX_NODES = 200
KINDS = {"All", "Any", "Not", "Segment", "Condition"}  # union tags pydantic puts in error locations
MAX_DEPTH = 16
MAX_RAW_DEPTH = 2 * MAX_DEPTH + 2  # JSON containers: an "all" level is an object and a list


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Node):
    tag: str | None = Field(default=None, max_length=128)
    attribute: str | None = Field(default=None, max_length=64)
    op: Op
    value: Scalar | list[Scalar] | None = None
    min_weight: float | None = None  # for "contains" on weighted multi-value tags

    @property
    def name(self) -> str:
        return self.tag if self.tag is not None else self.attribute or ""


class InSegment(_Node):
    segment: str = Field(max_length=128)


class All(_Node):
    all: list[Expr] = Field(min_length=1)


class AnyOf(_Node):
    any: list[Expr] = Field(min_length=1)


class Not(_Node):
    not_: Expr = Field(alias="not")


def _kind(raw: Any) -> str:
    """Which node a JSON object is, from its keys, so an error is reported against the right node."""
    if isinstance(raw, dict):
        for key in ("all", "any", "not", "segment"):
            if key in raw:
                return key.capitalize()
        return "Condition"
    kinds: dict[type, str] = {All: "All", AnyOf: "Any", Not: "Not", InSegment: "Segment"}
    return kinds.get(type(raw), "Condition")


Expr = Annotated[
    Union[  # noqa: UP007
        Annotated[All, Tag("All")],
        Annotated[AnyOf, Tag("Any")],
        Annotated[Not, Tag("Not")],
        Annotated[InSegment, Tag("Segment")],
        Annotated[Condition, Tag("Condition")],
    ],
    Discriminator(_kind),
]
_adapter: TypeAdapter[Expr] = TypeAdapter(Expr)


class SegmentError(AppError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__("invalid_segment", f"{path or 'expression'}: {message}", 422, {"path": path})


def read_expression(text: str) -> tuple[Any, str | None]:
    """What was typed (a console form, a CLI argument): (JSON form, None), or (None, text) for the
    rule-language form. JSON nested past what a segment may hold is refused before it is decoded."""
    if not text.lstrip().startswith(("{", "[")):
        return None, text
    if _text_depth(text) > MAX_RAW_DEPTH:
        raise SegmentError("", f"too deeply nested: at most {MAX_DEPTH} levels")
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        raise SegmentError("", f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc


def _text_depth(text: str) -> int:
    """The deepest nesting of JSON brackets in ``text``, outside strings (a scan, no recursion)."""
    depth = deepest = 0
    inside = escaped = False
    for char in text:
        if inside:
            escaped, inside = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            inside = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _raw_depth(raw: Any) -> int:
    """The nesting of lists and objects in decoded JSON, walked without recursion."""
    deepest, stack = 0, [(raw, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            if depth <= MAX_RAW_DEPTH:
                stack.extend((child, depth + 1) for child in children)
    return deepest


def parse(raw: Any) -> Expr:
    """Validate the JSON form; an error names the path of the offending node (``all.2.op``)."""
    if _raw_depth(raw) > MAX_RAW_DEPTH:
        raise SegmentError("", f"too deeply nested: at most {MAX_DEPTH} levels")
    try:
        expr = _adapter.validate_python(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"] if p not in KINDS)
        raise SegmentError(path, error["msg"]) from None
    nodes, depth = _size(expr)
    if nodes > MAX_NODES or depth > MAX_DEPTH:
        raise SegmentError("", f"too large: at most {MAX_NODES} conditions and {MAX_DEPTH} levels")
    return expr


def _size(expr: Expr, depth: int = 1) -> tuple[int, int]:
    children = expr.all if isinstance(expr, All) else expr.any if isinstance(expr, AnyOf) else []
    if isinstance(expr, Not):
        children = [expr.not_]
    sizes = [_size(c, depth + 1) for c in children]
    return 1 + sum(n for n, _ in sizes), max([depth, *(d for _, d in sizes)])


def conditions(expr: Expr, path: str = "") -> list[tuple[str, Condition | InSegment]]:
    """Every leaf with its path, for validation against the index."""
    if isinstance(expr, All | AnyOf):
        key = "all" if isinstance(expr, All) else "any"
        children = expr.all if isinstance(expr, All) else expr.any
        return [leaf for i, c in enumerate(children) for leaf in conditions(c, f"{path}{key}.{i}.")]
    if isinstance(expr, Not):
        return conditions(expr.not_, f"{path}not.")
    return [(path.rstrip("."), expr)]


def dump(expr: Expr) -> dict[str, Any]:
    return _adapter.dump_python(expr, by_alias=True, exclude_none=True)
