"""The metric mirage, measured: an exact-match curve beside the per-step curve it is made of.

An exact-match score over answers of L tokens (or steps) is p^L when each token is right with
probability p (Schaeffer, Miranda & Koyejo 2023), so the per-step success is p = score^(1/L). The
per-step curve is fitted once, to score^(1/L); the exact-match curve is *derived* from it as its L-th
power, not fitted separately (a logistic fitted straight to p^L data puts its 0.5 crossing in the
wrong place, because p^L of a logistic or power law is not a logistic). Sharpness (decades from 10%
to 90% of the rise) and the 0.5 crossing come from those two curves. Two errors say whether p^L
describes the data: the per-step fit's RMSE, and the RMSE of the derived p^L against the scores,
shown beside a logistic fitted straight to the scores for reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from capgraph.core.errors import MapError, Problem
from capgraph.core.records import RecordsMixin, flatten
from capgraph.evidence.data import Table
from capgraph.evidence.expr import derive
from capgraph.evidence.fit import DEFAULT_OPTIONS, Fit, FitError, FitOptions, fit_curve, min_rows
from capgraph.kernels import lenses


@dataclass(frozen=True)
class View:
    """One curve of the comparison: the fit, its sharpness and where it crosses 0.5."""

    fit: Fit

    @property
    def sharpness_decades(self) -> float:
        return self.fit.sharpness_decades

    @property
    def half_scale(self) -> float | None:
        """The scale where the fitted curve reaches 0.5; None if it never does."""
        log_x = self.fit.crossing(0.5)
        return None if log_x is None else float(10.0 ** log_x)

    def to_json(self) -> dict[str, Any]:
        return {"curve": self.fit.curve_json(), "sharpness_decades": self.sharpness_decades,
                "half_scale": self.half_scale}


@dataclass(frozen=True)
class Power:
    """The exact-match curve derived from a per-step fit: its L-th power."""

    fit: Fit  # the per-step curve
    length: float
    rmse: float  # of p(x)^L against the observed scores

    def crossing(self, level: float) -> float | None:
        """log10 of the scale where p^L reaches ``level``."""
        return self.fit.crossing(level ** (1.0 / self.length))

    @property
    def half_scale(self) -> float | None:
        log_x = self.crossing(0.5)
        return None if log_x is None else float(10.0 ** log_x)

    @property
    def sharpness_decades(self) -> float:
        """Decades from 10% to 90% of the rise of p^L (from floor^L to ceiling^L)."""
        p = self.fit.params
        low, high = p.get("floor", 0.0) ** self.length, p.get("ceiling", 1.0) ** self.length
        ends = [self.crossing(low + q * (high - low)) for q in (0.1, 0.9)]
        return float("nan") if None in ends else ends[1] - ends[0]

    def to_json(self) -> dict[str, Any]:
        return {"of_per_step": self.length, "sharpness_decades": self.sharpness_decades,
                "half_scale": self.half_scale, "rmse": self.rmse}


@dataclass(frozen=True)
class Mirage(RecordsMixin):
    """The per-step curve, the exact-match curve derived from it, and a direct fit (``capgraph lens``)."""

    length: float
    observed: View  # a logistic (or power law) fitted straight to the exact-match scores
    per_step: View
    n_used: int
    n_skipped: int = 0
    n_zero: int = 0  # rows with score 0, left out of the per-step fit
    exact_match: Power | None = None

    @property
    def sharpness_ratio(self) -> float:
        """How many times sharper exact match (p^L) is than the per-step curve (>1: a mirage)."""
        em = self.exact_match.sharpness_decades if self.exact_match else self.observed.sharpness_decades
        return self.per_step.sharpness_decades / em

    def to_json(self) -> dict[str, Any]:
        out = {"observed": {**self.observed.to_json(), "rmse": self.observed.fit.rmse},
               "per_step": {**self.per_step.to_json(), "rmse": self.per_step.fit.rmse}}
        if self.exact_match is not None:
            out["exact_match"] = self.exact_match.to_json()
        return out

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record (nested keys joined by _); ``to_frame()`` gives a DataFrame."""
        return [flatten(self.to_json())]


def check_length(length: float) -> None:
    """An answer length L must be positive."""
    if not length > 0:
        raise ValueError(f"length must be positive, got {length:g}")


def per_step(score: np.ndarray, length: float) -> np.ndarray:
    """Per-step success p = score^(1/L) from an exact-match score over L steps.

    >>> per_step(np.array([0.5 ** 10]), 10)
    array([0.5])
    """
    check_length(length)
    return np.power(np.asarray(score, dtype=float), 1.0 / length)


def lens(x: np.ndarray, score: np.ndarray, length: float, opts: FitOptions = DEFAULT_OPTIONS,
         n_skipped: int = 0) -> Mirage:
    """Fit the exact-match ``score`` and its per-step ``score^(1/L)`` against log10 ``x``."""
    lx = np.log10(np.asarray(x, dtype=float))
    score = np.asarray(score, dtype=float)
    observed = fit_curve(lx, score, opts)
    # A score of exactly 0 bounds p (p^L below one item in n) but does not estimate it: 0^(1/L)
    # would claim p = 0. The per-step fit uses the rows with a positive score.
    seen = score > 0
    if seen.sum() < min_rows(opts):
        raise FitError(f"only {int(seen.sum())} row(s) with a positive score; the per-step fit needs "
                       f"at least {min_rows(opts)}")
    # the per-step curve p is fitted once, through the lens: p(x)^L against the scores (rows with
    # score 0 count here: they say p^L is small); its per-step error is read on score^(1/L)
    step = fit_curve(lx, score, opts, through=lambda p: lenses.exact_match(p, length))
    step_rmse = float(np.sqrt(np.mean((step(lx[seen]) - per_step(score[seen], length)) ** 2)))
    step = replace(step, rmse=step_rmse)
    return Mirage(float(length), View(observed), View(step), int(lx.size), n_skipped,
                  int((~seen).sum()), Power(step, float(length), _rmse(step, lx, score, length)))


def _rmse(step: Fit, lx: np.ndarray, score: np.ndarray, length: float) -> float:
    return float(np.sqrt(np.mean((lenses.exact_match(step(lx), length) - score) ** 2)))


def lens_table(table: Table, x: str, y: str, length: float, opts: FitOptions = DEFAULT_OPTIONS, *,
               where: Mapping[str, Any] | None = None) -> Mirage:
    """:func:`lens` on the usable rows of a table; data problems raise :class:`MapError`."""
    rows, x = derive(table.where(where or {}), x)  # columns or expressions of columns
    rows, y = derive(rows, y)
    cols = rows.numeric(x, y, positive=[x])
    cols.require_fraction(y)
    if cols.n_used < min_rows(opts):
        raise MapError([Problem(table.path, 1, 1, f"only {cols.n_used} usable row(s) "
                                f"({cols.n_skipped} skipped); a {opts.curve} fit needs at least "
                                f"{min_rows(opts)}")])
    return lens(cols[x], cols[y], length, opts, cols.n_skipped)
