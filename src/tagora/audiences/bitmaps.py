"""Bitmap indexes over the dense customer ``uid``: one bitmap per (tag, value), range indexes for numbers.

Pure (numpy + pyroaring, no database). A numeric index keeps the customers in value order cut into
buckets of ``BUCKET`` rows: one small bitmap per bucket, a cumulative bitmap every ``LEVEL`` buckets, and
the values of each bucket aligned with its sorted uids. ``value < t`` is then one cumulative bitmap, at
most ``LEVEL - 1`` bucket bitmaps and one masked bucket — a handful of bitmap operations whatever the
value, and exact (no quantization), which is what a bit-sliced index buys at far more operations.
"""

from __future__ import annotations

import array
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyroaring import BitMap

BUCKET = 16_384
LEVEL = 16
UidArray = npt.NDArray[np.uint32]


def to_bitmap(uids: npt.NDArray[np.integer] | list[int]) -> BitMap:
    """A bitmap from uids; sorting first makes pyroaring build it ~50x faster than from random order."""
    values = np.sort(np.asarray(uids, dtype=np.uint32))
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return BitMap(array.array("I", values.tobytes()))


def factorize(values: list[str] | npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Integer codes (-1 for None) and the sorted distinct labels."""
    codes, labels = pd.factorize(pd.Series(values, dtype=object), sort=True)
    return np.asarray(codes, dtype=np.int64), [str(v) for v in labels]


def union(bitmaps: list[BitMap]) -> BitMap:
    if not bitmaps:
        return BitMap()
    return BitMap.union(*bitmaps) if len(bitmaps) > 1 else bitmaps[0].copy()


@dataclass
class NumericIndex:
    """Exact ranges over one numeric value per uid."""

    present: BitMap  # every uid with a value
    buckets: list[BitMap]  # bucket j: the uids at value-order positions [j*BUCKET, (j+1)*BUCKET)
    lows: npt.NDArray[np.float64]  # smallest value in each bucket
    highs: npt.NDArray[np.float64]  # largest value in each bucket
    values: list[npt.NDArray[np.float64]]  # each bucket's values, aligned with its sorted uids
    cumulative: list[BitMap] = field(default_factory=list)  # cumulative[k]: buckets [0, k*level)
    level: int = LEVEL

    @classmethod
    def build(
        cls,
        uids: npt.NDArray[np.integer],
        values: npt.NDArray[np.floating],
        bucket: int = BUCKET,
        level: int = LEVEL,
    ) -> NumericIndex:
        uids = np.asarray(uids, dtype=np.uint32)
        numbers = np.asarray(values, dtype=np.float64)
        keep = ~np.isnan(numbers)
        uids, numbers = uids[keep], numbers[keep]
        order = np.lexsort((uids, numbers))
        uids, numbers = uids[order], numbers[order]
        buckets: list[BitMap] = []
        lows: list[float] = []
        highs: list[float] = []
        aligned: list[npt.NDArray[np.float64]] = []
        for start in range(0, len(uids), bucket):
            u, v = uids[start : start + bucket], numbers[start : start + bucket]
            by_uid = np.argsort(u, kind="stable")
            buckets.append(BitMap(array.array("I", u[by_uid].tobytes())))
            aligned.append(v[by_uid])
            lows.append(float(v[0]))
            highs.append(float(v[-1]))
        index = cls(to_bitmap(uids), buckets, np.array(lows), np.array(highs), aligned, level=level)
        running = BitMap()
        index.cumulative = [running.copy()]
        for k in range(0, len(buckets), level):
            running |= union(buckets[k : k + level])
            index.cumulative.append(running.copy())
        return index

    def _below(self, threshold: float, inclusive: bool) -> BitMap:
        """uids whose value is < threshold (<= with ``inclusive``)."""
        if not self.buckets:
            return BitMap()
        full = self.highs <= threshold if inclusive else self.highs < threshold
        n_full = int(np.argmin(full)) if not full.all() else len(full)  # buckets are ordered by value
        level = n_full // self.level
        parts = [self.cumulative[level], *self.buckets[level * self.level : n_full]]
        if n_full < len(self.buckets) and self.lows[n_full] <= threshold:
            values = self.values[n_full]
            mask = values <= threshold if inclusive else values < threshold
            if mask.any():
                uids = self.buckets[n_full].to_array()
                parts.append(BitMap(array.array("I", np.asarray(uids)[mask].tobytes())))
        return union(parts)

    def compare(self, op: str, value: float) -> BitMap:
        if op == "<":
            return self._below(value, inclusive=False)
        if op == "<=":
            return self._below(value, inclusive=True)
        if op == ">":
            return self.present - self._below(value, inclusive=True)
        if op == ">=":
            return self.present - self._below(value, inclusive=False)
        if op == "=":
            return self._below(value, inclusive=True) - self._below(value, inclusive=False)
        if op == "!=":
            return self.present - self.compare("=", value)
        raise ValueError(f"unknown operator {op!r}")

    def between(self, low: float, high: float) -> BitMap:
        return self._below(high, inclusive=True) - self._below(low, inclusive=False)

    def nbytes(self) -> int:
        bitmaps = [self.present, *self.buckets, *self.cumulative]
        return sum(len(b.serialize()) for b in bitmaps) + sum(v.nbytes for v in self.values)


@dataclass
class ValueIndex:
    """One bitmap per distinct value (boolean and enum tags); ``present`` is their union."""

    bitmaps: dict[str, BitMap]
    present: BitMap

    @classmethod
    def build(cls, uids: npt.NDArray[np.integer], values: list[str]) -> ValueIndex:
        codes, labels = factorize(values)
        return cls.from_codes(uids, codes, labels)

    @classmethod
    def from_codes(
        cls, uids: npt.NDArray[np.integer], codes: npt.NDArray[np.integer], labels: list[str]
    ) -> ValueIndex:
        """The fast path for millions of rows: ``codes[i]`` indexes ``labels``; a negative code: no value."""
        uids = np.asarray(uids, dtype=np.uint32)
        codes = np.asarray(codes)
        order = np.lexsort((uids, codes))
        uids, codes = uids[order], codes[order]
        bounds = np.searchsorted(codes, np.arange(len(labels) + 1))
        bitmaps = {
            label: BitMap(array.array("I", uids[bounds[i] : bounds[i + 1]].tobytes()))
            for i, label in enumerate(labels)
            if bounds[i + 1] > bounds[i]
        }
        return cls(bitmaps, union(list(bitmaps.values())))

    def equals(self, value: str) -> BitMap:
        return self.bitmaps.get(value, BitMap())

    def any_of(self, values: list[str]) -> BitMap:
        return union([self.bitmaps[v] for v in values if v in self.bitmaps])

    def nbytes(self) -> int:
        return sum(len(b.serialize()) for b in self.bitmaps.values())


@dataclass
class WeightedIndex:
    """Multi-value tags (e.g. category interests): per value, who has it and with which weight."""

    weights: dict[str, NumericIndex]
    present: BitMap

    @classmethod
    def build(
        cls,
        uids: npt.NDArray[np.integer],
        values: list[str],
        weights: npt.NDArray[np.floating],
        bucket: int = BUCKET,
        level: int = LEVEL,
    ) -> WeightedIndex:
        uids = np.asarray(uids, dtype=np.uint32)
        weights = np.asarray(weights, dtype=np.float64)
        codes, labels = factorize(values)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
        per_value = {}
        for i, label in enumerate(labels):
            rows = order[bounds[i] : bounds[i + 1]]
            per_value[label] = NumericIndex.build(uids[rows], weights[rows], bucket, level)
        return cls(per_value, union([i.present for i in per_value.values()]))

    def contains(self, value: str, min_weight: float | None = None) -> BitMap:
        index = self.weights.get(value)
        if index is None:
            return BitMap()
        return index.present.copy() if min_weight is None else index.compare(">=", min_weight)

    def nbytes(self) -> int:
        return sum(i.nbytes() for i in self.weights.values())
