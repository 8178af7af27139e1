"""Tables far larger than a fit needs: distinct rows with counts, and scores averaged per scale.

A least-squares fit of a curve ``f`` to rows ``(x_i, y_i)`` weighed by ``w_i`` only needs, at each
distinct scale ``x``, the total weight ``W = Σ w_i²`` and the weighted mean score
``ȳ = Σ w_i² y_i / W``: ``Σ w_i² (f(x) − y_i)² = W (f(x) − ȳ)² + (a constant free of f)``. So a
million rows at fifty model sizes fit as fifty points, with the same answer. A bootstrap resample
of the rows is a multinomial draw of how often each *distinct* row is picked (probabilities
count / rows), so it too can run on distinct rows and their counts, exactly, when there are few
(per-item 0/1 results, scores rounded to a few decimals). :class:`Counted` holds a table so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Counted:
    """Rows as distinct ``(log_x, y, w²)`` rows with their counts, and each one's scale group.

    ``inverse`` maps every original row to its distinct row; ``group`` maps every distinct row to
    its scale in ``scales`` (sorted).
    """

    log_x: np.ndarray
    y: np.ndarray
    w2: np.ndarray
    count: np.ndarray
    group: np.ndarray
    scales: np.ndarray
    inverse: np.ndarray

    @classmethod
    def of(cls, log_x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> Counted:
        """Count the distinct rows of ``(log_x, y[, w])`` (``w``: each row's weight, 1/its stderr).

        >>> c = Counted.of(np.array([9.0, 9.0, 10.0, 9.0]), np.array([0.0, 1.0, 1.0, 1.0]))
        >>> c.count.tolist(), c.groups()[1].tolist()
        ([1, 2, 1], [0.6666666666666666, 1.0])
        """
        log_x, y = np.asarray(log_x, dtype=float), np.asarray(y, dtype=float)
        w2 = np.ones_like(y) if w is None else np.asarray(w, dtype=float) ** 2
        order = np.lexsort((w2, y, log_x))
        lx, yy, ww = log_x[order], y[order], w2[order]
        new = np.ones(lx.size, dtype=bool)
        new[1:] = (lx[1:] != lx[:-1]) | (yy[1:] != yy[:-1]) | (ww[1:] != ww[:-1])
        first = np.flatnonzero(new)
        inverse = np.empty(lx.size, dtype=np.intp)
        inverse[order] = np.cumsum(new) - 1
        distinct_x = lx[first]
        new_scale = np.ones(first.size, dtype=bool)
        new_scale[1:] = distinct_x[1:] != distinct_x[:-1]
        return cls(distinct_x, yy[first], ww[first], np.diff(np.append(first, lx.size)),
                   np.cumsum(new_scale) - 1, distinct_x[new_scale], inverse)

    @property
    def n_rows(self) -> int:
        """Rows in the table (the sum of the counts)."""
        return int(self.count.sum())

    @property
    def n_distinct(self) -> int:
        """Distinct rows."""
        return int(self.count.size)

    def groups(self, count: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(log_x, mean score, weight)`` per distinct scale, for ``count`` picks of each distinct row
        (default: the table's own counts); scales picked no time are left out.

        Fitting these points with these weights minimises the same sum of squares as fitting the
        rows (see the module docstring); the weight is ``sqrt(W)``, as a residual multiplier.
        """
        count = self.count if count is None else count
        mass = count * self.w2
        total = np.bincount(self.group, weights=mass, minlength=self.scales.size)
        sums = np.bincount(self.group, weights=mass * self.y, minlength=self.scales.size)
        seen = total > 0
        return self.scales[seen], sums[seen] / total[seen], np.sqrt(total[seen])


def per_scale(log_x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(log_x, mean score, weight)`` at each distinct scale of the rows, as :meth:`Counted.groups`
    gives them, without counting distinct rows (a point fit needs no more).

    >>> [v.tolist() for v in per_scale(np.array([9.0, 10.0, 9.0]), np.array([0.0, 1.0, 1.0]))]
    [[9.0, 10.0], [0.5, 1.0], [1.4142135623730951, 1.0]]
    """
    scales, group = np.unique(np.asarray(log_x, dtype=float), return_inverse=True)
    w2 = np.ones(group.size) if w is None else np.asarray(w, dtype=float) ** 2
    total = np.bincount(group, weights=w2, minlength=scales.size)
    sums = np.bincount(group, weights=w2 * np.asarray(y, dtype=float), minlength=scales.size)
    return scales, sums / total, np.sqrt(total)


def spread_sample(log_x: np.ndarray, size: int) -> np.ndarray:
    """Indices of ``size`` rows spread evenly over the rows in order of scale (every k-th row).

    Deterministic (no seed), and every part of the scale range keeps its share of the rows.

    >>> spread_sample(np.array([5.0, 1.0, 4.0, 2.0, 3.0, 0.0]), 3).tolist()
    [5, 3, 0]
    """
    order = np.argsort(log_x, kind="stable")
    if size >= order.size:
        return order
    return order[np.linspace(0, order.size - 1, size).round().astype(np.intp)]
