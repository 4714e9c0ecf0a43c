"""The index built from tag-store rows answers like the rows, and survives a save and load."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from tagora.audiences.engine import evaluate
from tagora.audiences.expr import parse
from tagora.audiences.store import build_index, load, save

ROWS = pa.table(
    {
        "uid": [1, 2, 3, 1, 2, 4, 1, 1, 3],
        "tag": [
            "tier",
            "tier",
            "tier",
            "orders_90d",
            "orders_90d",
            "orders_90d",
            "interests",
            "interests",
            "interests",
        ],
        "value": ["gold", "silver", "gold", None, None, None, "shoes", "tea", "tea"],
        "number": [None, None, None, 3.0, 0.0, 7.5, None, None, None],
        "weight": [None, None, None, None, None, None, 0.9, 0.2, 0.6],
    }
)
CATALOGUE = {"tier": "enum", "orders_90d": "number", "interests": "weighted", "vip": "boolean"}


def test_an_index_from_tag_rows_round_trips_through_a_file(tmp_path: Path) -> None:
    index = build_index([1, 2, 3, 4, 5], CATALOGUE, ROWS)
    queries = {
        '{"tag": "tier", "op": "=", "value": "gold"}': [1, 3],
        '{"tag": "orders_90d", "op": ">=", "value": 3}': [1, 4],
        '{"tag": "interests", "op": "contains", "value": "tea", "min_weight": 0.5}': [3],
        '{"not": {"tag": "tier", "op": "is_set"}}': [4, 5],
        '{"tag": "vip", "op": "is_set"}': [],
    }
    path = tmp_path / "index.npz"
    save(index, path)
    loaded = load(path)
    for raw, expected in queries.items():
        expr = parse(json.loads(raw))
        assert sorted(evaluate(expr, index)) == expected, raw
        assert sorted(evaluate(expr, loaded)) == expected, raw
    assert loaded.nbytes() == index.nbytes()
