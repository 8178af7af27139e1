"""Predictive bands on large tables: computed once per distinct scale, by counting instead of sorting.

A back-test's band for new models (:mod:`capgraph.evidence.bands`) depends on a held-out row's scale
alone, so rows that share a scale share their band: :func:`band_rows` lists the distinct scales of
the held-out rows (their rows are the weights), or, when there are more than :data:`BAND_POINTS`
(every row its own scale), that many rows spread evenly over the scales, which stand for the rest.

At each scale the band's ends are percentiles of ``draws × residuals`` sums ``z_b + r_j`` (a
thousand bootstrap-curve logits and five thousand scatter residuals: five million sums a scale).
Sorting them costs about 90 ms a scale; :func:`counted_band` finds the same order statistics by
bisection on the value, counting the sums at or below it with one binary search a draw into the
sorted residuals (about 3 ms a scale), and interpolates between them as ``np.percentile`` does (its
"linear" method).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capgraph.evidence.bands import Scatter, from_logit, to_logit
from capgraph.evidence.bigtable import spread_sample

#: Most scales a large table's band is computed at; past it, this many held-out rows spread evenly
#: over the scales are scored instead (the coverage of 200 rows is good to about two points).
BAND_POINTS = 200
#: Scales handled at once in :func:`counted_band` (bounds the integer arrays of each count).
_CHUNK = 64


@dataclass(frozen=True)
class BandRows:
    """The held-out rows a band is scored on and the distinct scales among them.

    ``rows`` indexes the held-out rows (all of them, or an even subsample); ``inverse`` maps each of
    those to its scale in ``scales`` (sorted).
    """

    rows: np.ndarray
    scales: np.ndarray
    inverse: np.ndarray
    n_held_out: int

    @property
    def sampled(self) -> bool:
        """Whether the rows are a subsample of the held-out rows (else all of them)."""
        return self.rows.size < self.n_held_out


def band_rows(log_x: np.ndarray, limit: int = BAND_POINTS) -> BandRows:
    """Every held-out row at its distinct scale, or ``limit`` rows spread over the scales when the
    distinct scales are more than ``limit``.

    >>> b = band_rows(np.array([11.0, 10.0, 11.0, 10.0, 12.0]))
    >>> b.scales.tolist(), b.inverse.tolist(), b.sampled
    ([10.0, 11.0, 12.0], [1, 0, 1, 0, 2], False)
    >>> band_rows(np.arange(10.0), 4).rows.tolist()
    [0, 3, 6, 9]
    """
    log_x = np.asarray(log_x, dtype=float)
    scales, inverse = np.unique(log_x, return_inverse=True)
    if scales.size <= limit:
        return BandRows(np.arange(log_x.size), scales, inverse, log_x.size)
    rows = np.sort(spread_sample(log_x, limit))
    scales, inverse = np.unique(log_x[rows], return_inverse=True)
    return BandRows(rows, scales, inverse, log_x.size)


def counted_band(curve_values: np.ndarray, scatter: Scatter | None,
                 level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """:func:`capgraph.evidence.bands.predictive_band`, the same numbers (to rounding), in time
    linear in draws + residuals a point rather than in their product.

    >>> from capgraph.evidence.bands import predictive_band
    >>> rng = np.random.default_rng(0)
    >>> values, s = rng.uniform(0.2, 0.8, (50, 3)), Scatter(rng.normal(0, 1, 40), "leave-one-out", 0.0)
    >>> bool(np.allclose(counted_band(values, s), predictive_band(values, s), rtol=0, atol=1e-12))
    True
    """
    values = np.atleast_2d(np.asarray(curve_values, dtype=float))
    tail = 50 * (1 - level)
    if scatter is None or scatter.n == 0:
        lo, hi = np.percentile(values, [tail, 100 - tail], axis=0)
        return lo, hi
    z = to_logit(values, scatter.floor).T  # (points, draws)
    r = np.sort(scatter.residuals)
    at = np.array([tail, 100 - tail]) / 100 * (z.shape[1] * r.size - 1)  # np.percentile's index
    ranks = np.floor(at).astype(np.int64)
    lo, hi = np.empty(z.shape[0]), np.empty(z.shape[0])
    for start in range(0, z.shape[0], _CHUNK):
        first, second = _order_statistics(z[start:start + _CHUNK], r, ranks)
        q = first + (at - ranks)[:, None] * (second - first)
        lo[start:start + _CHUNK], hi[start:start + _CHUNK] = from_logit(q, scatter.floor)
    return lo, hi


def _order_statistics(z: np.ndarray, r: np.ndarray, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``k``-th and ``k+1``-th smallest (0-based) of the sums ``z[p, b] + r[j]`` at each point
    ``p``, for each ``k`` in ``ranks``: arrays of shape (ranks, points). ``r`` is sorted.

    Bisection on the value: the count of sums at or below ``t`` is ``Σ_b #{r ≤ t − z_b}``, one
    binary search a draw; the smallest ``t`` whose count passes ``k`` is the ``k``-th sum. The next
    sum is that one again if it is tied, else the least sum above it (one more search).
    """
    z = -np.sort(-z, axis=1)  # draws descending, so each point's searches come in rising order
    need = ranks[:, None] + 1
    shape = (ranks.size, z.shape[0])
    lo = np.broadcast_to(np.nextafter(z.min(axis=1) + r[0], -np.inf), shape).copy()
    hi = np.broadcast_to(z.max(axis=1) + r[-1], shape).copy()
    for _ in range(80):  # each halving: one more bit; stops at a few units in the last place
        mid = 0.5 * (lo + hi)
        enough = np.searchsorted(r, mid[:, :, None] - z[None], side="right").sum(axis=2) >= need
        hi, lo = np.where(enough, mid, hi), np.where(enough, lo, mid)
        if (hi - lo <= 4 * np.spacing(np.abs(hi))).all():
            break
    below = np.searchsorted(r, hi[:, :, None] - z[None], side="right")
    above = np.where(below < r.size, z[None] + r[np.minimum(below, r.size - 1)], np.inf).min(axis=2)
    return hi, np.where(below.sum(axis=2) > need, hi, above)
