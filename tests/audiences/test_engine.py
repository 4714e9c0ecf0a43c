"""The bitmap engine returns exactly the customers a plain Ibis/DuckDB filter over the tag values returns."""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagora.audiences.bitmaps import NumericIndex, ValueIndex, WeightedIndex, to_bitmap
from tagora.audiences.engine import TagIndex, check, evaluate
from tagora.audiences.expr import All, AnyOf, Condition, Expr, InSegment, Not, SegmentError, parse

N = 300
ENUMS = {"tier": ["gold", "silver", "bronze"], "channel": ["app", "web"], "vip": ["true", "false"]}
NUMBERS = ("orders_90d", "monetary_90d")
WEIGHTED = {"interests": ["shoes", "bags", "tea"]}


def base(seed: int) -> tuple[TagIndex, ibis.Table, ibis.Table]:
    """A random customer base (values missing at random) as a bitmap index and as DuckDB tables."""
    rng = np.random.default_rng(seed)
    uids = np.arange(1, N + 1)
    wide: dict[str, Any] = {"uid": uids}
    index = TagIndex(universe=to_bitmap(uids))
    for name, choices in ENUMS.items():
        values = [None if rng.random() < 0.15 else str(rng.choice(choices)) for _ in uids]
        wide[name] = values
        have = np.array([v is not None for v in values])
        index.tags[name] = ValueIndex.build(uids[have], [v for v in values if v is not None])
    for name in NUMBERS:
        numbers = np.round(rng.gamma(1.5, 20, N), int(rng.integers(0, 3)))  # ties on purpose
        numbers[rng.random(N) < 0.15] = np.nan
        wide[name] = numbers
        index.tags[name] = NumericIndex.build(uids, numbers, bucket=7, level=3)
    rows = [
        (int(u), value, float(np.round(rng.random(), 2)))
        for u in uids
        for value in WEIGHTED["interests"]
        if rng.random() < 0.4
    ]
    long = {"uid": [r[0] for r in rows], "value": [r[1] for r in rows], "weight": [r[2] for r in rows]}
    index.tags["interests"] = WeightedIndex.build(
        np.array(long["uid"]), long["value"], np.array(long["weight"]), bucket=5, level=2
    )
    con = ibis.duckdb.connect()
    table = con.create_table("tags", pa.table({k: pa.array(v) for k, v in wide.items()}))
    table = table.mutate(**{n: ibis.ifelse(table[n].isnan(), ibis.null(), table[n]) for n in NUMBERS})
    weighted = con.create_table("interests", pa.table(long))
    return index, table, weighted


def reference(expr: Expr, t: ibis.Table, w: ibis.Table) -> ibis.expr.types.BooleanValue:
    """The same expression as a straightforward filter (missing values never match a comparison)."""
    if isinstance(expr, All):
        out = reference(expr.all[0], t, w)
        for c in expr.all[1:]:
            out = out & reference(c, t, w)
        return out
    if isinstance(expr, AnyOf):
        out = reference(expr.any[0], t, w)
        for c in expr.any[1:]:
            out = out | reference(c, t, w)
        return out
    if isinstance(expr, Not):
        return ~reference(expr.not_, t, w)
    assert isinstance(expr, Condition)
    if expr.tag == "interests":
        if expr.op == "is_set":
            return t.uid.isin(w.uid)
        if expr.op == "is_not_set":
            return ~t.uid.isin(w.uid)
        hits = w.filter(w.value == expr.value)
        if expr.min_weight is not None:
            hits = hits.filter(hits.weight >= expr.min_weight)
        return t.uid.isin(hits.uid)
    col = t[expr.name]
    v = expr.value
    ops = {
        "=": lambda: col == v, "!=": lambda: col != v, "<": lambda: col < v, "<=": lambda: col <= v,
        ">": lambda: col > v, ">=": lambda: col >= v, "in": lambda: col.isin(v),
        "not_in": lambda: col.notin(v), "between": lambda: col.between(v[0], v[1]),  # type: ignore[index]
        "is_set": lambda: col.notnull(), "is_not_set": lambda: col.isnull(),
    }  # fmt: skip
    return ops[expr.op]().fill_null(False)


def enum_condition() -> st.SearchStrategy[Condition]:
    return st.sampled_from(sorted(ENUMS)).flatmap(
        lambda name: st.one_of(
            st.builds(
                Condition,
                tag=st.just(name),
                op=st.sampled_from(["=", "!="]),
                value=st.sampled_from(ENUMS[name] + ["nope"]),
            ),
            st.builds(
                Condition,
                tag=st.just(name),
                op=st.sampled_from(["in", "not_in"]),
                value=st.lists(st.sampled_from(ENUMS[name]), min_size=1, max_size=3),
            ),
            st.builds(Condition, tag=st.just(name), op=st.sampled_from(["is_set", "is_not_set"])),
        )
    )


def number_condition() -> st.SearchStrategy[Condition]:
    number = st.one_of(
        st.integers(-5, 150).map(float), st.floats(-5, 150, allow_nan=False).map(lambda f: round(f, 1))
    )
    return st.one_of(
        st.builds(
            Condition,
            tag=st.sampled_from(NUMBERS),
            op=st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
            value=number,
        ),
        st.builds(
            Condition,
            tag=st.sampled_from(NUMBERS),
            op=st.just("between"),
            value=st.tuples(number, number).map(lambda p: sorted(p)),
        ),
        st.builds(
            Condition,
            tag=st.sampled_from(NUMBERS),
            op=st.just("in"),
            value=st.lists(number, min_size=1, max_size=3),
        ),
    )


def weighted_condition() -> st.SearchStrategy[Condition]:
    return st.one_of(
        st.builds(
            Condition,
            tag=st.just("interests"),
            op=st.just("contains"),
            value=st.sampled_from(WEIGHTED["interests"]),
            min_weight=st.one_of(st.none(), st.floats(0, 1).map(lambda f: round(f, 2))),
        ),
        st.builds(Condition, tag=st.just("interests"), op=st.sampled_from(["is_set", "is_not_set"])),
    )


leaves = st.one_of(enum_condition(), number_condition(), weighted_condition())
expressions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map(lambda c: All(all=c)),
        st.lists(inner, min_size=1, max_size=4).map(lambda c: AnyOf(any=c)),
        inner.map(lambda c: Not(**{"not": c})),
    ),
    max_leaves=10,
)
BASES = {seed: base(seed) for seed in range(3)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(BASES)), expressions)
def test_random_segments_match_a_plain_duckdb_filter(seed: int, expr: Expr) -> None:
    index, table, weighted = BASES[seed]
    check(expr, index)
    expected = table.filter(reference(expr, table, weighted)).uid.to_pyarrow().to_pylist()
    assert sorted(evaluate(expr, index)) == sorted(expected)


def test_the_json_form_round_trips_and_errors_name_the_path() -> None:
    index = BASES[0][0]
    expr = parse(
        {
            "all": [
                {"tag": "tier", "op": "=", "value": "gold"},
                {"not": {"tag": "vip", "op": "=", "value": True}},
            ]
        }
    )
    assert isinstance(expr, All)
    check(expr, index)
    bad = [
        ({"all": [{"tag": "tier", "op": "~", "value": "x"}]}, "all.0"),
        ({"all": [{"tag": "tiers", "op": "=", "value": "x"}]}, "all.0.tag"),
        ({"any": [{"tag": "tier", "op": ">", "value": 3}]}, "any.0.op"),
        ({"all": [{"tag": "orders_90d", "op": ">=", "value": "two"}]}, "all.0.value"),
        ({"all": [{"tag": "orders_90d", "op": "between", "value": [1]}]}, "all.0.value"),
        ({"all": [{"tag": "interests", "op": "=", "value": "tea"}]}, "all.0.op"),
        ({"all": []}, "all"),
    ]  # fmt: skip
    for raw, path in bad:
        with pytest.raises(SegmentError) as err:
            check(parse(raw), index)
        assert err.value.data["path"].startswith(path), (raw, err.value.message)


def test_a_segment_may_use_another_segment() -> None:
    index = BASES[1][0]
    gold = evaluate(parse({"tag": "tier", "op": "=", "value": "gold"}), index)
    expr = parse({"all": [{"segment": "gold"}, {"tag": "channel", "op": "=", "value": "app"}]})
    result = evaluate(expr, index, segments={"gold": gold}.__getitem__)
    assert result == gold & index.tags["channel"].equals("app")  # type: ignore[union-attr]
    assert isinstance(parse({"segment": "x"}), InSegment)


@pytest.mark.parametrize(("bucket", "level"), [(7, 3), (4, 4), (16, 2), (1000, 16)])
def test_numeric_ranges_and_narrowing_match_numpy_at_every_threshold(bucket: int, level: int) -> None:
    rng = np.random.default_rng(bucket)
    uids = rng.permutation(np.arange(1, 2001))
    values = rng.integers(0, 120, len(uids)).astype(float)
    values[rng.random(len(uids)) < 0.1] = np.nan
    index = NumericIndex.build(uids, values, bucket=bucket, level=level)
    members = to_bitmap(uids[rng.random(len(uids)) < 0.3])
    for threshold in range(-1, 122):
        for op, hit in (
            ("<", values < threshold),
            ("<=", values <= threshold),
            (">", values > threshold),
            (">=", values >= threshold),
            ("=", values == threshold),
            ("!=", values != threshold),
        ):
            expected = set(uids[hit & ~np.isnan(values)].tolist())
            assert set(index.compare(op, threshold)) == expected, (op, threshold)
            if op not in ("=", "!="):
                assert set(index.narrow(members, *index.rows(op, threshold))) == expected & set(members)
        high = threshold + int(rng.integers(0, 40))
        inside = set(uids[(values >= threshold) & (values <= high)].tolist())
        assert set(index.select(*index.rows("between", (threshold, high)))) == inside
        assert set(index.narrow(members, *index.rows("between", (threshold, high)))) == inside & set(members)
