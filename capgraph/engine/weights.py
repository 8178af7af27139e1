"""Parents × children weights of a product block, multiplied child slot by child slot with numpy.

Rules evaluated as products (``all``, ``any``, ``mean``, ``geomean``) are a weighted sum over each
parent's children, ``W @ x``. Parents in maps have a few children each, so :class:`Slots` adds
them one slot at a time: every parent's first child, then the second child of those that have
one, and so on, each step one gather, multiply and add over whole rows. That is several times
faster than a sparse matrix product or a segmented ``reduceat`` at these sizes, needs no scipy
(whose import costs a small map's start-up), and only ever adds the edges that exist: no zero
weight meets the infinite log of a zero value, as a dense matrix would make it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Slots summed one step each; children beyond this many of a parent are summed by ``reduceat``,
#: so one parent of 10,000 children costs one segmented sum, not 10,000 Python steps.
MAX_SLOTS = 16
#: Values gathered at once by the ``reduceat`` path: edges × columns, in slices of the columns.
_GATHER = 1 << 20


@dataclass(frozen=True)
class Edges:
    """A block's weights edge by edge (the attributes of a scipy COO matrix that the engine reads)."""

    row: np.ndarray
    col: np.ndarray
    data: np.ndarray


class Slots:
    """``W @ x`` over the edges (row, col, weight) of a parents × children matrix.

    Each row's edges are summed in column order (a row of more than MAX_SLOTS children adds the
    sum of the rest, by ``reduceat``, last). Slot ``d`` holds every row's ``d``-th edge; the
    rows that have one form a prefix when rows come in order of falling degree (the engine orders
    a block's parents so), and the step is then a slice rather than a scatter.

    >>> w = Slots(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]), (2, 2))
    >>> (w @ np.array([[1.0], [10.0]])).tolist()
    [[21.0], [30.0]]
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray,
                 shape: tuple[int, int]) -> None:
        if rows.size == shape[0] and np.array_equal(np.sort(rows), np.arange(shape[0])):
            self._one_each(rows, cols, weights, shape)  # a chain's block: built in a few µs
            return
        order = np.lexsort((cols, rows))
        self.rows, self.cols, self.weights = rows[order], cols[order], weights[order]
        self.shape = shape
        starts = np.searchsorted(self.rows, np.arange(shape[0]))
        degree = np.diff(np.append(starts, self.rows.size))
        if (degree == 0).any():
            raise ValueError("every row of a product block needs at least one edge")
        slot = np.arange(self.rows.size) - starts[self.rows]  # each edge's place in its row
        #: per slot: the rows that have it (a slice when they are a prefix) and its edges
        self.steps: list[tuple[slice | np.ndarray, np.ndarray]] = []
        for d in range(min(MAX_SLOTS, int(degree.max(initial=0)))):
            edges = np.flatnonzero(slot == d)
            have = self.rows[edges]
            prefix = np.array_equal(have, np.arange(have.size))
            self.steps.append((slice(0, have.size) if prefix else have, edges))
        self.tail = np.flatnonzero(slot >= MAX_SLOTS)  # rows of more than MAX_SLOTS children
        self.tail_rows, self.tail_starts = np.unique(self.rows[self.tail], return_index=True)
        self._weigh()

    def _one_each(self, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray,
                  shape: tuple[int, int]) -> None:
        """One edge per row: a single slot, and no row beyond it."""
        order = np.argsort(rows)
        self.rows, self.cols, self.weights, self.shape = rows[order], cols[order], weights[order], shape
        self.steps = [(slice(0, shape[0]), np.arange(shape[0]))]
        self.tail = self.tail_rows = self.tail_starts = np.zeros(0, dtype=np.intp)
        self._weigh()

    def _weigh(self) -> None:
        # per step: the children it reads and their weights, None when all are 1 (no multiply)
        self.terms = [(self.cols[e], None if (self.weights[e] == 1).all() else self.weights[e, None])
                      for _, e in self.steps]

    def astype(self, dtype: Any, copy: bool = False) -> Slots:
        """The same edges with weights in ``dtype`` (a float32 pass stays in float32)."""
        out = Slots.__new__(Slots)
        out.__dict__.update(self.__dict__)
        out.weights = self.weights.astype(dtype, copy=copy)
        out._weigh()
        return out

    def tocoo(self) -> Edges:
        """The edges as ``row``, ``col`` and ``data`` arrays, as scipy's ``tocoo()`` gives them."""
        return Edges(self.rows, self.cols, self.weights)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        dtype = np.result_type(self.weights, x)
        out = None
        for (rows, _), (cols, weights) in zip(self.steps, self.terms, strict=True):
            term = x[cols]  # a copy, weighed in place
            if weights is not None:
                term *= weights
            if out is not None:
                out[rows] += term
            elif isinstance(rows, slice) and rows.stop == self.shape[0] and term.dtype == dtype:
                out = term  # every row's first edge: the sum starts as the term itself
            else:
                out = np.empty((self.shape[0], x.shape[1]), dtype=dtype)
                out[rows] = term
        if self.tail.size:
            out[self.tail_rows] += self._segments(x)
        return out

    def _segments(self, x: np.ndarray) -> np.ndarray:
        """Sums of the edges beyond MAX_SLOTS, row by row (``reduceat`` in bounded memory)."""
        cols, weights = self.cols[self.tail], self.weights[self.tail]
        out = np.empty((self.tail_rows.size, x.shape[1]), dtype=np.result_type(weights, x))
        step = max(1, _GATHER // cols.size)
        for j in range(0, x.shape[1], step):  # every tail row has an edge: no empty segment
            gathered = x[cols, j:j + step] * weights[:, None]
            out[:, j:j + step] = np.add.reduceat(gathered, self.tail_starts, axis=0)
        return out


def weight_matrix(rows: list[int], cols: list[int], weights: list[float], shape: tuple[int, int]) -> Slots:
    """The weights of a product block, ready for ``W @ x``."""
    return Slots(np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp),
                 np.asarray(weights, dtype=float), shape)
