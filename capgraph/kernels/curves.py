"""Skill curves as pure numpy kernels: value in [0, 1] against log10 of scale.

Every kernel takes ``log_x`` and parameters that broadcast against it. The engine passes a whole
block of skills at once: parameters shaped ``(skills, samples, 1)`` and ``log_x`` shaped
``(1, 1, points)``, so the same code serves one deterministic map and a Monte Carlo batch.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

ArrayLike = np.ndarray | float

LN9 = float(np.log(9.0))


def logistic(log_x: ArrayLike, log_midpoint: ArrayLike, slope: ArrayLike,
             floor: ArrayLike = 0.0, ceiling: ArrayLike = 1.0) -> np.ndarray:
    """floor + (ceiling − floor)·σ(slope·(log10 x − log10 midpoint)).

    >>> float(logistic(10.0, 10.0, 1.5))
    0.5
    """
    z = np.asarray(np.subtract(log_x, log_midpoint))  # in place from here: these arrays are the big ones
    z *= slope
    expit(z, out=z)
    if np.any(floor != 0) or np.any(ceiling != 1):
        z *= ceiling - floor
        z += floor
    return z


def power_law(log_x: ArrayLike, log_scale: ArrayLike, exponent: ArrayLike) -> np.ndarray:
    """exp(−(x/scale)^(−exponent)), computed in log10 so it never overflows.

    >>> round(float(power_law(9.0, 9.0, 0.5)), 6)  # exp(-1) at x = scale
    0.367879
    """
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(-np.power(10.0, -exponent * (log_x - log_scale)))


def points(log_x: ArrayLike, log_xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Monotone (PCHIP) interpolation through observed points, held at the ends outside them.

    >>> round(float(points(1.5, np.array([1.0, 2.0]), np.array([0.2, 0.4]))), 6)
    0.3
    """
    from scipy.interpolate import PchipInterpolator  # deferred: costs a quarter second at start-up

    interpolate = PchipInterpolator(log_xs, ys, extrapolate=False)
    clipped = np.clip(log_x, log_xs[0], log_xs[-1])
    return np.clip(interpolate(clipped), 0.0, 1.0)


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
