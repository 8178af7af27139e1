"""Fitting skill curves to evaluation results: pure kernels over arrays, and a bootstrap over rows.

Curves are fitted in log10 of scale, the space the map's curves live in, by bounded least squares
(:func:`scipy.optimize.least_squares`, trust-region reflective) from a grid of starting points, so
that a bad first guess cannot trap the fit in a flat region of the sigmoid. A fit that does not
converge, or whose best solution sits on a parameter bound (the data do not pin the curve down:
no rise, a rise sharper than the spacing of the points, a midpoint far outside the data), raises
:class:`FitError` instead of returning numbers that look fine.

Intervals come from a bootstrap over rows with a fixed seed, so the same data give the same output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.special import expit

from capgraph.kernels import curves

CURVES = ("logistic", "power_law")
LN10 = math.log(10.0)
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 0

#: Decades a logistic midpoint may lie beyond the data, and a power-law scale likewise.
_MIDPOINT_REACH = 6.0
_SCALE_REACH = 10.0
_SLOPE_BOUNDS = (1e-3, 100.0)
_EXPONENT_BOUNDS = (1e-3, 20.0)
#: Relative distance from a bound at which a parameter counts as stuck on it.
_AT_BOUND = 1e-4


class FitError(ValueError):
    """The data cannot give a trustworthy curve (too few rows, no convergence, a stuck parameter)."""


@dataclass(frozen=True)
class FitOptions:
    """What to fit: the curve family, a fixed floor, and a fixed ceiling or ``None`` (fit it)."""

    curve: str = "logistic"
    floor: float = 0.0
    ceiling: float | None = 1.0

    def __post_init__(self) -> None:
        if self.curve not in CURVES:
            raise ValueError(f"unknown curve {self.curve!r}; use one of {', '.join(CURVES)}")
        if not 0 <= self.floor < 1:
            raise ValueError(f"floor must lie in [0, 1), got {self.floor:g}")
        if self.ceiling is not None and not self.floor < self.ceiling <= 1:
            raise ValueError(f"ceiling must lie in ({self.floor:g}, 1], got {self.ceiling:g}")
        if self.curve == "power_law" and (self.floor != 0 or self.ceiling != 1):
            raise ValueError("floor and ceiling apply to logistic curves only: a map's power_law "
                             "runs from 0 to 1")

    @property
    def free(self) -> tuple[str, ...]:
        """Names of the fitted parameters, in the order of the internal vector."""
        if self.curve == "power_law":
            return ("scale", "exponent")
        return ("midpoint", "slope") + (("ceiling",) if self.ceiling is None else ())

    def key(self) -> dict[str, Any]:
        """A JSON-able description, part of a cache key."""
        return {"curve": self.curve, "floor": self.floor, "ceiling": self.ceiling}


DEFAULT_OPTIONS = FitOptions()


# --- the model, internally: theta = log10 midpoint, slope[, ceiling] | log10 scale, exponent ------


def _model(theta: np.ndarray, log_x: np.ndarray, opts: FitOptions) -> np.ndarray:
    if opts.curve == "power_law":
        return curves.power_law(log_x, theta[0], theta[1])
    ceiling = theta[2] if opts.ceiling is None else opts.ceiling
    return curves.logistic(log_x, theta[0], theta[1], opts.floor, ceiling)


def _jacobian(theta: np.ndarray, log_x: np.ndarray, opts: FitOptions) -> np.ndarray:
    if opts.curve == "power_law":
        d = log_x - theta[0]
        with np.errstate(over="ignore", under="ignore"):
            u = np.power(10.0, -theta[1] * d)
            v = np.exp(-u)
        du = np.stack([u * theta[1] * LN10, -u * d * LN10], axis=1)
        return -v[:, None] * du
    ceiling = theta[2] if opts.ceiling is None else opts.ceiling
    d = log_x - theta[0]
    s = expit(theta[1] * d)
    rise = (ceiling - opts.floor) * s * (1 - s)
    columns = [-rise * theta[1], rise * d]
    if opts.ceiling is None:
        columns.append(s)
    return np.stack(columns, axis=1)


def _bounds(log_x: np.ndarray, opts: FitOptions) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = float(log_x.min()), float(log_x.max())
    if opts.curve == "power_law":
        return (np.array([lo - _SCALE_REACH, _EXPONENT_BOUNDS[0]]),
                np.array([hi + _SCALE_REACH, _EXPONENT_BOUNDS[1]]))
    lower = [lo - _MIDPOINT_REACH, _SLOPE_BOUNDS[0]]
    upper = [hi + _MIDPOINT_REACH, _SLOPE_BOUNDS[1]]
    if opts.ceiling is None:
        lower.append(opts.floor + 1e-3)
        upper.append(1.0)
    return np.array(lower), np.array(upper)


def _starts(log_x: np.ndarray, y: np.ndarray, opts: FitOptions) -> list[np.ndarray]:
    """A grid of starting points across and beyond the data: midpoints × slopes (× ceilings)."""
    lo, hi = float(log_x.min()), float(log_x.max())
    width = max(hi - lo, 1e-6)
    positions = [lo - 0.5 * width, *np.linspace(lo, hi, 5), hi + 0.5 * width]
    if opts.curve == "power_law":
        return [np.array([c, a]) for c in positions for a in (0.1, 0.3, 1.0, 3.0)]
    slopes = (0.3, 1.0, 3.0, 10.0)
    if opts.ceiling is None:
        top = float(np.clip(y.max(), opts.floor + 0.05, 1.0))
        ceilings = sorted({top, 1.0})
        return [np.array([m, s, c]) for m in positions for s in slopes for c in ceilings]
    return [np.array([m, s]) for m in positions for s in slopes]


# --- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """A fitted curve: its parameters as a map writes them, and how well it fits."""

    curve: str
    params: dict[str, float]  # logistic: midpoint, slope, floor, ceiling; power_law: scale, exponent
    free: tuple[str, ...]
    rmse: float
    n_used: int

    @property
    def theta(self) -> np.ndarray:
        """The internal parameter vector (log10 of midpoint or scale first)."""
        p = self.params
        if self.curve == "power_law":
            return np.array([math.log10(p["scale"]), p["exponent"]])
        head = [math.log10(p["midpoint"]), p["slope"]]
        return np.array(head + ([p["ceiling"]] if "ceiling" in self.free else []))

    def __call__(self, log_x: np.ndarray | float) -> np.ndarray:
        """The fitted curve's value at log10 scales."""
        p = self.params
        if self.curve == "power_law":
            return curves.power_law(np.asarray(log_x, float), math.log10(p["scale"]), p["exponent"])
        return curves.logistic(np.asarray(log_x, float), math.log10(p["midpoint"]), p["slope"],
                               p["floor"], p["ceiling"])

    def crossing(self, level: float) -> float | None:
        """log10 of the scale where the curve reaches ``level``; None if it never does."""
        return _crossing(self.curve, self.params, level)

    @property
    def sharpness_decades(self) -> float:
        """Decades from 10% to 90% of the curve's rise (floor to ceiling)."""
        if self.curve == "power_law":
            return (math.log10(math.log(10.0)) - math.log10(-math.log(0.9))) / self.params["exponent"]
        return curves.logistic_sharpness(self.params["slope"])

    def curve_json(self) -> dict[str, dict[str, float]]:
        """The fit as a map's ``curve:`` value, ``{"logistic": {"midpoint": ..., ...}}``."""
        return {self.curve: dict(self.params)}


def _crossing(curve: str, params: Mapping[str, float], level: float) -> float | None:
    if curve == "power_law":
        if not 0 < level < 1:
            return None
        return math.log10(params["scale"]) - math.log10(-math.log(level)) / params["exponent"]
    value = curves.logistic_crossing(level, math.log10(params["midpoint"]), params["slope"],
                                     params["floor"], params["ceiling"])
    return None if math.isnan(value) else value


def _params(theta: np.ndarray, opts: FitOptions) -> dict[str, float]:
    if opts.curve == "power_law":
        return {"scale": float(10.0 ** theta[0]), "exponent": float(theta[1])}
    ceiling = float(theta[2]) if opts.ceiling is None else float(opts.ceiling)
    return {"midpoint": float(10.0 ** theta[0]), "slope": float(theta[1]),
            "floor": float(opts.floor), "ceiling": ceiling}


def min_rows(opts: FitOptions) -> int:
    """Fewest usable rows a fit accepts: one more than it has free parameters."""
    return len(opts.free) + 1


def _solve(log_x: np.ndarray, y: np.ndarray, opts: FitOptions,
           starts: list[np.ndarray]) -> tuple[np.ndarray | None, str]:
    """Best converged solution over the starts, or None with the reason none is trustworthy."""
    lower, upper = _bounds(log_x, opts)
    best, best_cost = None, math.inf
    for start in starts:
        x0 = np.clip(start, lower + 1e-9, upper - 1e-9)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            result = least_squares(
                lambda t: _model(t, log_x, opts) - y, x0,
                jac=lambda t: _jacobian(t, log_x, opts), bounds=(lower, upper),
                method="trf", xtol=1e-10, ftol=1e-12, gtol=1e-10, max_nfev=400,
            )
        if result.status > 0 and np.isfinite(result.cost) and result.cost < best_cost:
            best, best_cost = result.x, result.cost
    if best is None:
        return None, "the optimiser did not converge from any starting point"
    span = upper - lower
    for i, name in enumerate(opts.free):
        if name == "ceiling":  # a ceiling of 1 is a real answer, not a failure
            continue
        if best[i] - lower[i] < _AT_BOUND * span[i] or upper[i] - best[i] < _AT_BOUND * span[i]:
            return None, _STUCK[name]
    return best, ""


_STUCK = {
    "midpoint": "the midpoint ran to its bound, far outside the data (the data show no rise "
                "to place it)",
    "slope": "the slope ran to its bound (the data do not rise, or rise more sharply than the "
             "spacing of the points can resolve)",
    "scale": "the scale ran to its bound, far outside the data",
    "exponent": "the exponent ran to its bound (the data do not rise)",
}


def fit_curve(log_x: np.ndarray, y: np.ndarray, opts: FitOptions = DEFAULT_OPTIONS) -> Fit:
    """Fit a curve to scores ``y`` at log10 scales ``log_x``; raise :class:`FitError` if it fails.

    >>> lx = np.linspace(8, 12, 9)
    >>> f = fit_curve(lx, curves.logistic(lx, 10.0, 1.5))
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
    theta, why = _solve(log_x, y, opts, _starts(log_x, y, opts))
    if theta is None:
        raise FitError(f"the {opts.curve} fit did not converge: {why}")
    return _make_fit(theta, log_x, y, opts)


def _make_fit(theta: np.ndarray, log_x: np.ndarray, y: np.ndarray, opts: FitOptions) -> Fit:
    rmse = float(np.sqrt(np.mean((_model(theta, log_x, opts) - y) ** 2)))
    return Fit(opts.curve, _params(theta, opts), opts.free, rmse, int(log_x.size))


# --- bootstrap -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bootstrap:
    """Refits on resampled rows: one parameter dict a successful resample, and the failures."""

    samples: tuple[dict[str, float], ...]
    n_failed: int
    seed: int

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
              n: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED) -> Bootstrap:
    """Refit ``n`` resamples of the rows (drawn with replacement, seeded), each from the point fit.

    A resample whose fit fails (too few distinct scales, a parameter stuck on a bound) is counted
    in ``n_failed`` rather than silently replaced; at least one must succeed.
    """
    log_x, y = np.asarray(log_x, dtype=float), np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    start = [fit.theta]
    samples, failed = [], 0
    for _ in range(n):
        idx = rng.integers(0, log_x.size, log_x.size)
        lx, yy = log_x[idx], y[idx]
        if np.unique(lx).size < len(opts.free):
            failed += 1
            continue
        theta, _ = _solve(lx, yy, opts, start)
        if theta is None:
            failed += 1
            continue
        samples.append(_params(theta, opts))
    if not samples:
        raise FitError(f"every one of the {n} bootstrap refits failed; the data are too few or too "
                       "flat for intervals")
    return Bootstrap(tuple(samples), failed, seed)


# --- the whole thing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitResult:
    """A point fit, its 90% bootstrap intervals and the row counts: ``capgraph fit``'s answer."""

    fit: Fit
    intervals: dict[str, tuple[float, float]]
    n_skipped: int
    boot: Bootstrap | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """``{"curve", "intervals", "n_used", "n_skipped", "rmse"}``, as ``capgraph fit --json``."""
        return {
            "curve": self.fit.curve_json(),
            "intervals": {k: [lo, hi] for k, (lo, hi) in self.intervals.items()},
            "n_used": self.fit.n_used,
            "n_skipped": self.n_skipped,
            "rmse": self.fit.rmse,
        }

    def yaml_snippet(self, ranges: bool = True) -> str:
        """The fit as a map's ``curve:`` block.

        With ``ranges``, each fitted parameter is written as its 90% interval ``"A to B"`` with the
        point estimate in a comment; without, as the point estimate alone.
        """
        lines = ["curve:", f"  {self.fit.curve}:"]
        for name, value in self.fit.params.items():
            text = format_number(value)
            if ranges and name in self.intervals:
                lo, hi = (format_number(v) for v in self.intervals[name])
                if lo != hi:
                    lines.append(f"    {name}: {lo} to {hi}  # fit: {text}")
                    continue
            lines.append(f"    {name}: {text}")
        return "\n".join(lines) + "\n"


def fit_with_intervals(log_x: np.ndarray, y: np.ndarray, opts: FitOptions = DEFAULT_OPTIONS, *,
                       n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
                       n_skipped: int = 0) -> FitResult:
    """Point fit plus 90% bootstrap intervals of each fitted parameter (none when ``n_bootstrap`` is 0)."""
    fit = fit_curve(log_x, y, opts)
    if n_bootstrap <= 0:
        return FitResult(fit, {}, n_skipped)
    boot = bootstrap(log_x, y, fit, opts, n_bootstrap, seed)
    return FitResult(fit, {name: boot.interval(name) for name in opts.free}, n_skipped, boot)


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
