"""Group portraits and lookalikes computed from bitmaps equal a plain pandas computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tagora.audiences.bitmaps import NumericIndex, ValueIndex, to_bitmap
from tagora.audiences.engine import TagIndex, evaluate
from tagora.audiences.expr import parse
from tagora.audiences.portraits import group_portrait, lookalike

N = 5000


@pytest.fixture(scope="module")
def base() -> tuple[TagIndex, pd.DataFrame]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "uid": np.arange(1, N + 1),
            "tier": rng.choice(["gold", "silver", "bronze", None], N, p=[0.1, 0.3, 0.5, 0.1]),
            "channel": rng.choice(["app", "web"], N, p=[0.4, 0.6]),
            "spend": np.where(rng.random(N) < 0.1, np.nan, rng.gamma(2.0, 50.0, N).round(2)),
        }
    )
    index = TagIndex(universe=to_bitmap(frame.uid.to_numpy()))
    for name in ("tier", "channel"):
        have = frame[frame[name].notna()]
        index.tags[name] = ValueIndex.build(have.uid.to_numpy(), have[name].tolist())
    index.tags["spend"] = NumericIndex.build(frame.uid.to_numpy(), frame.spend.to_numpy(), bucket=97, level=4)
    return index, frame


def test_shares_and_tgi_equal_an_independent_computation(base: tuple[TagIndex, pd.DataFrame]) -> None:
    index, frame = base
    members = evaluate(parse({"tag": "channel", "op": "=", "value": "app"}), index)
    portrait = group_portrait(index, members)
    segment = frame[frame.channel == "app"]
    assert portrait.size == len(segment) and portrait.base_size == N
    tier = next(p for p in portrait.tags if p.name == "tier")
    for v in tier.values:
        share = (segment.tier == v.value).sum() / segment.tier.notna().sum()
        base_share = (frame.tier == v.value).sum() / frame.tier.notna().sum()
        assert v.count == (segment.tier == v.value).sum()
        assert v.share == pytest.approx(share, abs=1e-6)
        assert v.tgi == pytest.approx(round(share / base_share * 100, 1))
    spend = next(p for p in portrait.tags if p.name == "spend")
    values = segment.spend.dropna().to_numpy()
    assert spend.covered == len(values)
    assert spend.quantiles is not None
    for q in (10, 25, 50, 75, 90):
        assert spend.quantiles[f"p{q}"] == np.quantile(values, q / 100, method="inverted_cdf")
    assert sum(b.count or 0 for b in spend.bins) == len(values)
    assert all(b.low <= b.high for b in spend.bins)


def test_small_figures_are_suppressed(base: tuple[TagIndex, pd.DataFrame]) -> None:
    index, _ = base
    few = to_bitmap([1, 2, 3])
    portrait = group_portrait(index, few, k=10)
    assert portrait.suppressed and portrait.size == 0
    assert all(v.count is None and v.tgi is None for p in portrait.tags for v in p.values)
    assert portrait.distinguishing == []


def test_the_most_distinguishing_values_come_first(base: tuple[TagIndex, pd.DataFrame]) -> None:
    index, _ = base
    gold = evaluate(parse({"tag": "tier", "op": "=", "value": "gold"}), index)
    top = group_portrait(index, gold).distinguishing[0]
    assert (top.tag, top.value) == ("tier", "gold") and top.tgi > 700  # 1 / (1 in 8 of those with a tier)


def test_lookalikes_share_the_seed_s_distinguishing_tags(base: tuple[TagIndex, pd.DataFrame]) -> None:
    index, frame = base
    seed_expr = {
        "all": [{"tag": "tier", "op": "=", "value": "gold"}, {"tag": "channel", "op": "=", "value": "app"}]
    }
    seed = evaluate(parse(seed_expr), index)
    result = lookalike(index, seed, 50)
    assert len(result.members) == 50 and not set(result.members) & set(seed)
    assert ("tier", "gold") in {(t, v) for t, v, _ in result.drivers}
    similar = frame.set_index("uid").loc[result.members]
    assert (similar.tier == "gold").mean() > 0.9  # gold outside the app is the nearest look
    assert result.scores == sorted(result.scores, reverse=True)
