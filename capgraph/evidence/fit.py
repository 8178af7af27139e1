"""Fitting skill curves to evaluation results: pure kernels over arrays, and a bootstrap over rows.

Curves are fitted in log10 of scale, the space the map's curves live in, by bounded least squares
(:func:`scipy.optimize.least_squares`, trust-region reflective) from a grid of starting points, so
that a bad first guess cannot trap the fit in a flat region of the sigmoid. A fit that does not
converge, or whose best solution sits on a parameter bound (the data do not pin the curve down:
no rise, a rise sharper than the spacing of the points, a midpoint far outside the data), raises
:class:`FitError` instead of returning numbers that look fine.

Intervals come from a bootstrap over rows with a fixed seed, so the same data give the same output.

A table of more than :data:`LARGE_TABLE` rows (a million per-item results) is fitted through the mean
score at each distinct scale, which gives the same least-squares answer
(:mod:`capgraph.evidence.bigtable`); its bootstrap draws counts of the distinct rows, the same
bootstrap, or, past :data:`RESAMPLE_ROWS` distinct rows, refits on that many rows drawn from the
table and scales their spread around the point fit by sqrt(drawn / rows) (the m-out-of-n bootstrap).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from capgraph.core.defaults import DEFAULT_BOOTSTRAP, DEFAULT_CURVE, DEFAULT_SEED
from capgraph.core.records import to_frame
from capgraph.evidence.bands import Scatter, held_out_residuals
from capgraph.evidence.bigtable import Counted, per_scale, spread_sample
from capgraph.kernels.curves import FAMILIES

#: The fittable curve families (those with fitting hooks).
CURVES = tuple(name for name, family in FAMILIES.items() if family.fit is not None)

#: Step of the numerical derivative of a lens (in p) when fitting through it.
_H = 1e-7
#: Relative distance from a bound at which a parameter counts as stuck on it.
_AT_BOUND = 1e-4
#: Tables of more rows than this are fitted through their mean score per distinct scale (the same
#: least-squares answer, at the cost of the scales, not the rows). Every results table capgraph has
#: met is far smaller, and is fitted row by row as it always was.
LARGE_TABLE = 5_000
#: A large table with more distinct rows than this is bootstrapped m-out-of-n: each refit on this
#: many rows drawn with replacement, its deviation from the point fit (in fit space) scaled by
#: sqrt(RESAMPLE_ROWS / rows), the spread a refit on all rows would have for an estimator that is
#: asymptotically normal, as a least-squares curve fit is. Held-out scatter uses as many rows.
RESAMPLE_ROWS = 5_000


class FitError(ValueError):
    """The data cannot give a trustworthy curve (too few rows, no convergence, a stuck parameter)."""


@dataclass(frozen=True)
class FitOptions:
    """What to fit: the curve family, a fixed floor, and a fixed ceiling or ``None`` (fit it)."""

    curve: str = DEFAULT_CURVE
    floor: float = 0.0
    ceiling: float | None = 1.0

    def __post_init__(self) -> None:
        if self.curve not in CURVES:
            raise ValueError(f"unknown curve {self.curve!r}; use one of {', '.join(CURVES)}")
        if not 0 <= self.floor < 1:
            raise ValueError(f"floor must lie in [0, 1), got {self.floor:g}")
        if self.ceiling is not None and not self.floor < self.ceiling <= 1:
            raise ValueError(f"ceiling must lie in ({self.floor:g}, 1], got {self.ceiling:g}")
        bounded = [n for n in CURVES if {"floor", "ceiling"} <= set(FAMILIES[n].names)]
        if self.curve not in bounded and (self.floor != 0 or self.ceiling != 1):
            raise ValueError(f"floor and ceiling apply to {' or '.join(bounded)} curves only: a map's "
                             f"{self.curve} runs from 0 to 1")

    @property
    def family(self):
        return FAMILIES[self.curve]

    @property
    def fixed(self) -> dict[str, float]:
        """The family's parameters held fixed: a logistic's floor, and its ceiling unless fitted."""
        options = {"floor": self.floor, "ceiling": self.ceiling}
        return {k: v for k, v in options.items() if v is not None and k in self.family.names}

    @property
    def free(self) -> tuple[str, ...]:
        """Names of the fitted parameters, in the order of the internal vector."""
        hooks = self.family.fit
        return hooks.free + tuple(n for n in hooks.optional if n not in self.fixed)

    def key(self) -> dict[str, Any]:
        """A JSON-able description, part of a cache key."""
        return {"curve": self.curve, "floor": self.floor, "ceiling": self.ceiling}


DEFAULT_OPTIONS = FitOptions()


def parse_ceiling(text: str) -> float | None:
    """A ceiling as people write it: a number, or ``free`` (fit it: None).

    >>> parse_ceiling("0.9"), parse_ceiling(" Free ")
    (0.9, None)
    """
    if text.strip().lower() == "free":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"expected a number or 'free', got {text!r}")
    return value


# --- the model, internally: theta holds the free parameters' kernel arguments (log10 of scales) ---


def _args(theta: np.ndarray, opts: FitOptions) -> dict[str, Any]:
    """Kernel arguments: the free ones from theta, the fixed ones from the options."""
    fixed, free = opts.fixed, opts.free
    return {p.arg: theta[free.index(p.name)] if p.name in free
            else (math.log10(fixed[p.name]) if p.log else fixed[p.name]) for p in opts.family.params}


def _model(theta: np.ndarray, log_x: np.ndarray, opts: FitOptions) -> np.ndarray:
    return opts.family.kernel(log_x, **_args(theta, opts))


def _jacobian(theta: np.ndarray, log_x: np.ndarray, opts: FitOptions) -> np.ndarray:
    return opts.family.fit.jacobian(theta, log_x, opts.fixed)


def _bounds(log_x: np.ndarray, opts: FitOptions) -> tuple[np.ndarray, np.ndarray]:
    return opts.family.fit.bounds(log_x, opts.fixed)


def _starts(log_x: np.ndarray, y: np.ndarray, opts: FitOptions) -> list[np.ndarray]:
    """A grid of starting points across and beyond the data (midpoints × slopes (× ceilings))."""
    return opts.family.fit.starts(log_x, y, opts.fixed)


# --- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """A fitted curve: its parameters as a map writes them, and how well it fits."""

    curve: str
    params: dict[str, float]  # every parameter of the family, as a map writes it, in its order
    free: tuple[str, ...]
    rmse: float
    n_used: int
    at_bound: str = ""  # why a lenient fit (``strict=False``) is not pinned down; "" when it is

    @property
    def theta(self) -> np.ndarray:
        """The internal parameter vector (log10 of midpoint or scale first)."""
        family = FAMILIES[self.curve]
        args = family.args(self.params)
        return np.array([args[family.param(name).arg] for name in self.free])

    def __call__(self, log_x: np.ndarray | float) -> np.ndarray:
        """The fitted curve's value at log10 scales."""
        family = FAMILIES[self.curve]
        return family.kernel(np.asarray(log_x, float), **family.args(self.params))

    def crossing(self, level: float) -> float | None:
        """log10 of the scale where the curve reaches ``level``; None if it never does."""
        return _crossing(self.curve, self.params, level)

    @property
    def sharpness_decades(self) -> float:
        """Decades from 10% to 90% of the curve's rise (floor to ceiling)."""
        family = FAMILIES[self.curve]
        return family.sharpness(family.args(self.params))

    def curve_json(self) -> dict[str, dict[str, float]]:
        """The fit as a map's ``curve:`` value, ``{"logistic": {"midpoint": ..., ...}}``."""
        return {self.curve: dict(self.params)}


def _crossing(curve: str, params: Mapping[str, float], level: float) -> float | None:
    family = FAMILIES[curve]
    value = family.crossing(level, family.args(params))
    return None if math.isnan(value) else value


def _params(theta: np.ndarray, opts: FitOptions) -> dict[str, float]:
    """Parameters as a map writes them: 10^theta for the log ones, the fixed ones from the options."""
    out = {}
    for p in opts.family.params:
        if p.name in opts.free:
            value = theta[opts.free.index(p.name)]
            out[p.name] = float(10.0 ** value) if p.log else float(value)
        else:
            out[p.name] = float(opts.fixed[p.name])
    return out


def min_rows(opts: FitOptions) -> int:
    """Fewest usable rows a fit accepts: one more than it has free parameters."""
    return len(opts.free) + 1


def _solve(log_x: np.ndarray, y: np.ndarray, opts: FitOptions,
           starts: list[np.ndarray], w: np.ndarray | None = None,
           strict: bool = True, through: Callable | None = None) -> tuple[np.ndarray | None, str]:
    """Best converged solution over the starts, or None with the reason none is trustworthy.

    ``w`` weighs each row's residual (1 / its standard error); None weighs every row alike. With
    ``strict`` off, a solution on a bound is returned with the reason beside it. ``through`` (a
    metric lens, increasing in p) makes the residual ``through(curve) − y``: the curve is the
    underlying success probability, fitted in the space of the scores.
    """
    lower, upper = _bounds(log_x, opts)
    w = np.ones_like(y) if w is None else w
    lens = through or (lambda p: p)

    def jac(t):
        base = _jacobian(t, log_x, opts) * w[:, None]
        if through is None:
            return base
        p = np.clip(_model(t, log_x, opts), _H, 1 - _H)  # chain rule, the lens's slope numerically
        return base * ((lens(p + _H) - lens(p - _H)) / (2 * _H))[:, None]

    best, best_cost = None, math.inf
    for start in starts:
        x0 = np.clip(start, lower + 1e-9, upper - 1e-9)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            result = least_squares(
                lambda t: (lens(_model(t, log_x, opts)) - y) * w, x0,
                jac=jac, bounds=(lower, upper),
                method="trf", xtol=1e-10, ftol=1e-12, gtol=1e-10, max_nfev=400,
            )
        if result.status > 0 and np.isfinite(result.cost) and result.cost < best_cost:
            best, best_cost = result.x, result.cost
    if best is None:
        return None, "the optimiser did not converge from any starting point"
    span = upper - lower
    stuck = opts.family.fit.stuck
    for i, name in enumerate(opts.free):
        if name not in stuck:  # e.g. a ceiling of 1 is a real answer, not a failure
            continue
        if best[i] - lower[i] < _AT_BOUND * span[i] or upper[i] - best[i] < _AT_BOUND * span[i]:
            return (None if strict else best), stuck[name]
    return best, ""


def fit_curve(log_x: np.ndarray, y: np.ndarray, opts: FitOptions = DEFAULT_OPTIONS,
              sigma: np.ndarray | None = None, *, strict: bool = True,
              through: Callable | None = None) -> Fit:
    """Fit a curve to scores ``y`` at log10 scales ``log_x``; raise :class:`FitError` if it fails.

    With ``sigma`` (each score's standard error, positive) the fit minimises the sum of squared
    residuals over sigma², so better-measured scores count more; the reported RMSE stays unweighted.
    With ``strict`` off (forecasting back-tests, which must predict something for every task), a
    best fit with a parameter on its bound is returned, the reason in :attr:`Fit.at_bound`. With
    ``through`` (a lens: scores = through(p)) the curve is p, fitted so that through(p) matches ``y``;
    its RMSE is then in score units.

    >>> lx = np.linspace(8, 12, 9)
    >>> f = fit_curve(lx, FAMILIES['logistic'].kernel(lx, 10.0, 1.5))
    >>> f"{f.params['midpoint']:.4g}", round(f.params['slope'], 4), f.rmse < 1e-8
    ('1e+10', 1.5, True)
    """
    log_x, y = np.asarray(log_x, dtype=float), np.asarray(y, dtype=float)
    need = min_rows(opts)
    if log_x.size < need:
        raise FitError(f"only {log_x.size} usable row(s); a {opts.curve} fit needs at least {need}")
    if np.unique(log_x).size < len(opts.free):
        raise FitError(f"only {np.unique(log_x).size} distinct scale(s); a {opts.curve} fit needs "
                       f"at least {len(opts.free)}")
    w = None if sigma is None else 1.0 / np.asarray(sigma, dtype=float)
    if log_x.size > LARGE_TABLE:
        return _fit_large(log_x, y, w, opts, strict, through)
    theta, why = _solve(log_x, y, opts, _starts(log_x, y, opts), w, strict, through)
    if theta is None:
        raise FitError(f"the {opts.curve} fit did not converge: {why}")
    return _make_fit(theta, log_x, y, opts, why, through)


def _fit_large(log_x: np.ndarray, y: np.ndarray, w: np.ndarray | None, opts: FitOptions, strict: bool,
               through: Callable | None) -> Fit:
    """:func:`fit_curve` through the mean score at each distinct scale, weighed by its rows.

    With more scales than :data:`RESAMPLE_ROWS` (every row its own scale), the grid of starts runs
    on that many scales spread over the range, and only the best is refined on all of them.
    """
    sx, sy, sw = per_scale(log_x, y, w)
    starts = _starts(sx, sy, opts)
    if sx.size > RESAMPLE_ROWS:
        pick = spread_sample(sx, RESAMPLE_ROWS)
        best, _ = _solve(sx[pick], sy[pick], opts, starts, sw[pick], False, through)
        starts = starts if best is None else [best]
    theta, why = _solve(sx, sy, opts, starts, sw, strict, through)
    if theta is None:
        raise FitError(f"the {opts.curve} fit did not converge: {why}")
    return _make_fit(theta, log_x, y, opts, why, through)  # RMSE and rows: over the rows themselves


def _make_fit(theta: np.ndarray, log_x: np.ndarray, y: np.ndarray, opts: FitOptions,
              at_bound: str = "", through: Callable | None = None) -> Fit:
    fitted = _model(theta, log_x, opts)
    rmse = float(np.sqrt(np.mean(((through(fitted) if through else fitted) - y) ** 2)))
    return Fit(opts.curve, _params(theta, opts), opts.free, rmse, int(log_x.size), at_bound)


def refit(log_x: np.ndarray, y: np.ndarray, opts: FitOptions, start: Fit, *,
          strict: bool = True) -> Fit | None:
    """Refit from one start (a fit of nearby data): fast, for held-out refits; None if it fails."""
    log_x, y = np.asarray(log_x, dtype=float), np.asarray(y, dtype=float)
    if log_x.size < min_rows(opts) or np.unique(log_x).size < len(opts.free):
        return None
    theta, why = _solve(log_x, y, opts, [start.theta], strict=strict)
    return None if theta is None else _make_fit(theta, log_x, y, opts, why)


# --- bootstrap -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bootstrap:
    """Refits on resampled rows: one parameter dict a successful resample, and the failures."""

    samples: tuple[dict[str, float], ...]
    n_failed: int
    #: Rows drawn for each refit when fewer than the table's (the m-out-of-n bootstrap, spread
    #: scaled to the table; see :data:`RESAMPLE_ROWS`); 0 when every resample is as large as the table.
    resample: int = 0

    def interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        """Central ``level`` percentile interval of one parameter (5th and 95th for 0.9)."""
        tail = 50 * (1 - level)
        values = np.array([s[name] for s in self.samples])
        lo, hi = np.percentile(values, [tail, 100 - tail])
        return float(lo), float(hi)

    def band(self, curve: str, log_x: np.ndarray, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise percentile band of the resampled curves at ``log_x``."""
        tail = 50 * (1 - level)
        values = np.array([Fit(curve, s, (), 0.0, 0)(log_x) for s in self.samples])
        lo, hi = np.percentile(values, [tail, 100 - tail], axis=0)
        return lo, hi


def bootstrap(log_x: np.ndarray, y: np.ndarray, fit: Fit, opts: FitOptions,
              n: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
              sigma: np.ndarray | None = None, *, strict: bool = True,
              through: Callable | None = None,
              progress: Callable[[int], None] | None = None) -> Bootstrap:
    """Refit ``n`` resamples of the rows (drawn with replacement, seeded), each from the point fit.

    A resample whose fit fails (too few distinct scales, a parameter stuck on a bound) is counted
    in ``n_failed`` rather than silently replaced; at least one must succeed. ``progress(1)`` is
    called after each refit. A table of more than :data:`LARGE_TABLE` rows is resampled as counts
    of its distinct rows, or m-out-of-n past :data:`RESAMPLE_ROWS` of them (see the module docstring).
    """
    log_x, y = np.asarray(log_x, dtype=float), np.asarray(y, dtype=float)
    w = None if sigma is None else 1.0 / np.asarray(sigma, dtype=float)
    if log_x.size > LARGE_TABLE:
        return _bootstrap_large(log_x, y, w, fit, opts, n, seed, strict, through, progress)
    rng = np.random.default_rng(seed)
    start = [fit.theta]
    samples, failed = [], 0
    for _ in range(n):
        if progress:
            progress(1)
        idx = rng.integers(0, log_x.size, log_x.size)
        lx, yy = log_x[idx], y[idx]
        if np.unique(lx).size < len(opts.free):
            failed += 1
            continue
        theta, _ = _solve(lx, yy, opts, start, None if w is None else w[idx], strict, through)
        if theta is None:
            failed += 1
            continue
        samples.append(_params(theta, opts))
    return _finish(samples, failed, n)


def _finish(samples: list[dict[str, float]], failed: int, n: int, resample: int = 0) -> Bootstrap:
    if not samples:
        raise FitError(f"every one of the {n} bootstrap refits failed; the data are too few or too "
                       "flat for intervals")
    return Bootstrap(tuple(samples), failed, resample)


def _bootstrap_large(log_x: np.ndarray, y: np.ndarray, w: np.ndarray | None, fit: Fit,
                     opts: FitOptions, n: int, seed: int, strict: bool, through: Callable | None,
                     progress: Callable[[int], None] | None) -> Bootstrap:
    """:func:`bootstrap` of a large table: multinomial counts of its distinct rows, each resample
    fitted through its mean score per scale; or, past :data:`RESAMPLE_ROWS` distinct rows, refits
    on that many rows, their deviations from the point fit scaled by sqrt(drawn / rows)."""
    rows = log_x.size  # distinct rows are at least as many as distinct scales, cheaper to count
    table = Counted.of(log_x, y, w) if np.unique(log_x).size <= RESAMPLE_ROWS else None
    exact = table is not None and table.n_distinct <= RESAMPLE_ROWS
    drawn = rows if exact else RESAMPLE_ROWS
    shrink = math.sqrt(drawn / rows)
    chance = table.count / rows if exact else None
    rng = np.random.default_rng(seed)
    start = fit.theta
    samples, failed = [], 0
    for _ in range(n):
        if progress:
            progress(1)
        if exact:
            lx, yy, ww = table.groups(rng.multinomial(rows, chance))
        else:
            idx = rng.integers(0, rows, drawn)
            lx, yy, ww = log_x[idx], y[idx], None if w is None else w[idx]
        if np.unique(lx).size < len(opts.free):
            failed += 1
            continue
        theta, _ = _solve(lx, yy, opts, [start], ww, strict, through)
        if theta is None:
            failed += 1
            continue
        samples.append(_params(start + shrink * (theta - start), opts))
    return _finish(samples, failed, n, 0 if exact else drawn)


# --- the whole thing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitResult:
    """A point fit, its 90% bootstrap intervals and the row counts: ``capgraph fit``'s answer.

    ``n_refits`` bootstrap refits succeeded and ``n_failed`` failed; the intervals rest on the
    former only, so that is the number to quote.
    ``x_range`` is the smallest and largest scale in the data fitted (None when unknown): beyond
    it the curve is an extrapolation.
    """

    fit: Fit
    intervals: dict[str, tuple[float, float]]
    n_skipped: int
    boot: Bootstrap | None = field(default=None, compare=False, repr=False)
    #: How rows were weighed: ``"none"`` (alike) or ``"stderr"`` (by 1 / standard error²).
    weights: str = "none"
    #: How models scatter around the curve (:meth:`capgraph.evidence.bands.Scatter.to_json`).
    scatter: dict[str, Any] | None = None
    n_refits: int = 0
    n_failed: int = 0
    x_range: tuple[float, float] | None = None
    #: How a table of more than :data:`LARGE_TABLE` rows was fitted (None for a smaller one):
    #: ``{"rows", "scales", "bootstrap_rows", "scatter_rows"}``, rows per bootstrap resample and
    #: rows behind the held-out scatter (fewer than ``rows`` where a subsample stands in).
    large_table: dict[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        """``capgraph fit --json``: curve, intervals, n_used, n_skipped, rmse, weights, x_range[, scatter]
        [, large_table]."""
        out = {
            "curve": self.fit.curve_json(),
            "intervals": {k: [lo, hi] for k, (lo, hi) in self.intervals.items()},
            "n_used": self.fit.n_used,
            "n_skipped": self.n_skipped,
            "rmse": self.fit.rmse,
            "weights": self.weights,
            "x_range": list(self.x_range) if self.x_range else None,
        }
        if self.scatter is not None:
            out["scatter"] = self.scatter
        if self.large_table is not None:
            out["large_table"] = dict(self.large_table)
        return out

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record: the curve's parameters, their 90% intervals (``_p5``/``_p95``), the counts."""
        row: dict[str, Any] = {"curve": self.fit.curve}
        for name, value in self.fit.params.items():
            lo, hi = self.intervals.get(name, (None, None))
            row.update({name: value, f"{name}_p5": lo, f"{name}_p95": hi})
        row.update({"rmse": self.fit.rmse, "n_used": self.fit.n_used, "n_skipped": self.n_skipped,
                    "weights": self.weights})
        return [row]

    def to_frame(self):
        """:meth:`to_records` as a pandas DataFrame (needs the optional ``pandas`` extra)."""
        return to_frame(self.to_records())

    def record(self) -> dict[str, Any]:
        """:meth:`to_json` plus the bootstrap's counts ``{"refits", "failed"}``: a cache entry."""
        return {**self.to_json(), "bootstrap": {"refits": self.n_refits, "failed": self.n_failed}}

    def ranges(self) -> dict[str, dict[str, float]]:
        """Each fitted parameter as ``{p5, p50, p95}``: the bootstrap's ends around the fit itself.

        The centre is the point fit, not the middle of the interval (bootstrap intervals of a
        slope or a midpoint are skewed). A fit outside its own bootstrap interval, which a bound
        can cause, widens the interval to include it.
        """
        out = {}
        for name, (lo, hi) in self.intervals.items():
            centre = self.fit.params[name]
            if lo < hi:
                out[name] = {"p5": min(lo, centre), "p50": centre, "p95": max(hi, centre)}
        return out

    def yaml_snippet(self, ranges: bool = True) -> str:
        """The fit as a map's ``curve:`` block.

        With ``ranges``, each fitted parameter is written as ``{p5, p50, p95}``: its 90% bootstrap
        interval around the point fit; without, as the point estimate alone.
        """
        lines = ["curve:", f"  {self.fit.curve}:"]
        spread = self.ranges() if ranges else {}
        for name, value in self.fit.params.items():
            if name in spread:
                lo, mid, hi = (format_number(spread[name][k]) for k in ("p5", "p50", "p95"))
                if lo != hi:
                    lines.append(f"    {name}: {{p5: {lo}, p50: {mid}, p95: {hi}}}")
                    continue
            lines.append(f"    {name}: {format_number(value)}")
        return "\n".join(lines) + "\n"


def fit_with_intervals(log_x: np.ndarray, y: np.ndarray, opts: FitOptions = DEFAULT_OPTIONS, *,
                       n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
                       n_skipped: int = 0, sigma: np.ndarray | None = None,
                       scatter: bool = False, through: Callable | None = None,
                       progress: Callable[[int], None] | None = None) -> FitResult:
    """Point fit plus 90% bootstrap intervals of each fitted parameter (none when ``n_bootstrap`` is 0).

    ``sigma`` (standard errors of ``y``) weighs the fit and every refit; see :func:`fit_curve`. With
    ``scatter``, also the held-out residual scatter of the rows around the curve (leave-one-out, or
    folds for large tables). ``progress(1)`` after each bootstrap refit.
    """
    weights = "none" if sigma is None else "stderr"
    fit = fit_curve(log_x, y, opts, sigma, through=through)
    spread = _scatter(log_x, y, fit, opts) if scatter else None
    x_range = (float(10.0 ** np.min(log_x)), float(10.0 ** np.max(log_x)))
    rows = int(np.size(log_x))
    large = None if rows <= LARGE_TABLE else {
        "rows": rows, "scales": int(np.unique(log_x).size), "bootstrap_rows": rows,
        "scatter_rows": min(rows, RESAMPLE_ROWS) if scatter else 0}
    if n_bootstrap <= 0:
        return FitResult(fit, {}, n_skipped, weights=weights, scatter=spread, x_range=x_range,
                         large_table=large)
    boot = bootstrap(log_x, y, fit, opts, n_bootstrap, seed, sigma, through=through, progress=progress)
    if large is not None and boot.resample:
        large["bootstrap_rows"] = boot.resample
    return FitResult(fit, {name: boot.interval(name) for name in opts.free}, n_skipped, boot, weights,
                     spread, len(boot.samples), boot.n_failed, x_range, large)


def _scatter(log_x: np.ndarray, y: np.ndarray, fit: Fit, opts: FitOptions) -> dict[str, Any]:
    return held_out_scatter(log_x, y, fit, opts).to_json()


def held_out_scatter(log_x: np.ndarray, y: np.ndarray, fit: Fit, opts: FitOptions) -> Scatter:
    """Held-out residuals around the curve (refits from ``fit``); on a large table, of
    :data:`RESAMPLE_ROWS` rows spread over its scales (refits on them are fast, and their residuals'
    quantiles already precise), the method saying so."""
    log_x, y = np.asarray(log_x, dtype=float), np.asarray(y, dtype=float)
    rows = log_x.size
    if rows > LARGE_TABLE:
        pick = spread_sample(log_x, RESAMPLE_ROWS)
        log_x, y = log_x[pick], y[pick]
    out = held_out_residuals(log_x, y, lambda m: refit(log_x[m], y[m], opts, fit), opts.floor)
    if rows > log_x.size:
        out = replace(out, method=f"{out.method} on {log_x.size} of {rows} rows")
    return out


def format_number(value: float, digits: int = 3) -> str:
    """Short text for a YAML snippet: 3 significant digits, ``2.9e9`` rather than ``2.9e+09``.

    >>> format_number(2.912e9), format_number(1.5), format_number(4e-5), format_number(0.0)
    ('2.91e9', '1.5', '4e-5', '0')
    """
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text
