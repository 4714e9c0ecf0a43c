"""The rule language: parsing, checking with positions, and identical batch and real-time answers."""

from __future__ import annotations

from typing import Any

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagora.tags.rule_compile import to_ibis, to_predicate
from tagora.tags.rules import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    Field,
    RuleError,
    ValueType,
    compile_rule,
    parse,
    references,
)

TIERS = ("normal", "silver", "gold", "diamond")
CATALOGUE = {
    "member_tier": Field("member_tier", ValueType.ENUM, frozenset(TIERS), is_tag=False),
    "city": Field("city", ValueType.STRING, is_tag=False),
    "orders_90d": Field("orders_90d", ValueType.NUMBER),
    "churn_risk": Field("churn_risk", ValueType.ENUM, frozenset({"high", "medium", "low"})),
    "is_vip": Field("is_vip", ValueType.BOOLEAN),
}
EXAMPLE = 'member_tier in ("gold", "diamond") and orders_90d >= 2 and not tag("churn_risk") = "high"'


def test_the_issue_example_parses_and_names_its_dependencies() -> None:
    node = compile_rule(EXAMPLE, CATALOGUE)
    assert references(node) == {"member_tier", "orders_90d", "churn_risk"}


def test_keywords_are_case_insensitive_and_strings_take_either_quote() -> None:
    catalogue = {**CATALOGUE, "MEMBER_TIER": CATALOGUE["member_tier"]}
    node = compile_rule("MEMBER_TIER = 'gold' OR is_vip AND NOT city IS SET", catalogue)
    assert references(node) == {"MEMBER_TIER", "is_vip", "city"}


@pytest.mark.parametrize(
    ("rule", "message", "column"),
    [
        ('member_tier = "bronze"', "'bronze' is not a value of 'member_tier'", 1),
        ("orders_90 > 1", "did you mean 'orders_90d'", 1),
        ('is_vip and city > "x"', "'>' needs a number", 12),
        ("orders_90d >= ", "ends too early", 15),
        ("orders_90d >= 2 and", "ends too early", 20),
        ("orders_90d ! 2", "unexpected character '!'", 12),
        ("orders_90d between 5 and 1", "the low end is higher", 1),
        ("orders_90d", "compare it with a value", 1),
        ('tag("member_tier") = "gold"', "unknown tag 'member_tier'", 5),
        ('__import__("os")', "unexpected", 11),
        ("orders_90d.real > 1", "unexpected character '.'", 11),
    ],
)
def test_bad_rules_are_refused_with_the_position_of_the_problem(rule: str, message: str, column: int) -> None:
    with pytest.raises(RuleError) as err:
        compile_rule(rule, CATALOGUE)
    assert message in err.value.message
    assert (err.value.line, err.value.column) == (1, column)


def test_size_and_depth_are_bounded() -> None:
    with pytest.raises(RuleError, match="at most"):
        parse(" or ".join(["is_vip"] * (MAX_CONDITIONS + 1)))
    with pytest.raises(RuleError, match="deeper"):
        parse("not " * (MAX_DEPTH + 1) + "is_vip")
    with pytest.raises(RuleError, match="characters"):
        parse("is_vip or " * 1000 + "is_vip")


values = {
    "member_tier": st.sampled_from((*TIERS, None)),
    "city": st.sampled_from(("上海市", "北京市", "London", None)),
    "orders_90d": st.one_of(st.none(), st.integers(0, 6).map(float)),
    "churn_risk": st.sampled_from(("high", "medium", "low", None)),
    "is_vip": st.sampled_from((True, False, None)),
}
rows = st.lists(st.fixed_dictionaries(values), min_size=1, max_size=30)


def _quoted(value: str) -> str:
    return '"' + value + '"'


leaf = st.one_of(
    st.sampled_from(TIERS).map(lambda v: f"member_tier = {_quoted(v)}"),
    st.sampled_from(TIERS).map(lambda v: f"member_tier != {_quoted(v)}"),
    st.lists(st.sampled_from(TIERS), min_size=1, max_size=3).map(
        lambda vs: f"member_tier in ({', '.join(map(_quoted, vs))})"
    ),
    st.lists(st.sampled_from(("上海市", "London")), min_size=1, max_size=2).map(
        lambda vs: f"city not in ({', '.join(map(_quoted, vs))})"
    ),
    st.tuples(st.sampled_from(("=", "!=", "<", "<=", ">", ">=")), st.integers(0, 6)).map(
        lambda t: f"orders_90d {t[0]} {t[1]}"
    ),
    st.tuples(st.integers(0, 3), st.integers(3, 6)).map(lambda t: f"orders_90d between {t[0]} and {t[1]}"),
    st.sampled_from(("high", "low")).map(lambda v: f'tag("churn_risk") = {_quoted(v)}'),
    st.sampled_from(("is_vip", "is_vip = false", "city is set", "churn_risk is not set")),
)
rule_text = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(("and", "or")), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        inner.map(lambda r: f"not ({r})"),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=rule_text, data=rows)
def test_batch_and_real_time_give_the_same_members(rule: str, data: list[dict[str, Any]]) -> None:
    node = compile_rule(rule, CATALOGUE)
    table = ibis.memtable(
        [{"row": i, **r} for i, r in enumerate(data)],
        schema={"row": "int64", "member_tier": "string", "city": "string", "orders_90d": "float64",
                "churn_risk": "string", "is_vip": "boolean"},
    )  # fmt: skip
    batch = set(table.filter(to_ibis(node, table)).row.to_pyarrow().to_pylist())
    predicate = to_predicate(node)
    real_time = {i for i, r in enumerate(data) if predicate(r)}
    assert batch == real_time
