"""Predictive bands: where a *new* model's score will fall, not only where the mean curve runs.

A bootstrap of the fitted curve (:func:`capgraph.evidence.fit.bootstrap`) says how uncertain the
mean curve is. A new model also scatters around that curve: its family, data and recipe move it off
the line. A 90% band meant to contain the next model's score needs both, so the band here is built
from draws ``logit(curve_b(x)) + r_j``: every bootstrap curve ``b`` combined with every residual
``r_j`` of held-out refits, in logit space, and its 5th and 95th percentiles mapped back to scores.

The residuals come from refits that did not see the row (jackknife+ in spirit): leave one row out,
or, when rows belong to model families, leave one whole *family* out, because models of one family
share their offset and a new model often comes from a family the fit has barely seen. In-sample
residuals would be too small (the fit has already bent towards each row).

Logit space is measured from the metric's floor to 1 (``u = (y − floor)/(1 − floor)``), clipped to
``[CLIP, 1 − CLIP]``: scores near the floor and near 1 scatter less in score units, and a band drawn
there can pass a fitted ceiling, which real models sometimes do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, logit

#: Scores are clipped to [CLIP, 1 − CLIP] of the range above the floor before the logit: a tenth of
#: a percent is below what a benchmark of a few hundred items resolves.
CLIP = 1e-3
#: Above this many rows, leave-one-out becomes this many folds (cross-validation+, Barber et al.
#: 2021): a refit per row of a million-row table would never end, and more folds add little.
MAX_FOLDS = 200
#: Cap on values held at once when combining curves with residuals (per chunk of points).
_CHUNK_VALUES = 4_000_000


def to_logit(y: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Scores as logits of their position between ``floor`` and 1.

    >>> float(to_logit(np.array(0.625), 0.25))
    0.0
    """
    u = (np.asarray(y, dtype=float) - floor) / (1.0 - floor)
    return logit(np.clip(u, CLIP, 1.0 - CLIP))


def from_logit(z: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Inverse of :func:`to_logit` (inside the clip)."""
    return floor + (1.0 - floor) * expit(z)


@dataclass(frozen=True)
class Scatter:
    """Logit residuals of rows scored by refits that left them (or their family) out."""

    residuals: np.ndarray
    method: str  # "leave-one-out", "leave-one-family-out" or "200-fold"
    floor: float
    n_failed: int = 0  # held-out refits that did not converge (their rows are not in residuals)

    @property
    def n(self) -> int:
        return int(self.residuals.size)

    def quantiles(self) -> dict[str, float]:
        """p5, p50, p95 of the residuals (logits)."""
        qs = np.percentile(self.residuals, [5, 50, 95]) if self.n else np.zeros(3)
        return {"p5": float(qs[0]), "p50": float(qs[1]), "p95": float(qs[2])}

    def to_json(self) -> dict[str, Any]:
        """``{"method", "n", "n_failed", "sd_logit", "logit": {"p5", "p50", "p95"}}``."""
        sd = float(np.std(self.residuals)) if self.n else 0.0
        return {"method": self.method, "n": self.n, "n_failed": self.n_failed, "sd_logit": sd,
                "logit": self.quantiles()}


def held_out_residuals(x: np.ndarray, y: np.ndarray, refit, floor: float,
                       groups: np.ndarray | None = None) -> Scatter:
    """Residuals of each row (or group of rows) under a refit without it.

    ``refit(mask)`` fits on the rows where ``mask`` is true and returns a callable curve of ``x``, or
    None when the refit fails (counted in ``n_failed``). ``groups`` (one label a row) switches from
    leave-one-row-out to leave-one-group-out. Past :data:`MAX_FOLDS` rows, rows are dealt into that
    many folds in order of ``x`` (so each fold spans the data) and each fold is left out in turn.

    >>> x = np.arange(500.0)
    >>> s = held_out_residuals(x, np.full(500, 0.5), lambda m: (lambda v: np.full(v.shape, 0.5)), 0.0)
    >>> s.method, s.n
    ('200-fold', 500)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if groups is not None:
        labels = np.asarray(groups)
    elif x.size > MAX_FOLDS:
        labels = np.argsort(np.argsort(x, kind="stable"), kind="stable") % MAX_FOLDS
    else:
        labels = np.arange(x.size)
    residuals, failed = [], 0
    for label in _unique_in_order(labels):
        out = labels == label
        if out.all():  # one group holds every row: nothing left to fit on
            failed += int(out.sum())
            continue
        curve = refit(~out)
        if curve is None:
            failed += int(out.sum())
            continue
        residuals.append(to_logit(y[out], floor) - to_logit(curve(x[out]), floor))
    values = np.concatenate(residuals) if residuals else np.zeros(0)
    if groups is not None:
        method = "leave-one-family-out"
    else:
        method = "leave-one-out" if x.size <= MAX_FOLDS else f"{MAX_FOLDS}-fold"
    return Scatter(values, method, float(floor), failed)


def _unique_in_order(labels: np.ndarray) -> list:
    seen: dict = {}
    for label in labels.tolist():
        seen.setdefault(label, None)
    return list(seen)


def predictive_band(curve_values: np.ndarray, scatter: Scatter | None,
                    level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Band for new observations from curve draws (``(draws, points)``) plus the scatter.

    Without a scatter (or with an empty one) this is the percentile band of the curves alone.
    """
    values = np.atleast_2d(np.asarray(curve_values, dtype=float))
    tail = 50 * (1 - level)
    if scatter is None or scatter.n == 0:
        lo, hi = np.percentile(values, [tail, 100 - tail], axis=0)
        return lo, hi
    z = to_logit(values, scatter.floor)
    r = scatter.residuals
    per_point = z.shape[0] * r.size
    step = max(1, _CHUNK_VALUES // per_point)
    lo, hi = np.empty(z.shape[1]), np.empty(z.shape[1])
    for start in range(0, z.shape[1], step):
        block = z[:, start:start + step]
        draws = (block[:, :, None] + r[None, None, :]).transpose(1, 0, 2).reshape(block.shape[1], -1)
        q = np.percentile(draws, [tail, 100 - tail], axis=1)
        lo[start:start + step], hi[start:start + step] = from_logit(q, scatter.floor)
    return lo, hi


def inside(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, slack: float = 1e-9) -> np.ndarray:
    """Which scores lie in their band (with a hair of slack for bands that collapse to a line)."""
    return (y >= lo - slack) & (y <= hi + slack)


def widen_midpoint(log_mid: float, slope: float, interval: tuple[float, float] | None,
                   scatter_logits: tuple[float, float]) -> tuple[float, float]:
    """A logistic midpoint's 90% range (log10) for *some* model rather than the typical one.

    A model ``r`` logits above the curve crosses ``r/slope`` decades earlier, so the scatter's p95
    (``scatter_logits[1]``) moves the early end and its p5 the late end; with a bootstrap
    ``interval`` (log10 ends) the two half-widths on each side add in quadrature.

    >>> widen_midpoint(10.0, 2.0, None, (-1.0, 1.0))
    (9.5, 10.5)
    """
    below = max(0.0, scatter_logits[1] / slope)
    above = max(0.0, -scatter_logits[0] / slope)
    if interval is not None:
        below = float(np.hypot(below, log_mid - interval[0]))
        above = float(np.hypot(above, interval[1] - log_mid))
    return log_mid - below, log_mid + above
