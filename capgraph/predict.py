"""Threshold crossings: where each node's value first reaches its threshold, and how sharply.

Values come from the engine on a log-spaced grid over the map's range. A crossing is bracketed
between two grid points, then refined on a cubic Hermite interpolant of logit(value) between them.
In logit space a logistic is a straight line and composites of logistics are nearly so, which is
why a grid of 64 points a decade is enough to meet the 0.001-decade precision the tests check
against closed forms and against brentq on the exact curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logit

from capgraph.engine import Plan, evaluate
from capgraph.scale import FixedRatio, ScalePoint

GRID_PER_DECADE = 64
_EPS = 1e-15


def grid(log_lo: float, log_hi: float, per_decade: int = GRID_PER_DECADE) -> np.ndarray:
    """Evenly spaced log10 scales covering [log_lo, log_hi], ends included."""
    n = max(2, math.ceil((log_hi - log_lo) * per_decade) + 1)
    return np.linspace(log_lo, log_hi, n)


@dataclass
class Crossing:
    """Where each sample's curve first reaches a level, as arrays over samples.

    ``log_x`` is nan where the curve never reaches the level; ``lo`` and ``t`` locate the crossing
    between grid points ``lo`` and ``lo + 1`` (fraction ``t``) so other curves can be read there.
    """

    log_x: np.ndarray
    lo: np.ndarray
    t: np.ndarray
    at_start: np.ndarray

    def read(self, values: np.ndarray) -> np.ndarray:
        """Another curve's values (same grid) at this crossing, linearly interpolated."""
        rows = np.arange(values.shape[0])
        hi = np.minimum(self.lo + 1, values.shape[1] - 1)
        return values[rows, self.lo] * (1 - self.t) + values[rows, hi] * self.t


def first_crossing(log_x: np.ndarray, values: np.ndarray, level: float | np.ndarray) -> Crossing:
    """The smallest scale where ``values`` (samples × points on ``log_x``) reach ``level``."""
    samples, n = values.shape
    level = np.broadcast_to(np.asarray(level, dtype=float), (samples,))
    above = values >= level[:, None]
    reached = above.any(axis=1)
    first = above.argmax(axis=1)
    at_start = reached & (first == 0)
    inside = reached & (first > 0)
    lo = np.where(inside, first - 1, np.where(at_start, 0, n - 1))
    t = np.where(at_start, 0.0, 1.0)
    if inside.any():
        t = t.copy()
        t[inside] = _refine(values[inside], lo[inside], level[inside])
    log_cross = np.where(reached, log_x[lo] + t * (log_x[np.minimum(lo + 1, n - 1)] - log_x[lo]),
                         np.nan)
    return Crossing(log_cross, lo, t, at_start)


def _refine(values: np.ndarray, lo: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Fraction t in [0, 1] between grid points lo and lo+1 where the curve meets ``level``.

    Cubic Hermite in logit space with centred-difference slopes (per grid step, so the step
    itself cancels), solved by bisection: the interpolant's ends straddle the level.
    """
    rows = np.arange(values.shape[0])
    n = values.shape[1]
    g = lambda j: logit(np.clip(values[rows, np.clip(j, 0, n - 1)], _EPS, 1 - _EPS))  # noqa: E731
    g0, g1 = g(lo), g(lo + 1)
    m0 = (g1 - g(lo - 1)) / np.where(lo > 0, 2.0, 1.0)
    m1 = (g(lo + 2) - g0) / np.where(lo + 2 < n, 2.0, 1.0)
    target = logit(np.clip(level, _EPS, 1 - _EPS))
    a, b = np.zeros_like(g0), np.ones_like(g0)
    for _ in range(40):  # 2^-40 of a grid step: far below any precision that matters
        t = (a + b) / 2
        t2, t3 = t * t, t * t * t
        hermite = ((2 * t3 - 3 * t2 + 1) * g0 + (t3 - 2 * t2 + t) * m0
                   + (-2 * t3 + 3 * t2) * g1 + (t3 - t2) * m1)
        below = hermite < target
        a, b = np.where(below, t, a), np.where(below, b, t)
    return (a + b) / 2


def sharpness(log_x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Decades between 10% and 90% of each curve's rise over the range (nan if it does not rise)."""
    start, end = values[:, 0], values[:, -1]
    rise = end - start
    low = first_crossing(log_x, values, start + 0.1 * rise).log_x
    high = first_crossing(log_x, values, start + 0.9 * rise).log_x
    return np.where(rise > 1e-9, high - low, np.nan)


# --- predictions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """When one node crosses its threshold (the JSON object of ``capgraph predict``)."""

    name: str
    kind: str
    threshold: float
    status: str  # crosses | above_at_start | never
    crossing: ScalePoint | None
    data_limited: bool
    value_at_start: float
    value_at_end: float
    max_value: float
    sharpness_decades: float | None
    bottleneck: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "threshold": self.threshold,
            "status": self.status,
            "crossing": self.crossing.as_dict() if self.crossing else None,
            "data_limited": self.data_limited,
            "value_at_start": self.value_at_start,
            "value_at_end": self.value_at_end,
            "max_value": self.max_value,
            "sharpness_decades": self.sharpness_decades,
            "bottleneck": self.bottleneck,
        }


_STATUS_ORDER = {"above_at_start": 0, "crosses": 1, "never": 2}


def sort_key(p: Prediction) -> tuple[int, float, str]:
    """Table order: already above, then by crossing scale, then never; ties by name."""
    return (_STATUS_ORDER[p.status], p.crossing.params if p.crossing else 0.0, p.name)


def predict(plan: Plan, log_x: np.ndarray, axis: str, units: FixedRatio,
            data_limit: float | None = None) -> list[Prediction]:
    """Crossing of every node with a threshold, in table order."""
    out: list[Prediction] = []

    def on_node(i: int, values: np.ndarray, child_values: list[np.ndarray]) -> None:
        op = plan.ops[i]
        if op.threshold is None:
            return
        crossing = first_crossing(log_x, values, op.threshold)
        log_c = float(crossing.log_x[0])
        status = ("never" if math.isnan(log_c)
                  else "above_at_start" if bool(crossing.at_start[0]) else "crosses")
        point = units.point(log_c, axis) if status != "never" else None
        bottleneck = None
        if child_values:  # read children where the node crosses (or at the end if it never does)
            at = [float(crossing.read(c)[0]) if status != "never" else float(c[0, -1])
                  for c in child_values]
            bottleneck = plan.ops[op.children[int(np.argmin(at))]].name
        sharp = float(sharpness(log_x, values)[0])
        out.append(Prediction(
            name=op.name, kind=op.kind, threshold=op.threshold, status=status, crossing=point,
            data_limited=bool(point and data_limit is not None and point.tokens > data_limit),
            value_at_start=float(values[0, 0]), value_at_end=float(values[0, -1]),
            max_value=float(values[0].max()),
            sharpness_decades=None if math.isnan(sharp) else sharp, bottleneck=bottleneck,
        ))

    evaluate(plan, log_x, on_node=on_node, keep=())
    return sorted(out, key=sort_key)
