"""Monte Carlo draws of uncertain curve parameters.

A parameter written as a 90% interval ``p5 to p95``, or with its centre ``{p5, p50, p95}``, becomes
a distribution with exactly those percentiles: a two-piece ("split") normal, one half-normal below
the median scaled to put p5 at its 5th percentile and one above it scaled to put p95 at its 95th.
Without a p50 the median is the interval's centre and the two halves are equal: the log-normal and
normal of a symmetric interval.

The space is the one each parameter is written and fitted in. Scale-like parameters (a midpoint, a
power-law scale) are split normal in log10: fits work in log10 scale, and a bootstrap's skew there
is what p50 records. The others (slope, exponent, floor, ceiling) are split normal in linear space
with each *tail* truncated to the valid range (slope and exponent > 0, floor and ceiling in [0, 1],
the floor below the ceiling of the same draw): the 5% of draws below p5 are spread over
[low, p5] by the same normal tail, and likewise above p95, so p5, p50 and p95 stay exactly where
they were written. Only when a bound cuts inside [p5, p95] (a floor whose own draw's ceiling falls
below its p95) is the whole distribution truncated, the percentiles then being unreachable.

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
    """An uncertain parameter: its 90% interval (5th and 95th percentiles) and optionally its median.

    ``log`` marks scale-like parameters, drawn in log10 space; the others are drawn in linear space
    with tails truncated to their valid range (see :mod:`capgraph.kernels.sampling`). Without
    ``p50`` the median is the centre of the interval (geometric for ``log``).
    """

    p5: float
    p95: float
    log: bool = False
    p50: float | None = None

    @property
    def median(self) -> float:
        if self.p50 is not None:
            return self.p50
        return math.sqrt(self.p5 * self.p95) if self.log else (self.p5 + self.p95) / 2

    def __str__(self) -> str:
        if self.p50 is not None:
            return f"{{p5: {self.p5:g}, p50: {self.p50:g}, p95: {self.p95:g}}}"
        return f"{self.p5:g} to {self.p95:g}"



Z95 = 1.6448536269514722  # the 95th percentile of a standard normal, scipy.special.ndtri(0.95)


def scale_draws(values: list[float | Interval], z: np.ndarray) -> np.ndarray:
    """log10 of scale-like parameters, (n, samples): split normal in log10 over each interval.

    ``z`` (n, samples) are the latent normals; a high z gives a *smaller* scale (an earlier, better
    curve), so z ≥ Z95 lands below p5 (5% of draws) and z ≤ −Z95 above p95. Points ignore z.
    """
    mu = np.array([np.log10(median(v)) for v in values])[:, None]
    lower, upper = (np.array(s)[:, None] for s in zip(*(_log_sigmas(v) for v in values), strict=True))
    return mu - np.where(z > 0, lower, upper) * z


def truncated_draws(values: list[float | Interval], eps: np.ndarray, low: float | np.ndarray,
                    high: float | np.ndarray) -> np.ndarray:
    """Split normal over each interval with tails truncated to [low, high], (n, samples).

    Draws by the inverse CDF of ``ndtr(eps)``: the middle 90% maps through the split normal's
    quantile function unchanged, the lowest 5% onto [low, p5] and the highest 5% onto [p95, high]
    (the same normal tails, cut at the bounds), so the three percentiles are exact. Where a bound
    cuts inside [p5, p95] the whole distribution is truncated instead. Points ignore ``eps``.
    ``low``/``high`` may be arrays broadcasting to (n, samples), e.g. a floor bounded by its own
    draw's ceiling. A draw of the middle 90% that no bound cuts (nine in ten, on most maps) is the
    split normal at ``eps`` itself: only the others go through ndtr and its inverse.
    """
    from scipy.special import ndtr  # deferred: only ranged maps draw; saves start-up

    mu = np.array([median(v) for v in values])[:, None]
    lower, upper = (np.array(s)[:, None] for s in zip(*(_sigmas(v) for v in values), strict=True))
    shape = np.broadcast_shapes(np.shape(eps), np.shape(low), np.shape(high), mu.shape)
    ranged = np.broadcast_to((lower > 0) | (upper > 0), shape)
    lo_s, hi_s = np.where(lower > 0, lower, 1.0), np.where(upper > 0, upper, 1.0)
    # the split normal's CDF at the bounds (each half holds half the mass)
    # (a half of zero width is a point mass at the median)
    a = np.where(lower > 0, ndtr((low - mu) / lo_s), np.where(low < mu, 0.0, 0.5))
    b = np.where(upper > 0, ndtr((high - mu) / hi_s), np.where(high >= mu, 1.0, 0.5))
    tails = np.broadcast_to((a <= 0.05) & (b >= 0.95), shape)
    drawn = mu + np.where(eps < 0, lower, upper) * eps  # the split normal's own quantile at eps
    hard = ranged & ~(tails & (np.abs(eps) < Z95))
    if hard.any():
        drawn = np.array(np.broadcast_to(drawn, shape))
        mu_, lower_, upper_, eps_, a_, b_ = (np.broadcast_to(x, shape)[hard]
                                             for x in (mu, lower, upper, eps, a, b))
        drawn[hard] = _cut(mu_, lower_, upper_, eps_, a_, b_, tails[hard])
    return np.where(ranged, np.clip(drawn, low, high), mu + 0.0 * eps)


def _cut(mu: np.ndarray, lower: np.ndarray, upper: np.ndarray, eps: np.ndarray, a: np.ndarray,
         b: np.ndarray, tails: np.ndarray) -> np.ndarray:
    """Draws of :func:`truncated_draws` (1-d arrays alike) that a bound cuts or that lie in the
    tails, through the CDF ``ndtr(eps)``, remapped onto [a, b], and its inverse."""
    from scipy.special import ndtr, ndtri  # deferred: only ranged maps draw; saves start-up

    u = ndtr(eps)
    in_tails = np.where(u < 0.05, a + (u / 0.05) * (0.05 - a),
                        np.where(u > 0.95, 0.95 + ((u - 0.95) / 0.05) * (b - 0.95), u))
    u = np.clip(np.where(tails, in_tails, a + u * (b - a)), 1e-16, 1 - 1e-16)
    return mu + np.where(u < 0.5, lower, upper) * ndtri(u)


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


def _log_sigmas(v: float | Interval) -> tuple[float, float]:
    """σ below and above the median, in log10, putting p5 and p95 at ∓Z95 of their halves."""
    if not isinstance(v, Interval):
        return 0.0, 0.0
    mid = math.log10(v.median)
    return (mid - math.log10(v.p5)) / Z95, (math.log10(v.p95) - mid) / Z95


def _sigmas(v: float | Interval) -> tuple[float, float]:
    if not isinstance(v, Interval):
        return 0.0, 0.0
    mid = v.median
    return (mid - v.p5) / Z95, (v.p95 - mid) / Z95
