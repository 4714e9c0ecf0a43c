"""Line numbers of order lines in file order, per order id, across the chunks of a streamed file.

A line keeps its number whether or not it is valid, so a file fixed and imported again numbers its
lines as before and only the lines that were rejected the first time are new. Counts are kept per
64-bit hash of the order id (16 bytes an order), so memory stays small for millions of orders.
"""

from __future__ import annotations

import numpy as np


class LineNumbers:
    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.int64)  # sorted hashes of the order ids seen so far
        self._counts = np.empty(0, dtype=np.int64)  # lines seen per order id

    def assign(self, order_ids: list[str | None]) -> list[int | None]:
        """1-based numbers continuing each order's count; None where the row has no order id."""
        present = [i for i, o in enumerate(order_ids) if o is not None]
        out: list[int | None] = [None] * len(order_ids)
        if not present:
            return out
        hashes = np.fromiter((hash(order_ids[i]) for i in present), dtype=np.int64, count=len(present))
        unique, inverse, per_order = np.unique(hashes, return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate(([0], np.cumsum(per_order)[:-1]))
        occurrence = np.empty(len(present), dtype=np.int64)
        occurrence[order] = np.arange(len(present)) - np.repeat(starts, per_order)
        base = self._stored(unique)
        numbers = base[inverse] + occurrence + 1
        for i, n in zip(present, numbers.tolist(), strict=True):
            out[i] = n
        self._remember(unique, base + per_order)
        return out

    def _stored(self, unique: np.ndarray) -> np.ndarray:
        if not len(self._keys):
            return np.zeros(len(unique), dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._keys, unique), len(self._keys) - 1)
        return np.where(self._keys[pos] == unique, self._counts[pos], 0)

    def _remember(self, unique: np.ndarray, counts: np.ndarray) -> None:
        keep = ~np.isin(self._keys, unique, assume_unique=True)
        keys = np.concatenate((self._keys[keep], unique))
        order = np.argsort(keys, kind="stable")
        self._keys, self._counts = keys[order], np.concatenate((self._counts[keep], counts))[order]
