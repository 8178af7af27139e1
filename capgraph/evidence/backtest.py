"""Back-testing a fit: train on the small end, predict the large end, measure how wrong it was.

The rows with scale at or below a cutoff train the curve (with its bootstrap band); the rows above
it are held out. What comes back is how a forecaster would have fared: the mean absolute error on
the held-out scores, the share of them inside the 90% band of the fitted curve, and, given a
threshold, the predicted against the observed crossing scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from capgraph.core.errors import MapError, Problem
from capgraph.core.records import RecordsMixin, flatten
from capgraph.evidence.data import Table
from capgraph.evidence.expr import derive
from capgraph.evidence.fit import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_OPTIONS,
    DEFAULT_SEED,
    Fit,
    FitOptions,
    bootstrap,
    fit_curve,
    min_rows,
)

#: Slack when testing whether a score lies inside a band, for bands that collapse to a line.
_BAND_SLACK = 1e-9


@dataclass(frozen=True)
class Backtest(RecordsMixin):
    """The outcome of one back-test (the JSON object of ``capgraph backtest``)."""

    cutoff: float
    fit: Fit
    n_train: int
    n_test: int
    mae: float
    coverage: float
    threshold: float | None
    crossing_predicted: float | None
    crossing_observed: float | None

    @property
    def crossing_error_decades(self) -> float | None:
        """log10(predicted) − log10(observed): positive when the fit expected the crossing later."""
        if self.crossing_predicted is None or self.crossing_observed is None:
            return None
        return math.log10(self.crossing_predicted) - math.log10(self.crossing_observed)

    def to_json(self) -> dict[str, Any]:
        return {
            "mae": self.mae,
            "coverage": self.coverage,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "crossing_predicted": self.crossing_predicted,
            "crossing_observed": self.crossing_observed,
            "crossing_error_decades": self.crossing_error_decades,
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record (nested keys joined by _); ``to_frame()`` gives a DataFrame."""
        return [flatten(self.to_json())]


def backtest(x: np.ndarray, y: np.ndarray, cutoff: float, opts: FitOptions = DEFAULT_OPTIONS, *,
             threshold: float | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
             seed: int = DEFAULT_SEED) -> Backtest:
    """Fit on ``x <= cutoff``, test on ``x > cutoff`` (``x`` positive scales, ``y`` scores).

    Raises :class:`ValueError` when either side has too few rows, and
    :class:`~capgraph.fit.FitError` when the training fit fails.

    >>> from capgraph.kernels.curves import logistic
    >>> x = 10.0 ** np.arange(7, 12)
    >>> y = logistic(np.log10(x), 9.0, 2.0)
    >>> b = backtest(x, y, 1e9, n_bootstrap=0)
    >>> b.n_train, b.n_test, b.mae < 1e-6
    (3, 2, True)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    train, test = x <= cutoff, x > cutoff
    need = min_rows(opts)
    if train.sum() < need:
        raise ValueError(f"only {int(train.sum())} row(s) at or below the cutoff {cutoff:g}; "
                         f"a {opts.curve} fit needs at least {need}")
    if not test.any():
        raise ValueError(f"no rows above the cutoff {cutoff:g}: nothing to test on")
    lx = np.log10(x)
    fit = fit_curve(lx[train], y[train], opts)
    lx_test, y_test = lx[test], y[test]
    mae = float(np.mean(np.abs(fit(lx_test) - y_test)))
    if n_bootstrap > 0:
        boot = bootstrap(lx[train], y[train], fit, opts, n_bootstrap, seed)
        lo, hi = boot.band(opts.curve, lx_test)
    else:  # no band: only scores on the curve itself count as inside
        lo = hi = fit(lx_test)
    inside = (y_test >= lo - _BAND_SLACK) & (y_test <= hi + _BAND_SLACK)
    predicted = observed = None
    if threshold is not None:
        log_cross = fit.crossing(threshold)
        predicted = None if log_cross is None else float(10.0 ** log_cross)
        reached = x[test][y_test >= threshold]
        observed = float(reached.min()) if reached.size else None
    return Backtest(float(cutoff), fit, int(train.sum()), int(test.sum()), mae, float(inside.mean()),
                    threshold, predicted, observed)


def backtest_table(table: Table, x: str, y: str, cutoff: float, opts: FitOptions = DEFAULT_OPTIONS, *,
                   where: Mapping[str, Any] | None = None, threshold: float | None = None,
                   n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED) -> Backtest:
    """:func:`backtest` on the usable rows of a table; data problems raise :class:`MapError`."""
    rows, x = derive(table.where(where or {}), x)  # columns or expressions of columns
    rows, y = derive(rows, y)
    cols = rows.numeric(x, y, positive=[x])
    cols.require_fraction(y)
    try:
        return backtest(cols[x], cols[y], cutoff, opts, threshold=threshold, n_bootstrap=n_bootstrap,
                        seed=seed)
    except ValueError as exc:
        if type(exc) is not ValueError:  # FitError: let the caller say the fit failed
            raise
        raise MapError([Problem(table.path, 1, 1, f"{exc} ({cols.n_skipped} row(s) skipped)")]) from None
