"""Monte Carlo draws of uncertain curve parameters.

A parameter written as a 90% interval ``p5 to p95`` becomes a distribution whose 5th and 95th
percentiles are those ends: log-normal for scale-like parameters (a midpoint or a power-law scale),
normal truncated to the valid range for the others (slope and exponent > 0, floor and ceiling in
[0, 1], and the floor below the ceiling of the same draw).

Skills can move together. Each skill's location parameter is driven by a latent standard normal

    z_s = √ρ · F_g + √(1 − ρ) · ε_s,

where F_g is the factor of the skill's group and ε_s its own noise (a Gaussian copula). The group is
the map (correlation ρ_map, factor F) unless a capability above the skill sets its own
``correlation`` ρ_g; then F_g = √a · F + √(1 − a) · G_g with a = min(1, ρ_map / ρ_g), so skills in the
group correlate at ρ_g among themselves and at min(ρ_map, √(ρ_g ρ_map)) with the rest. A high z makes
a skill *better* (an earlier midpoint), so correlated skills are better or worse together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """An uncertain parameter, given as its 90% interval (5th and 95th percentiles).

    ``log`` marks scale-like parameters, drawn log-normally over the interval; the others are
    drawn from a normal truncated to their valid range (see :mod:`capgraph.kernels.sampling`).
    """

    p5: float
    p95: float
    log: bool = False

    @property
    def median(self) -> float:
        return math.sqrt(self.p5 * self.p95) if self.log else (self.p5 + self.p95) / 2

    def __str__(self) -> str:
        return f"{self.p5:g} to {self.p95:g}"



Z95 = 1.6448536269514722  # the 95th percentile of a standard normal, scipy.special.ndtri(0.95)


def scale_draws(values: list[float | Interval], z: np.ndarray) -> np.ndarray:
    """log10 of scale-like parameters, (n, samples): log-normal over each interval.

    ``z`` (n, samples) are the latent normals; a high z gives a *smaller* scale (an earlier, better
    curve). Points ignore z.
    """
    mu = np.array([np.log10(median(v)) for v in values])[:, None]
    sigma = np.array([_log_sigma(v) for v in values])[:, None]
    return mu - sigma * z


def truncated_draws(values: list[float | Interval], eps: np.ndarray, low: float | np.ndarray,
                    high: float | np.ndarray) -> np.ndarray:
    """Normal over each interval, truncated to [low, high], by the inverse CDF of ``eps`` (n, samples).

    Points ignore ``eps``. ``low``/``high`` may be arrays broadcasting to (n, samples), e.g. a floor
    bounded by its own draw's ceiling.
    """
    from scipy.special import ndtr, ndtri  # deferred: only ranged maps draw; saves start-up

    mu = np.array([median(v) for v in values])[:, None]
    sigma = np.array([_sigma(v) for v in values])[:, None]
    ranged = sigma > 0
    safe = np.where(ranged, sigma, 1.0)
    a, b = ndtr((low - mu) / safe), ndtr((high - mu) / safe)
    u = a + ndtr(eps) * (b - a)
    drawn = mu + safe * ndtri(np.clip(u, 1e-16, 1 - 1e-16))
    return np.where(ranged, np.clip(drawn, low, high), mu + 0.0 * eps)


def latent(groups: np.ndarray, rho_skill: np.ndarray, rho_group: np.ndarray, rho_map: float,
           samples: int, rng: np.random.Generator) -> np.ndarray:
    """Latent normals (skills, samples) of the Gaussian copula above.

    ``groups[s]`` is skill s's group (0 is the map itself), ``rho_skill[s]`` its correlation and
    ``rho_group[g]`` each group's correlation.
    """
    common = rng.standard_normal(samples)
    own_group = rng.standard_normal((len(rho_group), samples))
    share = np.minimum(1.0, np.divide(rho_map, rho_group, out=np.ones_like(rho_group),
                                      where=rho_group > 0))
    share[0] = 1.0
    factors = np.sqrt(share)[:, None] * common + np.sqrt(1 - share)[:, None] * own_group
    noise = rng.standard_normal((len(groups), samples))
    r = rho_skill[:, None]
    return np.sqrt(r) * factors[groups] + np.sqrt(1 - r) * noise


def median(v: float | Interval) -> float:
    """A parameter's point estimate: itself, or its interval's median.

    >>> median(2.0), median(Interval(1e9, 1e11, log=True)), median(Interval(0.1, 0.3))
    (2.0, 10000000000.0, 0.2)
    """
    return v.median if isinstance(v, Interval) else float(v)


def _log_sigma(v: float | Interval) -> float:
    if isinstance(v, Interval):
        return (np.log10(v.p95) - np.log10(v.p5)) / (2 * Z95)
    return 0.0


def _sigma(v: float | Interval) -> float:
    return (v.p95 - v.p5) / (2 * Z95) if isinstance(v, Interval) else 0.0
