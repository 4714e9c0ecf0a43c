"""Segments and portraits on the Online Retail data, over tags the built-in library computed there.

The shares and TGI of a group portrait are checked against an independent pandas computation over the
stored tag values, and a segment's members against a pandas filter.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from pyroaring import BitMap

from tagora.audiences import logic
from tagora.core.auth import CLI_OPERATOR
from tagora.core.stores import Stores, open_stores
from tagora.ingest.logic import import_online_retail
from tagora.tags.library import install_library
from tagora.tags.logic import deprecate_tag, retire_tag
from tagora.tags.runs import compute_tags
from tests.conftest import ONLINE_RETAIL, make_settings, need

AS_OF = date(2011, 9, 30)
SEGMENT = {
    "all": [
        {"tag": "orders_365d", "op": ">=", "value": 3},
        {"tag": "country", "op": "=", "value": "United Kingdom"},
    ]
}


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    need(ONLINE_RETAIL.exists(), f"{ONLINE_RETAIL} is missing")
    stores = open_stores(make_settings(tmp_path_factory.mktemp("or-portrait") / "home"))
    import_online_retail(stores, CLI_OPERATOR, ONLINE_RETAIL)
    install_library(stores.sessions, CLI_OPERATOR)
    assert compute_tags(stores, as_of=AS_OF).status == "succeeded"
    yield stores
    stores.close()


def tag_frame(stores: Stores) -> pd.DataFrame:
    return stores.warehouse.table("tag_values").select("uid", "tag", "value", "number").to_pandas()


def expected_members(frame: pd.DataFrame) -> set[int]:
    orders = frame[(frame.tag == "orders_365d") & (frame.number >= 3)].uid
    uk = frame[(frame.tag == "country") & (frame.value == "United Kingdom")].uid
    return set(orders) & set(uk)


def test_the_index_is_built_from_the_computed_tags_and_selects_what_pandas_selects(retail: Stores) -> None:
    frame = tag_frame(retail)
    result = logic.count(retail, SEGMENT)
    assert result.count == len(expected_members(frame)) > 100


def test_group_portrait_shares_and_tgi_equal_an_independent_computation(retail: Stores) -> None:
    frame = tag_frame(retail)
    members = expected_members(frame)
    index = logic.audience_index(retail)
    portrait = logic.portrait(retail, CLI_OPERATOR, BitMap(members))
    assert portrait.size == len(members) and portrait.base_size == len(index.universe) > 3000
    checked = 0
    for tag in ("value_tier", "lifecycle", "purchase_frequency", "preferred_channel", "weekend_shopper"):
        if tag not in index.tags:
            continue
        values = frame[frame.tag == tag]
        base = values.value.value_counts() / len(values)
        group = values[values.uid.isin(members)]
        share = group.value.value_counts() / len(group)
        shown = next(p for p in portrait.tags if p.name == tag)
        assert shown.covered == len(group)
        for v in shown.values:
            assert v.base_share == pytest.approx(base[v.value], abs=1e-6)
            assert v.share == pytest.approx(share.get(v.value, 0.0), abs=1e-6)
            if v.tgi is not None:
                assert v.tgi == pytest.approx(
                    round(share.get(v.value, 0.0) / base[v.value] * 100, 1), abs=0.051
                )
            checked += 1
    assert checked >= 10


def test_a_retired_tag_leaves_the_index_and_a_new_run_is_seen(retail: Stores) -> None:
    before = logic.audience_index(retail)
    assert "weekend_shopper" in before.tags
    for step in (deprecate_tag, retire_tag):
        step(retail, CLI_OPERATOR, "weekend_shopper", "no longer used")
    run = compute_tags(retail, tags=["orders_365d"], as_of=date(2011, 6, 30))
    assert run.status == "succeeded"
    after = logic.audience_index(retail)
    assert after is not before and after.version != before.version
    assert "weekend_shopper" not in after.tags and "orders_365d" in after.tags
    frame = tag_frame(retail)
    assert logic.count(retail, SEGMENT).count == len(expected_members(frame))
