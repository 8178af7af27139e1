"""One central estimate: the Monte Carlo median as the answer of a map with parameter ranges.

A map with ranges has two candidate answers: the map with every range at its median (one
evaluation), and the median over Monte Carlo draws of the whole map. They differ whenever the map
is non-linear in its parameters (a chain of ten steps, a composite crossing, a floor), so every
output shows the second, the one the intervals are centred on, and keeps the first under the
explicit name ``at_medians``.

Percentiles are taken over *all* draws, a draw that never crosses in range counting as beyond its
end: the median crossing is then the scale by which half the draws have crossed (the same reading
as ``p_crossed_by``), and a percentile beyond the range is None with a reason, never a number
taken from the draws that happen to cross.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from capgraph.engine.plan import Plan, evaluate
from capgraph.engine.predict import (
    QUANTILES,
    Crossing,
    Prediction,
    bottlenecks,
    sort_key,
    thresholded,
)
from capgraph.kernels.scale import FixedRatio

#: How far beyond the range a draw that never crosses is placed before taking percentiles: far
#: enough that any percentile touching one lies beyond the range's end.
_BEYOND = 1e6


def beyond_range(p_never: float, key: str) -> str:
    """Why a crossing percentile is missing: ``key`` lies among the draws that never cross."""
    return f"{key} lies beyond the range: {p_never:.0%} of draws never cross in it"


def central_predictions(plan: Plan, point: list[Prediction], log_x: np.ndarray, log_cross: np.ndarray,
                        extras: dict[str, np.ndarray], axis: str, units: FixedRatio,
                        data_limit: float | None = None, by_log: float | None = None) -> list[Prediction]:
    """Predictions whose every number is a Monte Carlo median, with the point estimate kept beside.

    ``point`` are the predictions of the map at its parameter medians (from
    :func:`~capgraph.engine.predict.point_estimates` on the fine grid ``log_x`` of that plan);
    ``log_cross`` and ``extras`` come from
    :func:`~capgraph.engine.predict.crossing_samples` in :func:`thresholded` order.
    """
    nodes = thresholded(plan)
    lo, hi = float(log_x[0]), float(log_x[-1])
    crossed = ~np.isnan(log_cross)
    p_never = 1.0 - crossed.mean(axis=1)
    p_start = (log_cross == lo).mean(axis=1)
    filled = np.where(crossed, log_cross, hi + _BEYOND)
    qs = row_quantiles(filled, list(QUANTILES.values()))  # (nodes, 3)
    qs = np.where(qs <= hi, qs, np.nan)
    with np.errstate(invalid="ignore"):
        reached = (log_cross <= by_log).mean(axis=1) if by_log is not None else None
        limited = None
        if data_limit is not None:
            log_limit = math.log10(data_limit)
            tokens = units.convert(filled, axis, "tokens")  # never: beyond the range's end
            end_exceeds = float(units.convert(hi, axis, "tokens")) > log_limit
            limited = np.where(crossed, tokens > log_limit, end_exceeds).mean(axis=1)
    median = qs[:, 1]
    neck = _median_bottlenecks(plan, log_x, nodes, median)
    by_name = {p.name: p for p in point}
    flat = units.points(np.nan_to_num(qs, nan=lo).ravel(), axis)
    values = {k: row_medians(extras[k]).tolist() for k in ("start", "end", "top")}
    sharp = row_medians(extras["sharp"], skip_nan=True).tolist()  # nan: a draw that does not rise
    out = []
    for i, node in enumerate(nodes.tolist()):
        name = plan.names[node]
        points = flat[3 * i:3 * i + 3]
        quantiles = {k: None if np.isnan(q) else pt
                     for k, q, pt in zip(QUANTILES, qs[i], points, strict=True)}
        why = {k: beyond_range(float(p_never[i]), k) for k, v in quantiles.items() if v is None}
        crossing = quantiles["p50"]
        status = "never" if crossing is None else "above_at_start" if median[i] == lo else "crosses"
        out.append(Prediction(
            name=name, kind=plan.kinds[node], threshold=float(plan.thresholds[node]), status=status,
            crossing=crossing,
            data_limited=bool(crossing and data_limit is not None and crossing.tokens > data_limit),
            value_at_start=values["start"][i], value_at_end=values["end"][i], max_value=values["top"][i],
            sharpness_decades=None if math.isnan(sharp[i]) else sharp[i],
            bottleneck=neck.get(node),
            quantiles=None if all(v is None for v in quantiles.values()) else quantiles,
            p_never=float(p_never[i]),
            p_crossed_by=None if reached is None else float(reached[i]),
            p_above_at_start=float(p_start[i]),
            p_data_limited=None if limited is None else float(limited[i]),
            at_medians=replace(by_name[name], quantiles=None),
            why_missing=why or None,
        ))
    return sorted(out, key=sort_key)


def row_quantiles(x: np.ndarray, qs: list[float]) -> np.ndarray:
    """Each row's quantiles ``qs``, (rows, len(qs)), as ``np.quantile(x, qs, axis=1).T`` gives them
    (its default, linear interpolation between the two order statistics around (n − 1)·q, in the
    same arithmetic), from one sort of the rows: numpy's vectorised sort beats the partition
    ``np.quantile`` makes by four times on 2,000 draws. Rows must hold no nan.

    >>> row_quantiles(np.array([[4.0, 1.0, 3.0, 2.0]]), [0.05, 0.5]).tolist()
    [[1.15, 2.5]]
    """
    ordered = np.sort(x, axis=1)
    n = x.shape[1]
    at = (n - 1) * np.asarray(qs, dtype=float)
    below = np.floor(at)
    gamma = at - below
    lo = below.astype(np.intp)
    a, b = ordered[:, lo], ordered[:, np.minimum(lo + 1, n - 1)]
    diff = b - a
    out = a + diff * gamma
    # as numpy's _lerp: from the upper neighbour when nearer to it, which keeps the result monotone
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), out)


def row_medians(x: np.ndarray, skip_nan: bool = False) -> np.ndarray:
    """Each row's median in float64, as ``np.median`` (or ``np.nanmedian`` with ``skip_nan``) gives
    it, from one sort of the rows: the two middle values of a float32 row are averaged in float64.
    ``np.nanmedian`` goes row by row in Python and a float64 copy doubles the memory (a third of
    the Monte Carlo summary's time). A row that is all nan, or holds a nan without ``skip_nan``, is nan.

    >>> row_medians(np.array([[3.0, 1.0, 2.0, 10.0], [np.nan, 1.0, 2.0, 3.0]]), skip_nan=True).tolist()
    [2.5, 2.0]
    """
    ordered = np.sort(x, axis=1)  # nan sorts last
    count = (~np.isnan(ordered)).sum(axis=1) if skip_nan else np.full(len(x), x.shape[1])
    low = np.take_along_axis(ordered, np.maximum(count - 1, 0)[:, None] // 2, axis=1)[:, 0]
    high = np.take_along_axis(ordered, np.maximum(count, 1)[:, None] // 2, axis=1)[:, 0]
    out = (low.astype(float) + high) / 2
    out[(count == 0) | (np.isnan(ordered[:, -1]) if not skip_nan else False)] = np.nan
    return out


def _median_bottlenecks(plan: Plan, log_x: np.ndarray, nodes: np.ndarray,
                        median: np.ndarray) -> dict[int, str]:
    """The child furthest from 1 at each node's median crossing, in the map at its medians.

    A name cannot be a median; reading the children at the median crossing (at the range's end
    when the median never crosses) ties the bottleneck to the number shown beside it.
    """
    values = evaluate(plan, log_x, slice(0, 1))[:, 0, :]
    n = log_x.size
    at = np.where(np.isnan(median), log_x[-1], median)
    lo = np.clip(np.searchsorted(log_x, at, side="right") - 1, 0, n - 2)
    t = np.clip((at - log_x[lo]) / (log_x[lo + 1] - log_x[lo]), 0.0, 1.0)
    return bottlenecks(plan, values, nodes, Crossing(at, lo, t, np.zeros(len(nodes), dtype=bool)))
