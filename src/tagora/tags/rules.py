"""The rule language of rule tags: a small closed grammar parsed with Lark into a typed AST.

Example: ``member_tier in ("gold", "diamond") and orders_90d >= 2 and not tag("churn_risk") = "high"``.

Nothing is ever evaluated as Python: the text becomes an AST of the node types below, is checked
against the catalogue (errors point at line and column), and is compiled by ``rule_compile`` to an
Ibis expression (batch) or a Python predicate (real time). Size and nesting depth are bounded.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

MAX_LENGTH = 4000
MAX_DEPTH = 24
MAX_CONDITIONS = 100

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*          -> any_of
?and_expr: not_expr (_AND not_expr)*        -> all_of
?not_expr: _NOT not_expr                    -> negate
         | atom
?atom: condition
     | "(" or_expr ")"
condition: ref COMP value                   -> compare
         | ref _NOT _IN values              -> not_in
         | ref _IN values                   -> is_in
         | ref _BETWEEN value _AND value    -> between
         | ref _IS _NOT _SET                -> is_not_set
         | ref _IS _SET                     -> is_set
         | ref                              -> truthy
values: "(" value ("," value)* ")"
ref: NAME                                   -> field
   | _TAG "(" STRING ")"                    -> tag
value: STRING                               -> string
     | SIGNED_NUMBER                        -> number
     | _TRUE                                -> true
     | _FALSE                               -> false

_OR: "or"i
_AND: "and"i
_NOT: "not"i
_IN: "in"i
_IS: "is"i
_SET: "set"i
_BETWEEN: "between"i
_TAG: "tag"i
_TRUE: "true"i
_FALSE: "false"i
COMP: "=" | "!=" | "<=" | ">=" | "<" | ">"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(?:[^"\\\n]|\\.)*"/ | /'(?:[^'\\\n]|\\.)*'/
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""


class ValueType(StrEnum):
    BOOLEAN = "boolean"
    ENUM = "enum"
    NUMBER = "number"
    STRING = "string"


@dataclass(frozen=True)
class Field:
    """Something a rule may name: a profile attribute or a tag (``values`` lists an enum's choices)."""

    name: str
    type: ValueType
    values: frozenset[str] = frozenset()
    is_tag: bool = True


Catalogue = Mapping[str, Field]
Scalar = str | float | bool


@dataclass(frozen=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True)
class Ref:
    name: str
    pos: Pos
    via_tag: bool = False


@dataclass(frozen=True)
class Compare:
    ref: Ref
    op: str
    value: Scalar


@dataclass(frozen=True)
class In:
    ref: Ref
    values: tuple[Scalar, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between:
    ref: Ref
    low: Scalar
    high: Scalar


@dataclass(frozen=True)
class IsSet:
    ref: Ref
    negated: bool = False


@dataclass(frozen=True)
class Truthy:
    ref: Ref


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    items: tuple[Node, ...]


Node = Compare | In | Between | IsSet | Truthy | Not | All | Any_
Condition = Compare | In | Between | IsSet | Truthy


class RuleError(ValueError):
    """A rule that does not parse or check; ``line``/``column`` point at the problem (1-based)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.line = line
        self.column = column


def _pos(token: Token) -> Pos:
    return Pos(token.line or 1, token.column or 1)


def _unquote(token: Token) -> str:
    body = str(token)[1:-1]
    return body.replace("\\" + str(token)[0], str(token)[0]).replace("\\\\", "\\")


@v_args(inline=True)
class _ToAst(Transformer[Token, Node]):
    def field(self, name: Token) -> Ref:
        return Ref(str(name), _pos(name))

    def tag(self, code: Token) -> Ref:
        return Ref(_unquote(code), _pos(code), via_tag=True)

    def string(self, token: Token) -> str:
        return _unquote(token)

    def number(self, token: Token) -> float:
        return float(token)

    def true(self) -> bool:
        return True

    def false(self) -> bool:
        return False

    def values(self, *items: Scalar) -> tuple[Scalar, ...]:
        return tuple(items)

    def compare(self, ref: Ref, op: Token, value: Scalar) -> Compare:
        return Compare(ref, str(op), value)

    def is_in(self, ref: Ref, values: tuple[Scalar, ...]) -> In:
        return In(ref, values)

    def not_in(self, ref: Ref, values: tuple[Scalar, ...]) -> In:
        return In(ref, values, negated=True)

    def between(self, ref: Ref, low: Scalar, high: Scalar) -> Between:
        return Between(ref, low, high)

    def is_set(self, ref: Ref) -> IsSet:
        return IsSet(ref)

    def is_not_set(self, ref: Ref) -> IsSet:
        return IsSet(ref, negated=True)

    def truthy(self, ref: Ref) -> Truthy:
        return Truthy(ref)

    def negate(self, item: Node) -> Not:
        return Not(item)

    def all_of(self, *items: Node) -> Node:
        return items[0] if len(items) == 1 else All(tuple(items))

    def any_of(self, *items: Node) -> Node:
        return items[0] if len(items) == 1 else Any_(tuple(items))


_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def parse(text: str) -> Node:
    """Text -> AST; a syntax error names what was expected where."""
    if len(text) > MAX_LENGTH:
        raise RuleError(f"a rule may have at most {MAX_LENGTH} characters", 1, MAX_LENGTH)
    if not text.strip():
        raise RuleError("the rule is empty")
    _check_nesting(text)
    try:
        tree = _PARSER.parse(text)
        node = _ToAst().transform(tree)
    except UnexpectedEOF as exc:
        line, column = _end(text)
        raise RuleError("the rule ends too early", line, column) from exc
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            line, column = _end(text)
            raise RuleError("the rule ends too early", line, column) from exc
        raise RuleError(f"unexpected {exc.token!s}", exc.line, exc.column) from exc
    except UnexpectedCharacters as exc:
        raise RuleError(f"unexpected character {exc.char!r}", exc.line, exc.column) from exc
    except (UnexpectedInput, VisitError) as exc:  # pragma: no cover - other parser failures
        raise RuleError(f"cannot parse the rule: {exc}") from exc
    _check_size(node)
    return node


_NOT_WORD = re.compile(r"(?<![A-Za-z0-9_])not(?![A-Za-z0-9_])", re.IGNORECASE)
_JOIN_WORD = re.compile(r"(?<![A-Za-z0-9_])(?:and|or)(?![A-Za-z0-9_])", re.IGNORECASE)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')


def _check_nesting(text: str) -> None:
    """Refuse deep nesting before parsing: the parser and the tree walk recurse once per level."""
    depth, quote, escaped, line, column = 0, "", False, 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        if quote:
            escaped, quote = (not escaped and char == "\\"), ("" if char == quote and not escaped else quote)
            continue
        if char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise RuleError(f"the rule nests deeper than {MAX_DEPTH} levels", line, column)
        elif char == ")":
            depth -= 1
    # Strings blanked out (same length, so positions hold) before counting words.
    bare = _STRING.sub(lambda m: " " * len(m.group()), text)
    nots = list(_NOT_WORD.finditer(bare))
    if len(nots) > MAX_DEPTH:
        raise RuleError(
            f"the rule nests deeper than {MAX_DEPTH} levels of 'not'",
            *_line_column(text, nots[MAX_DEPTH].start()),
        )
    joins = list(_JOIN_WORD.finditer(bare))
    # Each condition adds at most two of these ("and" of "between" included): a cheap bound before parsing.
    if len(joins) > 3 * MAX_CONDITIONS:
        at = _line_column(text, joins[3 * MAX_CONDITIONS].start())
        raise RuleError(f"a rule may have at most {MAX_CONDITIONS} conditions", *at)


def _line_column(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _end(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _check_size(node: Node) -> None:
    count = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RuleError(f"the rule nests deeper than {MAX_DEPTH} levels")
        if isinstance(current, All | Any_):
            stack.extend((item, depth + 1) for item in current.items)
        elif isinstance(current, Not):
            stack.append((current.item, depth + 1))
        else:
            count += 1
            if count > MAX_CONDITIONS:
                raise RuleError(f"a rule may have at most {MAX_CONDITIONS} conditions", *_at(current.ref))


def _at(ref: Ref) -> tuple[int, int]:
    return ref.pos.line, ref.pos.column


def conditions(node: Node) -> list[Condition]:
    if isinstance(node, All | Any_):
        return [c for item in node.items for c in conditions(item)]
    if isinstance(node, Not):
        return conditions(node.item)
    return [node]


def check(node: Node, catalogue: Catalogue) -> Node:
    """Type-check every condition against the catalogue; returns the node unchanged."""
    for condition in conditions(node):
        _check_condition(condition, catalogue)
    return node


def compile_rule(text: str, catalogue: Catalogue) -> Node:
    return check(parse(text), catalogue)


def references(node: Node) -> set[str]:
    """The fields and tags a rule reads: the dependencies of a rule tag."""
    return {c.ref.name for c in conditions(node)}


def _field(ref: Ref, catalogue: Catalogue) -> Field:
    field = catalogue.get(ref.name)
    if field is None or (ref.via_tag and not field.is_tag):
        kind = "tag" if ref.via_tag else "field or tag"
        close = difflib.get_close_matches(ref.name, list(catalogue), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise RuleError(f"unknown {kind} {ref.name!r}{hint}", *_at(ref))
    return field


def _check_value(field: Field, ref: Ref, value: Any) -> None:
    expected = {
        ValueType.BOOLEAN: bool,
        ValueType.NUMBER: float,
        ValueType.ENUM: str,
        ValueType.STRING: str,
    }[field.type]
    if not isinstance(value, expected):
        raise RuleError(f"{ref.name!r} is {field.type.value}; {value!r} is not", *_at(ref))
    if field.type is ValueType.ENUM and field.values and value not in field.values:
        choices = ", ".join(sorted(field.values))
        raise RuleError(f"{value!r} is not a value of {ref.name!r} (one of: {choices})", *_at(ref))


def _check_condition(condition: Condition, catalogue: Catalogue) -> None:
    ref = condition.ref
    field = _field(ref, catalogue)
    if isinstance(condition, Compare):
        if condition.op not in ("=", "!=") and field.type is not ValueType.NUMBER:
            raise RuleError(f"{condition.op!r} needs a number; {ref.name!r} is {field.type.value}", *_at(ref))
        _check_value(field, ref, condition.value)
    elif isinstance(condition, In):
        if field.type is ValueType.BOOLEAN:
            raise RuleError(f"'in' does not apply to boolean {ref.name!r}", *_at(ref))
        for value in condition.values:
            _check_value(field, ref, value)
    elif isinstance(condition, Between):
        if field.type is not ValueType.NUMBER:
            raise RuleError(f"'between' needs a number; {ref.name!r} is {field.type.value}", *_at(ref))
        _check_value(field, ref, condition.low)
        _check_value(field, ref, condition.high)
        if float(condition.low) > float(condition.high):
            raise RuleError(f"between {condition.low} and {condition.high}: the low end is higher", *_at(ref))
    elif isinstance(condition, Truthy) and field.type is not ValueType.BOOLEAN:
        raise RuleError(f"{ref.name!r} is {field.type.value}: compare it with a value", *_at(ref))


def to_json(node: Node) -> Any:
    """The AST as plain JSON (``all``/``any``/``not`` over ``{"field", "op", "value"}``), for other areas
    that take the rule language as a way to write their own expressions (e.g. segments)."""
    if isinstance(node, All | Any_):
        return {"all" if isinstance(node, All) else "any": [to_json(item) for item in node.items]}
    if isinstance(node, Not):
        return {"not": to_json(node.item)}
    name = node.ref.name
    if isinstance(node, Compare):
        return {"field": name, "op": node.op, "value": node.value}
    if isinstance(node, In):
        return {"field": name, "op": "not_in" if node.negated else "in", "value": list(node.values)}
    if isinstance(node, Between):
        return {"field": name, "op": "between", "value": [node.low, node.high]}
    if isinstance(node, IsSet):
        return {"field": name, "op": "is_not_set" if node.negated else "is_set"}
    return {"field": name, "op": "=", "value": True}  # a bare boolean tag


def rule_json(text: str) -> Any:
    """Parse rule-language text (bounded in size and depth) into ``to_json``'s form; ``RuleError`` if not."""
    return to_json(parse(text))
