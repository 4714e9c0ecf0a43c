"""Sparse helpers shared by the neighbourhood methods: keep each row's ``k`` strongest entries."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def keep_top_k(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest entries (ties by column), the rest dropped."""
    matrix = sp.csr_matrix(matrix)
    counts = np.diff(matrix.indptr)
    if k <= 0 or counts.max(initial=0) <= k:
        return matrix
    keep = np.ones(matrix.nnz, dtype=bool)
    for row in np.flatnonzero(counts > k).tolist():
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        data, indices = matrix.data[start:end], matrix.indices[start:end]
        # Only the entries at or above the k-th value are sorted (a row can hold every customer).
        cut = -np.partition(-data, k - 1)[k - 1]
        candidates = np.flatnonzero(data >= cut)
        # Ties at the cut go to the lower column, so one row alone picks exactly what a batch picks.
        chosen = candidates[np.lexsort((indices[candidates], -data[candidates]))[:k]]
        keep[start:end] = False
        keep[start + chosen] = True
    rows = np.repeat(np.arange(matrix.shape[0]), counts)[keep]
    out = sp.csr_matrix((matrix.data[keep], (rows, matrix.indices[keep])), shape=matrix.shape)
    out.sort_indices()
    return out


def drop_diagonal(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix)
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    return matrix
