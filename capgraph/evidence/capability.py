"""The capability axis: one general-capability score from cheap benchmarks (observational scaling).

Following Ruan, Maddison & Hashimoto (2024), a few widely reported benchmark scores are standardised
on the training models and reduced to their first principal component ``S``, signed to rise with
compute. A downstream score is then a logistic in ``S`` rather than in log10 compute: the score
absorbs what compute misses (family, data, recipe).

Missing cells are set to the training mean of their column (a standardised 0), so a model missing
one benchmark still gets a score from the others; how many cells were filled is counted. A row with
every capability column missing gets no score.

To still answer "at which scale", ``S`` is linked to compute per family, ``S = w·log10 C + b_f``:
one slope ``w`` (fitted within families when families are given, so differences between families
do not bend it) and family intercepts shrunk toward their mean (:mod:`capgraph.evidence.family`).
A crossing at score ``S*`` is reached at ``log10 C = (S* − b_f)/w`` for family ``f``, and
``(b_f − b̄)/w`` is that family's compute efficiency in decades.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from capgraph.evidence.family import Offsets, shrink


class CapabilityError(ValueError):
    """The capability columns cannot give a score (a constant column, too few rows)."""


@dataclass(frozen=True)
class Axis:
    """First principal component of standardised benchmark columns, fitted on training rows."""

    columns: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray
    loading: np.ndarray  # unit vector, signed so that the score rises with compute
    explained: float  # share of the standardised variance the component carries
    n_filled: int  # training cells that were missing and set to the column mean

    def score(self, X: np.ndarray) -> np.ndarray:
        """Scores of rows ``X`` (one column per :attr:`columns`, NaN where missing)."""
        z = (np.asarray(X, dtype=float) - self.mean) / self.sd
        z = np.where(np.isnan(z), 0.0, z)
        return z @ self.loading

    def to_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns),
                "loadings": {c: float(v) for c, v in zip(self.columns, self.loading, strict=True)},
                "explained": self.explained, "n_filled": self.n_filled}


def fit_axis(columns: tuple[str, ...], X: np.ndarray, log_c: np.ndarray | None = None) -> Axis:
    """The first principal component of the training rows ``X`` (NaN = missing).

    The sign makes the score rise with ``log_c`` when given, else with the column average.

    >>> X = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.7]])
    >>> a = fit_axis(("a", "b"), X, np.array([20.0, 21.0, 22.0]))
    >>> bool(np.all(np.diff(a.score(X)) > 0)), round(a.explained, 3)
    (True, 0.997)
    """
    X = np.asarray(X, dtype=float)
    if X.shape[0] < 3:
        raise CapabilityError(f"only {X.shape[0]} training row(s) with a capability score; "
                              "the principal component needs at least 3")
    mean = np.nanmean(X, axis=0)
    sd = np.nanstd(X, axis=0)
    flat = [c for c, s in zip(columns, sd, strict=True) if not s > 0]
    if flat:
        raise CapabilityError(f"capability column(s) {', '.join(flat)} do not vary over the "
                              "training rows")
    z = (X - mean) / sd
    missing = np.isnan(z)
    z = np.where(missing, 0.0, z)
    _, singular, vt = np.linalg.svd(z, full_matrices=False)
    loading = vt[0]
    score = z @ loading
    trend = log_c if log_c is not None and np.std(log_c) > 0 else z.mean(axis=1)
    if np.sum((score - score.mean()) * (trend - trend.mean())) < 0:
        loading = -loading
    explained = float(singular[0] ** 2 / np.sum(singular ** 2))
    return Axis(tuple(columns), mean, sd, loading, explained, int(missing.sum()))


@dataclass(frozen=True)
class Link:
    """``S = w·log10 C + b_f``: a shared slope and shrunk family intercepts."""

    slope: float
    intercept: float  # the mean family intercept: the reference ("typical") family
    families: Offsets | None  # offsets here are intercepts − intercept, in score units

    def intercept_of(self, family: str | None) -> float:
        if family is None or self.families is None:
            return self.intercept
        return self.intercept + self.families.offsets.get(str(family), 0.0)

    def log_compute(self, score: float, family: str | None = None) -> float:
        """log10 compute at which a model of ``family`` (None: the reference) reaches ``score``."""
        return (score - self.intercept_of(family)) / self.slope

    def efficiency_decades(self) -> dict[str, float]:
        """Each family's compute efficiency: decades ahead of the reference family."""
        if self.families is None:
            return {}
        return {n: v / self.slope for n, v in self.families.offsets.items()}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"slope": self.slope, "intercept": self.intercept}
        if self.families is not None:
            out["efficiency_decades"] = self.efficiency_decades()
        return out


def fit_link(score: np.ndarray, log_c: np.ndarray, families: np.ndarray | None = None) -> Link:
    """Fit ``S = w·log10 C + b_f`` (families: one label a row, or None for one intercept).

    >>> lc = np.array([20.0, 21, 22, 20, 21, 22])
    >>> s = 0.5 * lc + np.array([0, 0, 0, 1, 1, 1])
    >>> link = fit_link(s, lc, np.array(list("aaabbb")))
    >>> round(link.slope, 6), round(link.efficiency_decades()["b"] - link.efficiency_decades()["a"], 3)
    (0.5, 2.0)
    """
    score, log_c = np.asarray(score, dtype=float), np.asarray(log_c, dtype=float)
    if families is None:
        w = _slope(log_c - log_c.mean(), score - score.mean())
        return Link(w, float(np.mean(score - w * log_c)), None)
    labels = np.asarray([str(f) for f in families])
    dx, ds = log_c.copy(), score.copy()
    for name in set(labels.tolist()):
        m = labels == name
        dx[m] -= log_c[m].mean()
        ds[m] -= score[m].mean()
    if not np.any(dx != 0):  # no family has two sizes: the slope can only come from across families
        w = _slope(log_c - log_c.mean(), score - score.mean())
    else:
        w = _slope(dx, ds)
    resid = score - w * log_c
    centre = float(np.mean([resid[labels == n].mean() for n in sorted(set(labels.tolist()))]))
    return Link(w, centre, shrink(resid, labels, centre))


def _slope(dx: np.ndarray, dy: np.ndarray) -> float:
    denom = float(np.sum(dx * dx))
    if not denom > 0:
        raise CapabilityError("the training rows span no range of compute: the score cannot be "
                              "linked to compute")
    w = float(np.sum(dx * dy) / denom)
    if not w > 0:
        raise CapabilityError("the capability score does not rise with compute within families")
    return w
