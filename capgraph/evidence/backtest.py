"""Back-testing a fit: train on the small end, predict the large end, measure how wrong it was.

The rows with scale at or below a cutoff train the curve; the rows above it are held out. What comes
back is how a forecaster would have fared: the mean absolute error on the held-out scores, the share
of them inside the 90% band for new models (bootstrap curves plus the scatter of held-out
residuals, :mod:`capgraph.evidence.bands`), and, given a threshold, the predicted against the
observed crossing scale. :func:`backtest_rows` does the same on the capability axis or with family
offsets (:mod:`capgraph.evidence.forecast`), beside the compute-only baseline on the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from capgraph.core.errors import MapError, Problem
from capgraph.core.records import RecordsMixin, flatten
from capgraph.evidence import bands
from capgraph.evidence.bigbands import band_rows, counted_band
from capgraph.evidence.capability import CapabilityError
from capgraph.evidence.data import Table
from capgraph.evidence.expr import derive
from capgraph.evidence.fit import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_OPTIONS,
    DEFAULT_SEED,
    LARGE_TABLE,
    Fit,
    FitOptions,
    bootstrap,
    fit_curve,
    held_out_scatter,
    min_rows,
)
from capgraph.evidence.forecast import Rows, capability_columns, fit_forecast, read_rows

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
    axis: str = "compute"
    baseline: dict[str, float] | None = None  # the compute-only fit on the same rows: mae, coverage
    #: How a table of more than :data:`~capgraph.evidence.fit.LARGE_TABLE` rows was back-tested
    #: (None for a smaller one): ``{"rows", "bootstrap_rows", "scatter_rows", "band_rows",
    #: "band_scales"}``; the band and coverage rest on ``band_rows`` held-out rows at ``band_scales``
    #: distinct scales (all the held-out rows, or an even subsample of them).
    large_table: dict[str, int] | None = None

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
            **({"axis": self.axis, "baseline": dict(self.baseline)} if self.baseline is not None else {}),
            **({"large_table": dict(self.large_table)} if self.large_table is not None else {}),
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record (nested keys joined by _); ``to_frame()`` gives a DataFrame."""
        return [flatten(self.to_json())]


def check_threshold(threshold: float | None) -> None:
    """A back-test's threshold is a score strictly between 0 and 1 (or None: no crossing asked)."""
    if threshold is not None and not 0 < threshold < 1:
        raise ValueError("must lie strictly between 0 and 1")



def split(log_x: np.ndarray, cutoff: float, opts: FitOptions) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the rows at or below ``cutoff`` (to fit) and above it (to test).

    Raises ``ValueError`` when too few rows are left to fit ``opts``'s curve, or none to test.
    """
    log_cut = float(np.log10(cutoff))
    train, test = log_x <= log_cut, log_x > log_cut
    need = min_rows(opts)
    if train.sum() < need:
        raise ValueError(f"only {int(train.sum())} row(s) at or below the cutoff {cutoff:g}; "
                         f"a {opts.curve} fit needs at least {need}")
    if not test.any():
        raise ValueError(f"no rows above the cutoff {cutoff:g}: nothing to test on")
    return train, test


def backtest(x: np.ndarray, y: np.ndarray, cutoff: float, opts: FitOptions = DEFAULT_OPTIONS, *,
             threshold: float | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
             seed: int = DEFAULT_SEED, progress: Callable[[int], None] | None = None) -> Backtest:
    """Fit on ``x <= cutoff``, test on ``x > cutoff`` (``x`` positive scales, ``y`` scores).

    Raises :class:`ValueError` when either side has too few rows, and
    :class:`~capgraph.fit.FitError` when the training fit fails. ``progress(1)`` after each
    bootstrap refit. A table of more than :data:`~capgraph.evidence.fit.LARGE_TABLE` rows is fitted,
    bootstrapped and scattered as ``capgraph fit`` does it (:mod:`capgraph.evidence.bigtable`), and its
    band is computed once per distinct held-out scale (:mod:`capgraph.evidence.bigbands`); the error
    is over every held-out row.

    >>> from capgraph.kernels.curves import logistic
    >>> x = 10.0 ** np.arange(7, 12)
    >>> y = logistic(np.log10(x), 9.0, 2.0)
    >>> b = backtest(x, y, 1e9, n_bootstrap=0)
    >>> b.n_train, b.n_test, b.mae < 1e-6
    (3, 2, True)
    """
    check_threshold(threshold)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lx = np.log10(x)
    train, test = split(lx, cutoff, opts)
    fit = fit_curve(lx[train], y[train], opts)
    lx_test, y_test = lx[test], y[test]
    mae = float(np.mean(np.abs(fit(lx_test) - y_test)))
    large = x.size > LARGE_TABLE
    scored = band_rows(lx_test) if large else None
    at = scored.scales if large else lx_test  # a band depends on the scale alone
    boot = None
    if n_bootstrap > 0:
        boot = bootstrap(lx[train], y[train], fit, opts, n_bootstrap, seed, progress=progress)
        values = np.array([Fit(opts.curve, s, (), 0.0, 0)(at) for s in boot.samples])
    else:  # the point curve alone, widened by the scatter
        values = fit(at)[None, :]
    scatter = held_out_scatter(lx[train], y[train], fit, opts)
    if large:
        lo, hi = counted_band(values, scatter)
        inside = bands.inside(y_test[scored.rows], lo[scored.inverse], hi[scored.inverse], _BAND_SLACK)
    else:
        lo, hi = bands.predictive_band(values, scatter)
        inside = bands.inside(y_test, lo, hi, _BAND_SLACK)
    predicted = observed = None
    if threshold is not None:
        log_cross = fit.crossing(threshold)
        predicted = None if log_cross is None else float(10.0 ** log_cross)
        reached = x[test][y_test >= threshold]
        observed = float(reached.min()) if reached.size else None
    n_train = int(train.sum())
    how = None if not large else {
        "rows": int(x.size),
        "bootstrap_rows": (boot.resample or n_train) if boot is not None else 0,
        "scatter_rows": scatter.n + scatter.n_failed, "band_rows": int(scored.rows.size),
        "band_scales": int(scored.scales.size)}
    return Backtest(float(cutoff), fit, n_train, int(test.sum()), mae, float(inside.mean()),
                    threshold, predicted, observed, large_table=how)


def backtest_rows(rows: Rows, cutoff: float, opts: FitOptions = DEFAULT_OPTIONS, *,
                  use_capability: bool = False, use_family: bool = False,
                  threshold: float | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                  seed: int = DEFAULT_SEED, strict: bool = True,
                  progress: Callable[[int], None] | None = None) -> Backtest:
    """Back-test a forecast on :class:`Rows` (capability axis, family offsets, or compute alone).

    With the capability axis or family offsets, ``baseline`` holds the compute-only fit's error and
    coverage on the same rows, so the gain is plain. Crossings are read on the compute axis (for the
    reference family on the capability axis). ``progress(1)`` after each bootstrap refit (of both
    fits, when there is a baseline).
    """
    train_mask, test_mask = split(rows.log_x, cutoff, opts)
    train, test = rows.take(train_mask), rows.take(test_mask)

    def score(capability: bool, family: bool):
        f = fit_forecast(train, opts, use_capability=capability, use_family=family,
                         n_bootstrap=n_bootstrap, seed=seed, strict=strict, progress=progress)
        lo, hi = f.band(test)
        return f, float(np.mean(np.abs(f.predict(test) - test.y))), float(bands.inside(test.y, lo, hi).mean())

    forecast, mae, coverage = score(use_capability, use_family)
    baseline = None
    if use_capability or use_family:
        _, base_mae, base_cov = score(False, False)
        baseline = {"mae": base_mae, "coverage": base_cov}
    predicted = observed = None
    if threshold is not None:
        crossing = forecast.crossing(threshold)
        if crossing is not None and crossing.get("log10_x") is not None:
            predicted = float(10.0 ** crossing["log10_x"])
        reached = test.log_x[test.y >= threshold]
        observed = float(10.0 ** reached.min()) if reached.size else None
    return Backtest(float(cutoff), forecast.fit, len(train), len(test), mae, coverage, threshold,
                    predicted, observed, forecast.kind, baseline)


def backtest_table(table: Table, x: str, y: str, cutoff: float, opts: FitOptions = DEFAULT_OPTIONS, *,
                   where: Mapping[str, Any] | None = None, threshold: float | None = None,
                   n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
                   progress: Callable[[int], None] | None = None) -> Backtest:
    """:func:`backtest` on the usable rows of a table; data problems raise :class:`MapError`."""
    rows, x = derive(table.where(where or {}), x)  # columns or expressions of columns
    rows, y = derive(rows, y)
    cols = rows.numeric(x, y, positive=[x])
    cols.require_fraction(y)
    try:
        return backtest(cols[x], cols[y], cutoff, opts, threshold=threshold, n_bootstrap=n_bootstrap,
                        seed=seed, progress=progress)
    except ValueError as exc:
        if type(exc) is not ValueError:  # FitError: let the caller say the fit failed
            raise
        raise MapError([Problem(table.path, 1, 1, f"{exc} ({cols.n_skipped} row(s) skipped)")]) from None


def backtest_forecast_table(table: Table, x: str, y: str, cutoff: float,
                            opts: FitOptions = DEFAULT_OPTIONS, *, capability_cols=(),
                            family_column: str | None = None, where: Mapping[str, Any] | None = None,
                            threshold: float | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                            seed: int = DEFAULT_SEED, strict: bool = True,
                            progress: Callable[[int], None] | None = None) -> Backtest:
    """:func:`backtest_rows` on a table (capability columns without ``y`` itself)."""
    cols = capability_columns(capability_cols, y)
    rows = read_rows(table, x, y, capability_columns=cols, family_column=family_column, where=where)
    try:
        return backtest_rows(rows, cutoff, opts, use_capability=bool(cols),
                             use_family=family_column is not None and not cols, threshold=threshold,
                             n_bootstrap=n_bootstrap, seed=seed, strict=strict, progress=progress)
    except CapabilityError as exc:
        raise MapError([Problem(table.path, 1, 1, str(exc))]) from None
    except ValueError as exc:
        if type(exc) is not ValueError:  # FitError: let the caller say the fit failed
            raise
        raise MapError([Problem(table.path, 1, 1, f"{exc} ({rows.n_skipped} row(s) skipped)")]) from None
