"""Compile a checked rule AST to an Ibis boolean expression (batch) or a Python predicate (real time).

Both give the same answer on the same values: a condition on a missing value is false (so its
negation is true), exactly as ``fill_null(False)`` on each condition does in the warehouse.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from functools import reduce
from typing import Any

import ibis
import ibis.expr.types as ir

from tagora.tags.rules import All, Any_, Between, Compare, In, IsSet, Node, Not, Truthy

Predicate = Callable[[Mapping[str, Any]], bool]
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def to_ibis(node: Node, table: ir.Table) -> ir.BooleanValue:
    """A boolean column over ``table``, whose columns are named after the fields and tags."""
    if isinstance(node, All):
        return reduce(operator.and_, (to_ibis(i, table) for i in node.items))
    if isinstance(node, Any_):
        return reduce(operator.or_, (to_ibis(i, table) for i in node.items))
    if isinstance(node, Not):
        return ~to_ibis(node.item, table)
    column = table[node.ref.name]
    if isinstance(node, IsSet):
        return column.isnull() if node.negated else column.notnull()
    if isinstance(node, Compare):
        condition = _OPS[node.op](column, ibis.literal(node.value))
    elif isinstance(node, In):
        condition = column.isin(list(node.values))
        if node.negated:
            condition = ~condition
    elif isinstance(node, Between):
        condition = column.between(node.low, node.high)
    elif isinstance(node, Truthy):
        condition = column == ibis.literal(True)
    return condition.fill_null(False)


def to_predicate(node: Node) -> Predicate:
    """A Python function of a mapping (field -> value, missing or None = not set) returning bool."""
    if isinstance(node, All):
        parts = [to_predicate(i) for i in node.items]
        return lambda row: all(p(row) for p in parts)
    if isinstance(node, Any_):
        parts = [to_predicate(i) for i in node.items]
        return lambda row: any(p(row) for p in parts)
    if isinstance(node, Not):
        inner = to_predicate(node.item)
        return lambda row: not inner(row)
    name = node.ref.name
    if isinstance(node, IsSet):
        negated = node.negated
        return lambda row: (row.get(name) is None) == negated
    test = _leaf_test(node)

    def predicate(row: Mapping[str, Any]) -> bool:
        value = row.get(name)
        return value is not None and test(value)

    return predicate


def _leaf_test(node: Compare | In | Between | Truthy) -> Callable[[Any], bool]:
    if isinstance(node, Compare):
        op, expected = _OPS[node.op], node.value
        return lambda value: bool(op(value, expected))
    if isinstance(node, In):
        choices, negated = frozenset(node.values), node.negated
        return lambda value: (value in choices) != negated
    if isinstance(node, Between):
        low, high = node.low, node.high
        return lambda value: bool(low <= value <= high)
    return lambda value: value is True
