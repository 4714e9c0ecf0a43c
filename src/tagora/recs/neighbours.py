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
        # Ties at the cut go to the lower column, so one row alone picks exactly what a batch picks.
        drop = np.lexsort((matrix.indices[start:end], -matrix.data[start:end]))[k:]
        keep[start + drop] = False
    rows = np.repeat(np.arange(matrix.shape[0]), counts)[keep]
    out = sp.csr_matrix((matrix.data[keep], (rows, matrix.indices[keep])), shape=matrix.shape)
    out.sort_indices()
    return out


def drop_diagonal(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix)
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    return matrix
