"""Parents × children weights of a product block, multiplied with numpy alone when the block is small.

Rules evaluated as products (``all``, ``any``, ``mean``, ``geomean``) are a weighted sum over each
parent's children, ``W @ x``. scipy's sparse matrices do that fast for large blocks, but importing
scipy costs a noticeable share of a small map's whole run, so blocks with few edges use
:class:`RowSums` instead: the same sums over the same edges in the same order (no zero weight ever
meets the infinite log of a zero value, as a dense matrix would make it), in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Blocks with at most this many edges skip scipy (a start-up cost larger than their whole sum).
SMALL_BLOCK = 256
#: Values gathered at once by :class:`RowSums`: edges × columns, in slices of the columns.
_GATHER = 1 << 20


@dataclass(frozen=True)
class Edges:
    """A block's weights edge by edge (the attributes of a scipy COO matrix that the engine reads)."""

    row: np.ndarray
    col: np.ndarray
    data: np.ndarray


class RowSums:
    """``W @ x`` over the edges (row, col, weight) of a parents × children matrix.

    Edges are summed in CSR order (by row, then column), as scipy sums them (which may still differ
    in the last bit where its compiled loop fuses a multiply and an add).

    >>> w = RowSums(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]), (2, 2))
    >>> (w @ np.array([[1.0], [10.0]])).tolist()
    [[21.0], [30.0]]
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray,
                 shape: tuple[int, int]) -> None:
        order = np.lexsort((cols, rows))
        self.rows, self.cols, self.weights = rows[order], cols[order], weights[order]
        self.shape = shape
        self.starts = np.searchsorted(self.rows, np.arange(shape[0]))
        # reduceat down axis 0 loops column by column: 60 µs a level for a chain of 2,000 samples
        self.one_each = np.array_equal(self.rows, np.arange(shape[0]))

    def astype(self, dtype: Any, copy: bool = False) -> RowSums:
        out = RowSums.__new__(RowSums)
        out.rows, out.cols, out.shape, out.starts = self.rows, self.cols, self.shape, self.starts
        out.one_each = self.one_each
        out.weights = self.weights.astype(dtype, copy=copy)
        return out

    def tocoo(self) -> Edges:
        """The edges as ``row``, ``col`` and ``data`` arrays, as scipy's ``tocoo()`` gives them."""
        return Edges(self.rows, self.cols, self.weights)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        if self.one_each:  # one edge per row (a chain): each sum is its one term, no reduceat
            return x[self.cols] * self.weights[:, None]
        out = np.empty((self.shape[0], x.shape[1]), dtype=np.result_type(self.weights, x))
        step = max(1, _GATHER // max(1, self.cols.size))
        for j in range(0, x.shape[1], step):  # every row has an edge, so reduceat never sees an empty one
            gathered = x[self.cols, j:j + step] * self.weights[:, None]
            out[:, j:j + step] = np.add.reduceat(gathered, self.starts, axis=0)
        return out


def weight_matrix(rows: list[int], cols: list[int], weights: list[float], shape: tuple[int, int]):
    """The weights as :class:`RowSums` for a small block, else a scipy CSR matrix."""
    if len(weights) <= SMALL_BLOCK:
        return RowSums(np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp),
                       np.asarray(weights, dtype=float), shape)
    import scipy.sparse as sp  # deferred: small maps never pay for importing scipy (start-up)

    return sp.csr_matrix((weights, (rows, cols)), shape=shape)
