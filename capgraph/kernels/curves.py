"""Skill curves as pure numpy kernels: value in [0, 1] against log10 of scale.

Every kernel takes ``log_x`` and parameters that broadcast against it. The engine passes a whole
block of skills at once: parameters shaped ``(skills, samples, 1)`` and ``log_x`` shaped
``(1, 1, points)``, so the same code serves one deterministic map and a Monte Carlo batch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from capgraph.kernels.kinds import ABOVE_ZERO, CurveFamily, Draw, FitHooks, Param, Registry
from capgraph.kernels.sampling import Interval

ArrayLike = np.ndarray | float

LN9 = float(np.log(9.0))
LN10 = math.log(10.0)


def expit(z: ArrayLike, out: np.ndarray | None = None) -> np.ndarray:
    """σ(z) = 1/(1 + e^−z), elementwise (into ``out`` when given).

    numpy alone: importing scipy.special would cost a small map more start-up time than its run.

    >>> expit(np.array([0.0, -800.0])).tolist()
    [0.5, 0.0]
    """
    z = np.negative(z, out=out)
    with np.errstate(over="ignore"):  # e^−z overflows for z ≪ 0, where σ is 0 as it should be
        np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def logistic(log_x: ArrayLike, log_midpoint: ArrayLike, slope: ArrayLike,
             floor: ArrayLike = 0.0, ceiling: ArrayLike = 1.0) -> np.ndarray:
    """floor + (ceiling − floor)·σ(slope·(log10 x − log10 midpoint)).

    >>> float(logistic(10.0, 10.0, 1.5))
    0.5
    """
    # 1 / (1 + e^(−z)) in place: these arrays are the big ones, and exp, add and divide stream
    # several times faster than scipy's expit. Far below the midpoint e^(−z) overflows to inf,
    # which gives the right limit, 0 (or the floor).
    z = np.asarray(np.subtract(log_midpoint, log_x))
    z *= slope
    with np.errstate(over="ignore"):
        np.exp(z, out=z)
    z += 1
    if np.any(floor != 0) or np.any(ceiling != 1):
        np.divide(np.subtract(ceiling, floor, dtype=z.dtype), z, out=z)
        z += floor
    else:
        np.reciprocal(z, out=z)
    return z


def power_law(log_x: ArrayLike, log_scale: ArrayLike, exponent: ArrayLike) -> np.ndarray:
    """exp(−(x/scale)^(−exponent)), computed in log10 so it never overflows.

    >>> round(float(power_law(9.0, 9.0, 0.5)), 6)  # exp(-1) at x = scale
    0.367879
    """
    z = np.asarray(np.subtract(log_scale, log_x))  # in place from here, with exp for 10^: faster
    z *= np.multiply(exponent, LN10, dtype=z.dtype)
    with np.errstate(over="ignore", under="ignore"):
        np.exp(z, out=z)
        np.negative(z, out=z)
        np.exp(z, out=z)
    return z


def points(log_x: ArrayLike, log_xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Monotone (PCHIP) interpolation through observed points, held at the ends outside them.

    ``log_xs`` and ``ys`` are (K,) for one skill, with a result shaped like ``log_x``; or (skills,
    K) for many skills with K points each at once (the engine's batch), with a result (skills,
    log_x.size). The cubic is Fritsch & Carlson's (1980) with the three-point end slopes of
    Moler's ``pchip``: slopes are zero where the data turn, else the weighted harmonic mean of the
    neighbouring secants, so monotone data stay monotone.

    >>> round(float(points(1.5, np.array([1.0, 2.0]), np.array([0.2, 0.4]))), 6)
    0.3
    >>> points(np.array([1.5]), np.array([[1.0, 2.0]]), np.array([[0.2, 0.4]])).round(6).tolist()
    [[0.3]]
    """
    log_xs, ys = np.asarray(log_xs, dtype=float), np.asarray(ys, dtype=float)
    if log_xs.ndim == 1:
        shape = np.shape(log_x)
        return _pchip(np.ravel(log_x), log_xs[None], ys[None])[0].reshape(shape)
    return _pchip(np.ravel(log_x), log_xs, ys)


#: Values computed at once by the table kernel: bounds its temporaries on maps with many tables.
PCHIP_CHUNK = 1 << 18


def _pchip(log_x: np.ndarray, log_xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    log_x = np.asarray(log_x, dtype=float)
    h = np.diff(log_xs, axis=1)  # (S, K-1)
    secant = np.diff(ys, axis=1) / h
    slopes = np.repeat(secant[:, :1], ys.shape[1], axis=1)  # two points: a straight line
    if ys.shape[1] > 2:
        left, right, h0, h1 = secant[:, :-1], secant[:, 1:], h[:, :-1], h[:, 1:]
        w1, w2 = 2 * h1 + h0, h1 + 2 * h0
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = (w1 + w2) / (w1 / left + w2 / right)
        slopes[:, 1:-1] = np.where(left * right > 0, inner, 0.0)
        slopes[:, 0] = _end_slope(h[:, 0], h[:, 1], secant[:, 0], secant[:, 1])
        slopes[:, -1] = _end_slope(h[:, -1], h[:, -2], secant[:, -1], secant[:, -2])
    # each interval's cubic in t = (x − x_i)/h_i ∈ [0, 1]: coefficients (S, K-1, 6)
    d0, d1 = slopes[:, :-1] * h, slopes[:, 1:] * h
    rise = np.diff(ys, axis=1)
    coeffs = np.stack([ys[:, :-1], d0, 3 * rise - 2 * d0 - d1, d0 + d1 - 2 * rise, log_xs[:, :-1],
                       1.0 / h], axis=-1)
    out = np.empty((len(ys), log_x.size))
    ordered = log_x.size < 2 or bool(np.all(log_x[1:] >= log_x[:-1]))  # a grid: cells found per knot
    rows = max(1, PCHIP_CHUNK // max(1, log_x.size))
    for r0 in range(0, len(ys), rows):
        part = slice(r0, r0 + rows)
        cell = _cells(log_x, log_xs[part]) if ordered else _cells_unordered(log_x, log_xs[part])
        c0, c1, c2, c3, x0, inv_h = np.moveaxis(coeffs[part].reshape(-1, 6)[cell], -1, 0)
        x = np.clip(log_x[None, :], log_xs[part, :1], log_xs[part, -1:])  # held at the end values outside
        t = (x - x0) * inv_h
        out[part] = np.clip(c0 + t * (c1 + t * (c2 + t * c3)), 0.0, 1.0)
    return out


def _cells(log_x: np.ndarray, log_xs: np.ndarray) -> np.ndarray:
    """Flat index (row · (K-1) + interval) of the interval holding each of ``log_x`` clipped to each
    row's points, for an ordered ``log_x``: the same as :func:`_cells_unordered`, found per knot.

    Clipped to a row's ends, ``log_x`` stays ordered, so the values at or past inner knot j are a
    run at the end: it starts at 0 if the knot is at or below the row's first point, past the end
    if it is above the last, else where ``log_x`` itself reaches the knot. Each interval's run is
    then a count, and the index one ``np.repeat`` (not a comparison per knot and value).
    """
    lo, hi, knots = log_xs[:, :1], log_xs[:, -1:], log_xs[:, 1:-1]
    n = log_x.size
    starts = np.where(knots <= lo, 0, np.where(knots > hi, n, np.searchsorted(log_x, knots)))
    edges = np.concatenate([np.zeros((len(log_xs), 1), dtype=np.intp), starts,
                            np.full((len(log_xs), 1), n, dtype=np.intp)], axis=1)
    runs = np.maximum(np.diff(edges, axis=1), 0)  # knots in order: never negative
    return np.repeat(np.arange(runs.size), runs.ravel()).reshape(len(log_xs), n)


def _cells_unordered(log_x: np.ndarray, log_xs: np.ndarray) -> np.ndarray:
    """Flat index (row · (K-1) + interval) of the interval holding each of ``log_x`` clipped to
    each row's points."""
    x = np.clip(log_x[None, :], log_xs[:, :1], log_xs[:, -1:])
    cell = np.zeros(x.shape, dtype=np.intp)
    for j in range(1, log_xs.shape[1] - 1):
        cell += x >= log_xs[:, j:j + 1]
    return cell + np.arange(len(log_xs))[:, None] * (log_xs.shape[1] - 1)


def _end_slope(h0: np.ndarray, h1: np.ndarray, s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
    """The three-point end slope, kept to the secant's sign and at most three times the secant."""
    d = ((2 * h0 + h1) * s0 - h0 * s1) / (h0 + h1)
    d = np.where(np.sign(d) != np.sign(s0), 0.0, d)
    return np.where((np.sign(s0) != np.sign(s1)) & (np.abs(d) > 3 * np.abs(s0)), 3 * s0, d)


def logistic_crossing(level: float, log_midpoint: float, slope: float,
                      floor: float = 0.0, ceiling: float = 1.0) -> float:
    """log10 of the scale where a logistic reaches ``level`` (closed form; nan if it never does).

    >>> logistic_crossing(0.5, 10.0, 1.5)
    10.0
    """
    if not floor < level < ceiling:
        return float("nan")
    u = (level - floor) / (ceiling - floor)
    return log_midpoint + float(np.log(u / (1 - u))) / slope


def logistic_sharpness(slope: float) -> float:
    """Decades from 10% to 90% of a logistic's rise: 2·ln 9 / slope."""
    return 2 * LN9 / slope


def power_law_crossing(level: float, log_scale: float, exponent: float) -> float:
    """log10 of the scale where a power law reaches ``level`` (closed form; nan if it never does).

    >>> power_law_crossing(math.exp(-1), 9.0, 0.5)
    9.0
    """
    if not 0 < level < 1:
        return float("nan")
    return log_scale - math.log10(-math.log(level)) / exponent


def power_law_sharpness(exponent: float) -> float:
    """Decades from 10% to 90% of a power law's rise: log10(ln 10 / −ln 0.9) / exponent."""
    return (math.log10(math.log(10.0)) - math.log10(-math.log(0.9))) / exponent


# --- fitting hooks: theta is the fitted kernel arguments, log10 of a midpoint or scale first --------

#: Decades a logistic midpoint may lie beyond the data, and a power-law scale likewise.
_MIDPOINT_REACH = 6.0
_SCALE_REACH = 10.0
_SLOPE_BOUNDS = (1e-3, 100.0)
_EXPONENT_BOUNDS = (1e-3, 20.0)


def _positions(log_x: np.ndarray) -> list[float]:
    """Starting locations across and beyond the data."""
    lo, hi = float(log_x.min()), float(log_x.max())
    width = max(hi - lo, 1e-6)
    return [lo - 0.5 * width, *np.linspace(lo, hi, 5), hi + 0.5 * width]


def _logistic_bounds(log_x: np.ndarray, fixed: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = float(log_x.min()), float(log_x.max())
    lower = [lo - _MIDPOINT_REACH, _SLOPE_BOUNDS[0]]
    upper = [hi + _MIDPOINT_REACH, _SLOPE_BOUNDS[1]]
    if "ceiling" not in fixed:
        lower.append(fixed["floor"] + 1e-3)
        upper.append(1.0)
    return np.array(lower), np.array(upper)


def _logistic_starts(log_x: np.ndarray, y: np.ndarray, fixed: Mapping[str, float]) -> list[np.ndarray]:
    positions, slopes = _positions(log_x), (0.3, 1.0, 3.0, 10.0)
    if "ceiling" not in fixed:
        top = float(np.clip(y.max(), fixed["floor"] + 0.05, 1.0))
        ceilings = sorted({top, 1.0})
        return [np.array([m, s, c]) for m in positions for s in slopes for c in ceilings]
    return [np.array([m, s]) for m in positions for s in slopes]


def _logistic_jacobian(theta: np.ndarray, log_x: np.ndarray, fixed: Mapping[str, float]) -> np.ndarray:
    ceiling = fixed["ceiling"] if "ceiling" in fixed else theta[2]
    d = log_x - theta[0]
    s = expit(theta[1] * d)
    rise = (ceiling - fixed["floor"]) * s * (1 - s)
    columns = [-rise * theta[1], rise * d]
    if "ceiling" not in fixed:
        columns.append(s)
    return np.stack(columns, axis=1)


def _power_law_bounds(log_x: np.ndarray, fixed: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = float(log_x.min()), float(log_x.max())
    return (np.array([lo - _SCALE_REACH, _EXPONENT_BOUNDS[0]]),
            np.array([hi + _SCALE_REACH, _EXPONENT_BOUNDS[1]]))


def _power_law_starts(log_x: np.ndarray, y: np.ndarray, fixed: Mapping[str, float]) -> list[np.ndarray]:
    return [np.array([c, a]) for c in _positions(log_x) for a in (0.1, 0.3, 1.0, 3.0)]


def _power_law_jacobian(theta: np.ndarray, log_x: np.ndarray, fixed: Mapping[str, float]) -> np.ndarray:
    d = log_x - theta[0]
    with np.errstate(over="ignore", under="ignore"):
        u = np.power(10.0, -theta[1] * d)
        v = np.exp(-u)
    du = np.stack([u * theta[1] * LN10, -u * d * LN10], axis=1)
    return -v[:, None] * du


def _draw_logistic(columns: Mapping[str, list[Any]], eps: np.ndarray, draw: Draw) -> dict[str, np.ndarray]:
    """Every draw keeps its floor below its ceiling: a ranged ceiling stays above a fixed floor,
    and a ranged floor stays below its own draw's ceiling."""
    fixed_floor = np.array([0.0 if isinstance(f, Interval) else f for f in columns["floor"]])
    ceiling = draw(columns["ceiling"], eps[0], np.nextafter(fixed_floor, 1)[:, None], 1.0)
    floor = draw(columns["floor"], eps[1], 0.0, np.nextafter(ceiling, 0))
    slope = draw(columns["slope"], eps[2], ABOVE_ZERO, np.inf)
    return {"slope": slope, "floor": floor, "ceiling": ceiling}


# --- the registry: one record per family ----------------------------------------------------------

FAMILIES: Registry[CurveFamily] = Registry("curve family", {
    "logistic": CurveFamily(
        "logistic", "floor + (ceiling − floor) · σ(slope · (log10 x − log10 midpoint)).",
        logistic, "block",
        params=(
            Param("midpoint", "Scale at which the curve is halfway from floor to ceiling.", log=True),
            Param("slope", "Steepness in logits per decade of scale."),
            Param("floor", "Value far below the midpoint (chance level).", (0.0, 1.0), closed=True,
                  default=0.0),
            Param("ceiling", "Value far above the midpoint.", (0.0, 1.0), closed=True, default=1.0,
                  above="floor"),
        ),
        location="midpoint",
        crossing=lambda level, a: logistic_crossing(level, a["log_midpoint"], a["slope"], a["floor"],
                                                    a["ceiling"]),
        sharpness=lambda a: logistic_sharpness(a["slope"]),
        fit=FitHooks(
            ("midpoint", "slope"), _logistic_bounds, _logistic_starts, _logistic_jacobian,
            stuck={
                "midpoint": "the midpoint ran to its bound, far outside the data (the data show no "
                            "rise to place it)",
                "slope": "the slope ran to its bound (the data do not rise, or rise more sharply than "
                         "the spacing of the points can resolve)",
            },
            optional=("ceiling",),
        ),
        drawn=("ceiling", "floor", "slope"), draw=_draw_logistic,
    ),
    "power_law": CurveFamily(
        "power_law", "exp(−(x / scale)^(−exponent)): per-item loss falling as a power law of scale.",
        power_law, "block",
        params=(
            Param("scale", "Scale at which the value is exp(−1) ≈ 0.37.", log=True),
            Param("exponent", "Power-law exponent of the per-item loss."),
        ),
        location="scale",
        crossing=lambda level, a: power_law_crossing(level, a["log_scale"], a["exponent"]),
        sharpness=lambda a: power_law_sharpness(a["exponent"]),
        fit=FitHooks(
            ("scale", "exponent"), _power_law_bounds, _power_law_starts, _power_law_jacobian,
            stuck={"scale": "the scale ran to its bound, far outside the data",
                   "exponent": "the exponent ran to its bound (the data do not rise)"},
        ),
        drawn=("exponent",),
    ),
    "points": CurveFamily(
        "points", "Observed [scale, value] pairs, interpolated monotonically in log10 of scale; "
        "held at the end values outside them.",
        points, "table",
        label=lambda pts: f"{len(pts)} points",
    ),
})
