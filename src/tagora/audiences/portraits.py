"""Group portraits (人群画像) from bitmap cardinalities: value shares vs the base with TGI, numeric bins and
quantiles, the most distinguishing tag values; and lookalike expansion of a seed segment.

TGI = (share of the value in the segment) / (share of the value in the base) x 100: 100 is "as common as
anywhere", 200 "twice as common". Figures on fewer than ``k`` customers can be suppressed (privacy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from pyroaring import BitMap

from tagora.audiences.bitmaps import NumericIndex, ValueIndex, WeightedIndex
from tagora.audiences.engine import TagIndex

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
BINS = 10


@dataclass(frozen=True)
class ValueShare:
    value: str
    count: int | None  # None when suppressed
    share: float | None  # of the segment's members that have the tag
    base_share: float
    tgi: float | None


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int | None
    share: float | None
    base_share: float
    tgi: float | None


@dataclass
class TagPortrait:
    name: str
    kind: str  # values | numeric | weighted
    covered: int | None  # segment members with a value
    values: list[ValueShare] = field(default_factory=list)
    bins: list[Bin] = field(default_factory=list)
    quantiles: dict[str, float] | None = None


@dataclass
class Distinguishing:
    tag: str
    value: str
    tgi: float
    count: int
    share: float


@dataclass
class GroupPortrait:
    size: int
    base_size: int
    suppressed: bool
    tags: list[TagPortrait]
    distinguishing: list[Distinguishing]


def _tgi(share: float, base_share: float) -> float | None:
    return round(share / base_share * 100, 1) if base_share > 0 else None


def _value_shares(
    name: str, kind: str, bitmaps: dict[str, BitMap], present: BitMap, members: BitMap, k: int
) -> TagPortrait:
    covered = members.intersection_cardinality(present)
    base_covered = len(present)
    out = TagPortrait(name, kind, covered if covered >= k else None)
    for value, bitmap in bitmaps.items():
        count = members.intersection_cardinality(bitmap)
        base_share = len(bitmap) / base_covered if base_covered else 0.0
        share = count / covered if covered else 0.0
        hidden = count < k
        out.values.append(
            ValueShare(
                value,
                None if hidden else count,
                None if hidden else round(share, 6),
                round(base_share, 6),
                None if hidden else _tgi(share, base_share),
            )
        )
    out.values.sort(key=lambda v: -(v.count or 0))
    return out


def _numeric(name: str, index: NumericIndex, members: BitMap, k: int) -> TagPortrait:
    """Bins are the base's deciles (whole buckets), so each count is exact and TGI reads like an enum's."""
    counts = np.array([members.intersection_cardinality(b) for b in index.buckets], dtype=np.int64)
    sizes = np.array([len(b) for b in index.buckets], dtype=np.int64)
    covered = int(counts.sum())
    out = TagPortrait(name, "numeric", covered if covered >= k else None)
    if not len(sizes):
        return out
    edges = np.unique(np.linspace(0, len(sizes), BINS + 1).round().astype(int))
    for lo, hi in pairwise(edges.tolist()):
        count = int(counts[lo:hi].sum())
        base_share = float(sizes[lo:hi].sum() / sizes.sum())
        share = count / covered if covered else 0.0
        hidden = count < k
        out.bins.append(
            Bin(
                low=_value_at(index, int(lo * index.bucket)),
                high=_value_at(index, min(int(hi * index.bucket), len(index.uids)) - 1),
                count=None if hidden else count,
                share=None if hidden else round(share, 6),
                base_share=round(base_share, 6),
                tgi=None if hidden else _tgi(share, base_share),
            )
        )
    if covered and covered >= k:  # no member has a value: no quantiles (IndexError before)
        out.quantiles = {f"p{round(q * 100)}": _quantile(index, members, counts, q) for q in QUANTILES}
    return out


def _value_at(index: NumericIndex, row: int) -> float:
    """The value of the row at position ``row`` in value order."""
    return float(index.distinct[int(np.searchsorted(index.ends, row, side="right"))])


def _quantile(index: NumericIndex, members: BitMap, counts: np.ndarray, q: float) -> float:
    """The exact q-quantile (lower) of the members' values."""
    target = max(math.ceil(q * counts.sum()) - 1, 0)  # 0-based rank among the members
    running = np.cumsum(counts)
    j = int(np.searchsorted(running, target, side="right"))
    before = int(running[j - 1]) if j else 0
    start = j * index.bucket
    rows = index.uids[start : start + index.bucket]
    inside = np.isin(rows, np.asarray((members & index.buckets[j]).to_array()), assume_unique=True)
    position = int(np.flatnonzero(inside)[target - before])
    return _value_at(index, start + position)


def group_portrait(
    index: TagIndex,
    members: BitMap,
    k: int = 0,
    min_support: float = 0.01,
    top: int = 20,
    names: list[str] | None = None,
) -> GroupPortrait:
    """Every tag's distribution in ``members`` against the whole base; ``k`` hides small figures."""
    members = members & index.universe
    size, base = len(members), len(index.universe)
    portraits: list[TagPortrait] = []
    for name, tag in index.tags.items():
        if names is not None and name not in names:
            continue
        if isinstance(tag, ValueIndex):
            portraits.append(_value_shares(name, "values", tag.bitmaps, tag.present, members, k))
        elif isinstance(tag, WeightedIndex):
            bitmaps = {v: i.present for v, i in tag.weights.items()}
            portraits.append(_value_shares(name, "weighted", bitmaps, tag.present, members, k))
        else:
            portraits.append(_numeric(name, tag, members, k))
    ranked = [
        Distinguishing(p.name, v.value, v.tgi, v.count, v.share)
        for p in portraits
        for v in p.values
        if v.tgi is not None and v.count is not None and v.share is not None and v.share >= min_support
    ]
    ranked.sort(key=lambda d: (-d.tgi, -d.count, d.tag, d.value))
    return GroupPortrait(size if size >= k else 0, base, size < k, portraits, ranked[:top])


@dataclass
class Lookalike:
    members: list[int]  # the most similar customers outside the seed, best first
    scores: list[float]
    drivers: list[tuple[str, str, float]]  # (tag, value, weight) that make customers look like the seed


def lookalike(
    index: TagIndex, seed: BitMap, n: int, min_support: float = 0.02, top_drivers: int = 10
) -> Lookalike:
    """Score every customer outside the seed by the log-lift of the tag values it shares with the seed.

    A naive-Bayes style ranking: values much more common in the seed than in the base (and held by at
    least ``min_support`` of the seed) add log(TGI/100); the n highest scores are the lookalikes.
    """
    seed = seed & index.universe
    if not len(seed):
        return Lookalike([], [], [])
    size, base = len(seed), len(index.universe)
    features: list[tuple[str, str, BitMap, float]] = []
    for name, tag in index.tags.items():
        if isinstance(tag, ValueIndex):
            bitmaps = tag.bitmaps
        elif isinstance(tag, WeightedIndex):
            bitmaps = {v: i.present for v, i in tag.weights.items()}
        else:
            bitmaps = {}  # numeric tags: their enum buckets (e.g. value tier) carry the signal
        for value, bitmap in bitmaps.items():
            share = seed.intersection_cardinality(bitmap) / size
            base_share = len(bitmap) / base
            if share >= min_support and base_share > 0 and share > base_share:
                features.append((name, value, bitmap, math.log(share / base_share)))
    top = int(index.universe.max()) + 1 if len(index.universe) else 0
    scores = np.zeros(top, dtype=np.float32)
    for _, _, bitmap, weight in features:
        scores[np.asarray(bitmap.to_array(), dtype=np.int64)] += weight
    outside = np.asarray((index.universe - seed).to_array(), dtype=np.int64)
    if not len(outside):
        return Lookalike([], [], [])
    best = outside[np.argsort(-scores[outside], kind="stable")[:n]]
    drivers = sorted(((t, v, round(w, 4)) for t, v, _, w in features), key=lambda d: -d[2])[:top_drivers]
    return Lookalike(best.tolist(), [float(scores[u]) for u in best], drivers)
