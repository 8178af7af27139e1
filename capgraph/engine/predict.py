"""Threshold crossings: where each node's value first reaches its threshold, and how sharply.

Values come from the engine on a log-spaced grid over the map's range. A crossing is bracketed
between two grid points, then refined on a cubic Hermite interpolant of logit(value) between them.
In logit space a logistic is a straight line and composites of logistics are nearly so, which is
why a grid of 64 points a decade is enough to meet the 0.001-decade precision the tests check
against closed forms and against brentq on the exact curves.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from capgraph.engine import kofn, mc_crossings, workers
from capgraph.engine.plan import Plan, evaluate, evaluate_on_cores
from capgraph.kernels.rules import RULES, normal_tail
from capgraph.kernels.scale import AXES, FixedRatio, ScalePoint, unit_columns

#: Grid density for the point-estimate pass, and for Monte Carlo passes (whose sampling error
#: dwarfs the interpolation error, so a coarser grid buys speed for nothing).
GRID_PER_DECADE = 64
MC_GRID_PER_DECADE = 16
#: Values evaluated at once in a Monte Carlo slice (16 MB in float32): a level's arrays stay in
#: cache. Slices hold at least MIN_SLICE samples, so Python's cost per step stays small.
CACHE_FLOATS = 4_000_000
MIN_SLICE = 8
#: A deep, narrow map (a chain) spends its time in Python's cost per level, not in arithmetic, so its
#: slices grow until a level computes about LEVEL_FLOATS values, while a slice holds at most
#: SLICE_FLOATS values (128 MB in float32): a 10,000-step chain made 250 passes of 8 samples.
LEVEL_FLOATS = 16_384
SLICE_FLOATS = 1 << 25
#: Rows (node × sample curves) handled at once when reading crossings: bounds temporary memory.
BATCH_ROWS = 8192
#: Crossings of kinked curves (a ``min`` rule below) are refined on a grid this much finer, by
#: evaluating the map again inside the bracketing cells, while that costs at most KINK_BUDGET values.
KINK_STEPS = 16
KINK_BUDGET = 20_000_000
_EPS = 1e-15
#: Each thread's buffer for the values of a Monte Carlo slice (see :func:`_crossings_of_slice`).
_buffers = threading.local()


def grid(log_lo: float, log_hi: float, per_decade: int = GRID_PER_DECADE) -> np.ndarray:
    """Evenly spaced log10 scales covering [log_lo, log_hi], ends included."""
    n = max(2, math.ceil((log_hi - log_lo) * per_decade) + 1)
    return np.linspace(log_lo, log_hi, n)


@dataclass
class Crossing:
    """Where each sample's curve first reaches a level, as arrays over samples.

    ``log_x`` is nan where the curve never reaches the level; ``lo`` and ``t`` locate the crossing
    between grid points ``lo`` and ``lo + 1`` (fraction ``t``) so other curves can be read there
    (as the bottleneck does).
    """

    log_x: np.ndarray
    lo: np.ndarray
    t: np.ndarray
    at_start: np.ndarray


def first_crossing(log_x: np.ndarray, values: np.ndarray, level: float | np.ndarray,
                   steps: int = 32) -> Crossing:
    """The smallest scale where ``values`` (samples × points on ``log_x``) reach ``level``.

    ``steps`` bounds the Newton steps that place a crossing inside its grid cell (:func:`_refine`).
    """
    samples, n = values.shape
    level = np.broadcast_to(np.asarray(level, dtype=float), (samples,))
    above = values >= level[:, None].astype(values.dtype)
    first = above.argmax(axis=1)  # 0 also when never reached: told apart on the next line
    reached = above[np.arange(samples), first]
    at_start = reached & (first == 0)
    inside = reached & (first > 0)
    lo = np.where(inside, first - 1, np.where(at_start, 0, n - 1))
    t = np.where(at_start, 0.0, 1.0)
    if inside.any():
        t = t.copy()
        t[inside] = _refine(values, np.flatnonzero(inside), lo[inside], level[inside], steps)
    log_cross = np.where(reached, log_x[lo] + t * (log_x[np.minimum(lo + 1, n - 1)] - log_x[lo]),
                         np.nan)
    return Crossing(log_cross, lo, t, at_start)


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 − p)), with numpy alone (scipy.special costs start-up)."""
    return np.log(p) - np.log1p(-p)


def _refine(values: np.ndarray, rows: np.ndarray, lo: np.ndarray, level: np.ndarray,
            steps: int) -> np.ndarray:
    """Fraction t in [0, 1] between grid points lo and lo+1 where curve ``rows`` meet ``level``.

    Cubic Hermite in logit space with centred-difference slopes (per grid step, so the step
    itself cancels), solved by Newton's method from the secant's root: the cubic is all but
    straight inside one cell, so the secant starts close and each step squares the error; the
    steps stop early (at most ``steps``) once every root has moved less than 1e-12 of a cell. Where
    the interpolant does not rise all through the cell, Newton cannot be trusted, and where it is
    nearly flat in part of the cell, Newton may still be creeping back from an end after ``steps``:
    bisection, which keeps the bracket, solves both instead (a few cells in a hundred thousand).
    """
    n = values.shape[1]
    at = np.clip(lo[:, None] + np.arange(-1, 3), 0, n - 1)  # grid points lo − 1 … lo + 2
    at += (rows * n)[:, None]  # flat positions: np.take is twice as fast as a 2-d fancy index
    g = logit(np.clip(np.take(values.reshape(-1), at).astype(float), _EPS, 1 - _EPS))
    gm, g0, g1, g2 = g.T
    m0 = (g1 - gm) * np.where(lo > 0, 0.5, 1.0)
    m1 = (g2 - g0) * np.where(lo + 2 < n, 0.5, 1.0)
    c2, c3 = 3 * (g1 - g0) - 2 * m0 - m1, 2 * (g0 - g1) + m0 + m1  # H(t) = g0 + m0·t + c2·t² + c3·t³
    target = logit(np.clip(level, _EPS, 1 - _EPS))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(np.nan_to_num((target - g0) / (g1 - g0), nan=0.5), 0.0, 1.0)
        live: slice | np.ndarray = slice(None)  # all roots, then those still moving (a few in a thousand)
        coeffs = g0, m0, c2, c3, target
        slow = np.zeros(t.size, dtype=bool)  # roots still moving after the last step
        for step in range(steps):
            a0, b1, b2, b3, aim = coeffs
            u = t[live]
            move = (a0 + u * (b1 + u * (b2 + u * b3)) - aim) / (b1 + u * (2 * b2 + 3 * u * b3))
            move[~np.isfinite(move)] = 0.0
            t[live] = np.clip(u - move, 0.0, 1.0)
            moving = np.abs(move) > 1e-12
            if not moving.any():
                break
            if step == steps - 1:
                slow[live] = moving
            elif step >= 1:  # shrinking the set costs a gather per coefficient: worth it once few move
                live = np.flatnonzero(moving) if isinstance(live, slice) else live[moving]
                coeffs = tuple(c[moving] for c in coeffs)
        # H'(t) = m0 + 2·c2·t + 3·c3·t² is m1 at t = 1; its minimum inside (0, 1), if any, at −c2/(3·c3)
        dips = (c3 > 0) & (c2 < 0) & (-c2 < 3 * c3) & (m0 - c2 * c2 / (3 * c3) <= 0)
    bent = (m0 <= 0) | (m1 <= 0) | dips | slow
    if bent.any():
        t[bent] = _bisect(g0[bent], g1[bent], m0[bent], c2[bent], c3[bent], target[bent], 24)
    return t


def _bisect(g0, g1, m0, c2, c3, target, steps: int) -> np.ndarray:
    """Root of H(t) = target on [0, 1] by bisection (the ends straddle it), then one secant step."""
    a, b = np.zeros_like(g0), np.ones_like(g0)
    ha, hb = g0, g1
    for _ in range(steps):
        t = (a + b) / 2
        h = g0 + t * (m0 + t * (c2 + t * c3))
        below = h < target
        a, ha = np.where(below, t, a), np.where(below, h, ha)
        b, hb = np.where(below, b, t), np.where(below, hb, h)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = a + (target - ha) / (hb - ha) * (b - a)
    return np.where(np.isfinite(t), np.clip(t, a, b), (a + b) / 2)


def sharpness(log_x: np.ndarray, values: np.ndarray, steps: int = 32) -> np.ndarray:
    """Decades between 10% and 90% of each curve's rise over the range (nan if it does not rise);
    ``steps`` as for :func:`first_crossing`."""
    start, end = values[:, 0].astype(float), values[:, -1].astype(float)
    rise = end - start
    low = first_crossing(log_x, values, start + 0.1 * rise, steps).log_x
    high = first_crossing(log_x, values, start + 0.9 * rise, steps).log_x
    return np.where(rise > 1e-9, high - low, np.nan)


# --- predictions -----------------------------------------------------------------------------------

QUANTILES = {"p5": 0.05, "p50": 0.5, "p95": 0.95}


@dataclass(frozen=True)
class Prediction:
    """When one node crosses its threshold (the JSON object of ``capgraph predict``).

    For a map with parameter ranges the answer is the Monte Carlo one: ``crossing`` is the median
    crossing over every draw (a draw that never crosses in range counts as beyond its end), and
    ``status``, the values and sharpness are medians over the draws too; ``at_medians`` keeps the
    map with every range at its median, a different (and generally not the median) answer. The
    bottleneck is the child furthest from 1 at the median crossing in that map. ``quantiles`` are
    the 5th, 50th and 95th percentiles of the crossing over all draws (None where a percentile lies
    beyond the range: ``why_missing`` says so), draws already above the threshold at the start of
    the range counted at the start (a share given by ``p_above_at_start``); ``p_never`` is the share
    that never crosses in range, ``p_crossed_by`` the share crossed by a given scale and
    ``p_data_limited`` the share whose crossing needs more training tokens than exist. Without
    ranges (or in point mode) every one of them follows from the single point estimate.
    """

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
    quantiles: dict[str, ScalePoint | None] | None = None
    p_never: float = 0.0
    p_crossed_by: float | None = None
    p_above_at_start: float = 0.0
    p_data_limited: float | None = None  # None: the map has no data limit
    at_medians: Prediction | None = None  # the map at its parameter medians (ranged maps only)
    why_missing: dict[str, str] | None = None  # a reason for each quantile that is None
    extrapolated: tuple[str, ...] = ()  # curves below whose data the crossing lies beyond

    @property
    def uncertain(self) -> bool:
        """Whether the crossing has a spread (its 5th and 95th percentiles differ)."""
        q = self.quantiles
        return bool(q) and not (q["p5"] is not None and q["p5"] == q["p95"])

    def to_json(self) -> dict[str, Any]:
        out = {
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
            "quantiles": ({k: v.as_dict() if v else None for k, v in self.quantiles.items()}
                          if self.quantiles else None),
            "p_never": self.p_never,
            "p_above_at_start": self.p_above_at_start,
            "p_crossed_by": self.p_crossed_by,
            "p_data_limited": self.p_data_limited,
            "extrapolated": list(self.extrapolated),
        }
        if self.why_missing:
            out["why_missing"] = dict(self.why_missing)
        if self.at_medians is not None:
            a = self.at_medians
            out["at_medians"] = {"status": a.status, "crossing": a.crossing.as_dict() if a.crossing else None,
                                 "data_limited": a.data_limited, "sharpness_decades": a.sharpness_decades,
                                 "bottleneck": a.bottleneck}
        return out


def _record(fields: dict[str, Any]) -> Prediction:
    """A :class:`Prediction` from all of its fields, in order, without the frozen dataclass's
    ``__init__`` and its ``object.__setattr__`` per field (0.2 s on 100,000 nodes)."""
    p = object.__new__(Prediction)
    object.__setattr__(p, "__dict__", fields)
    return p


_STATUS_ORDER = {"above_at_start": 0, "crosses": 1, "never": 2}


def sort_key(p: Prediction) -> tuple[int, float, str]:
    """Table order: already above, then by crossing scale, then never; ties by name."""
    return (_STATUS_ORDER[p.status], p.crossing.params if p.crossing else 0.0, p.name)


def thresholded(plan: Plan) -> np.ndarray:
    """Indices of the nodes that have a threshold, in plan order."""
    return np.flatnonzero(~np.isnan(plan.thresholds))


def point_estimates(plan: Plan, log_x: np.ndarray, axis: str, units: FixedRatio,
                    data_limit: float | None = None, *, by_log: float | None = None) -> list[Prediction]:
    """Every thresholded node's prediction from a one-sample (point-estimate) plan."""
    return point_columns(plan, log_x, axis, units, data_limit, by_log=by_log).predictions()


@dataclass
class PointColumns:
    """:func:`point_estimates` as columns: one entry per thresholded node, in plan order.

    What a prediction of a point estimate holds, as lists and arrays; :meth:`predictions` makes
    the records, and ``predict --json`` of a large map writes its text from the columns
    (:mod:`capgraph.outputs.jsonout`) without making them.
    """

    names: list[str]
    kinds: list[str]
    thresholds: np.ndarray
    status: np.ndarray  # 0 above_at_start, 1 crosses, 2 never (the table's order)
    #: the crossing's params, tokens and flops (nan where there is none), as its point has them
    scales: list[list[float]]
    #: the crossings as points, when the units report a loss too (None: made from ``scales``)
    points: list[ScalePoint] | None
    starts: np.ndarray
    ends: np.ndarray
    tops: np.ndarray
    sharpness: np.ndarray  # nan where a curve does not rise
    bottlenecks: list[str | None]
    data_limit: float | None = None
    by: np.ndarray | None = None  # crossed by the scale asked about (None: not asked)
    #: the curves whose data a row's crossing lies beyond, by row (rows without any left out)
    extrapolated: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def data_limited(self) -> np.ndarray:
        """Whether each crossing needs more training tokens than exist."""
        if self.data_limit is None:
            return np.zeros(len(self.names), dtype=bool)
        with np.errstate(invalid="ignore"):
            return np.array(self.scales[1], dtype=float) > self.data_limit

    def order(self) -> np.ndarray:
        """Rows in table order: :func:`sort_key`'s (status, params, name), names by Python's
        comparison (their rank), so the order is exactly that of ``sorted(key=sort_key)``."""
        n = len(self.names)
        rank = np.empty(n, dtype=np.intp)
        rank[sorted(range(n), key=self.names.__getitem__)] = np.arange(n)
        params = np.where(self.status != 2, np.array(self.scales[0], dtype=float), 0.0)  # 2: no crossing
        return np.lexsort((rank, params, self.status))

    def predictions(self) -> list[Prediction]:
        """The records, in table order."""
        points = self.points
        if points is None:
            points = list(map(ScalePoint, *self.scales))
        limited = self.data_limited().tolist()
        by = [None] * len(self.names) if self.by is None else self.by.tolist()
        rows = list(zip(self.names, self.kinds, self.thresholds.tolist(), self.status.tolist(), points,
                        limited, self.starts.tolist(), self.ends.tolist(), self.tops.tolist(),
                        self.sharpness.tolist(), self.bottlenecks, by, strict=True))
        out = []
        for i in self.order().tolist():
            name, kind, threshold, code, point, limit, v0, v1, top, sharp, neck, by_row = rows[i]
            no, first = code == 2, code == 0
            out.append(_record({  # every field, in Prediction's order
                "name": name, "kind": kind, "threshold": threshold,
                "status": _STATUSES[code], "crossing": None if no else point, "data_limited": limit,
                "value_at_start": v0, "value_at_end": v1, "max_value": top,
                "sharpness_decades": None if math.isnan(sharp) else sharp,
                "bottleneck": neck, "quantiles": None if no else dict.fromkeys(QUANTILES, point),
                "p_never": float(no), "p_crossed_by": None if by_row is None else float(by_row),
                "p_above_at_start": float(first),
                "p_data_limited": None if self.data_limit is None else float(limit),
                "at_medians": None, "why_missing": None, "extrapolated": self.extrapolated.get(i, ()),
            }))
        return out


_STATUSES = ("above_at_start", "crosses", "never")


def point_columns(plan: Plan, log_x: np.ndarray, axis: str, units: FixedRatio,
                  data_limit: float | None = None, *, by_log: float | None = None) -> PointColumns:
    """:func:`point_estimates` as :class:`PointColumns` (plan order; no record made)."""
    values = evaluate_on_cores(plan, log_x)
    nodes = thresholded(plan)
    with_loss = getattr(units, "law", None) is not None  # a scenario's points carry its own loss
    parts: list[tuple] = []
    for start in range(0, len(nodes), BATCH_ROWS):
        batch = nodes[start:start + BATCH_ROWS]
        # the nodes of a batch are usually a run of rows: read them in place rather than copy them
        run = batch[-1] - batch[0] + 1 == len(batch)
        curves_ = values[batch[0]:batch[-1] + 1] if run else values[batch]
        crossing = first_crossing(log_x, curves_, plan.thresholds[batch])
        _refine_kinks(plan, log_x, batch, crossing)
        neck = bottlenecks(plan, values, batch, crossing)
        if with_loss:
            points = units.points(crossing.log_x, axis)
            scales = [[getattr(p, unit) for p in points] for unit in AXES]
        else:  # the columns units.points makes its points of
            points = None
            scales = unit_columns(units, units.log_params(np.asarray(crossing.log_x, dtype=float), axis))
        status = np.where(np.isnan(crossing.log_x), 2, np.where(crossing.at_start, 0, 1))
        with np.errstate(invalid="ignore"):
            by = None if by_log is None else crossing.log_x <= by_log + 1e-12
        parts.append((scales, points, status, curves_[:, 0], curves_[:, -1], curves_.max(axis=1),
                      sharpness(log_x, curves_), by, list(map(neck.get, batch.tolist()))))
    chain = itertools.chain.from_iterable
    if not parts:  # no node has a threshold
        none = np.array([], dtype=float)
        parts = [([[], [], []], [], np.array([], dtype=int), none, none, none, none,
                  None if by_log is None else np.array([], dtype=bool), [])]
    (scales, points, status, starts, ends, tops, sharp, by, necks) = zip(*parts, strict=True)
    rows = nodes.tolist()
    units_ = [list(chain(column)) for column in zip(*scales, strict=True)]  # params, tokens, flops
    return PointColumns(
        list(map(plan.names.__getitem__, rows)), list(map(plan.kinds.__getitem__, rows)),
        plan.thresholds[nodes], np.concatenate(status), units_,
        list(chain(points)) if with_loss else None, np.concatenate(starts), np.concatenate(ends),
        np.concatenate(tops), np.concatenate(sharp), list(chain(necks)), data_limit,
        None if by_log is None else np.concatenate(by))


def _refine_kinks(plan: Plan, log_x: np.ndarray, batch: np.ndarray, crossing: Crossing) -> None:
    """Re-find the crossings of kinked curves on a 16× finer grid inside their bracketing cells.

    Between grid points a crossing is read off a smooth interpolant, which cannot see a kink (the
    corner of a ``min``); evaluating the map at KINK_STEPS points across each bracketing cell
    shrinks that error sixteenfold. Maps so large that this would cost more than KINK_BUDGET
    values keep the interpolated crossing (docs/maths.md gives the error).
    """
    inside = ~np.isnan(crossing.log_x) & ~crossing.at_start
    rows = np.flatnonzero(plan.kinked[batch] & inside)
    if not rows.size:
        return
    cells = np.unique(crossing.lo[rows])
    if len(plan) * len(cells) * (KINK_STEPS + 1) > KINK_BUDGET:
        return
    step = np.linspace(0.0, log_x[1] - log_x[0], KINK_STEPS + 1)
    fine = evaluate(plan, (log_x[cells][:, None] + step).ravel())[:, 0, :]
    fine = fine.reshape(len(plan), len(cells), KINK_STEPS + 1)
    cell = np.searchsorted(cells, crossing.lo[rows])
    local = first_crossing(step, fine[batch[rows], cell], plan.thresholds[batch[rows]])
    found = ~np.isnan(local.log_x) & ~local.at_start  # the ends agree with the grid: always found
    crossing.log_x[rows[found]] = log_x[cells[cell[found]]] + local.log_x[found]


def bottlenecks(plan: Plan, values: np.ndarray, batch: np.ndarray, crossing: Crossing) -> dict[int, str]:
    """The child whose improvement moves each node's crossing most (at the range's end if it never
    crosses): the largest :func:`bottleneck_scores`, ties to the lower value, then plan order."""
    row, child, score, value = bottleneck_scores(plan, values, batch, crossing)
    if not row.size:
        return {}
    order = np.lexsort((child, value, -score, row))  # by node, then score, value, plan order
    best = order[np.unique(row[order], return_index=True)[1]]  # each node's first in that order
    names = map(plan.names.__getitem__, child[best].tolist())
    return dict(zip(batch[row[best]].tolist(), names, strict=True))


def bottleneck_scores(plan: Plan, values: np.ndarray, batch: np.ndarray, crossing: Crossing
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How far each child's improvement moves its parent's crossing, for the parents in ``batch``.

    Shifting child c's curve earlier by δ decades raises the parent's value at its crossing x* by
    ∂P/∂p_c · p_c'(x*) · δ, and moves the crossing by that over P'(x*): the child's elasticity
    (:mod:`capgraph.engine.explain`) times a factor common to all children of one parent, which the
    parent's own lens (monotone) does not change either. So the children are ranked by
    ∂P/∂p_c · p_c'(x*), with ∂P/∂p_c read from the rule's registry record: w/p_c for a product in
    log space (``all``, ``geomean``; the common factor P dropped), w/(1 − p_c) in log1m space
    (``any``), w in linear space (``mean``), and for padded and tail rules (``min``, ``k_of_n``) by
    central differences through the engine's own kernel, every trial of the child moved together.
    Returns arrays over (parent, child) pairs: the parent's row in ``batch``, the child, its score
    and its value at the crossing.
    """
    position = np.full(len(plan), -1)
    position[batch] = np.arange(len(batch))
    n = values.shape[1]
    cell = np.minimum(crossing.lo, n - 2)  # the grid cell of the crossing, for slopes

    def at(rows: np.ndarray, kids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each child's value at its parent's crossing, and its rise over the crossing's grid cell."""
        lo, t = crossing.lo[rows], crossing.t[rows]
        p = values[kids, lo] * (1 - t) + values[kids, np.minimum(lo + 1, n - 1)] * t
        return p, values[kids, cell[rows] + 1] - values[kids, cell[rows]]

    found: list[tuple[np.ndarray, ...]] = []
    for level in plan.levels:
        for block in level.rules:
            rows_of_block = position[block.nodes]
            if (rows_of_block < 0).all():
                continue
            rule = RULES[block.rule]
            if rule.batch == "product":
                coo = block.matrix.tocoo()
                keep = rows_of_block[coo.row] >= 0
                rows, kids, w = rows_of_block[coo.row[keep]], block.children[coo.col[keep]], coo.data[keep]
                p, dp = at(rows, kids)
                local = {"log": w / np.maximum(p, _EPS), "log1m": w / np.maximum(1 - p, _EPS)}.get(
                    rule.space or "linear", w)
                found.append((rows, kids, local * dp, p))
            elif rule.batch == "tail":
                found.append(_tail_scores(block, rows_of_block, at))
            else:
                found.append(_padded_scores(block, rule, rows_of_block, at))
    if not found:
        empty = np.array([], dtype=int)
        return empty, empty, np.array([]), np.array([])
    return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))  # type: ignore[return-value]


def _padded_scores(block, rule, rows_of_block: np.ndarray, at, h: float = 1e-6):
    """∂P/∂p_c · p_c' for a padded rule, ∂P/∂p_c by central differences through ``rule.padded``."""
    cols_, rows_, kids_ = _pairs(block.trials, rows_of_block)
    trials = block.trials[:, cols_]  # (T, pairs): the trials of each pair's parent
    probs, _ = at(np.broadcast_to(rows_, trials.shape).ravel(), np.maximum(trials, 0).ravel())
    probs = np.where(trials < 0, rule.pad, probs.reshape(trials.shape))  # the pad changes nothing
    p, dp = at(rows_, kids_)
    up, down = np.minimum(p + h, 1.0), np.maximum(p - h, 0.0)
    mine = trials == kids_
    params = block.ks[cols_] if block.ks is not None else None
    gain = (rule.padded(np.where(mine, up, probs), params)
            - rule.padded(np.where(mine, down, probs), params)) / np.maximum(up - down, _EPS)
    return rows_, kids_, gain * dp, p


def _pairs(children: np.ndarray, rows_of_block: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each (parent column, child) pair of a block once, however many trials the child has:
    (columns, rows in the batch, children)."""
    mine = np.flatnonzero(rows_of_block >= 0)
    kids = children[:, mine]
    real = kids >= 0
    cols, pair_kids = np.unique(np.stack([np.broadcast_to(mine, kids.shape)[real], kids[real]]), axis=1)
    return cols, rows_of_block[cols], pair_kids


def _tail_scores(block, rows_of_block: np.ndarray, at, h: float = 1e-6):
    """∂P/∂p_c · p_c' for a k-of-n block (:mod:`capgraph.engine.kofn`), ∂P/∂p_c by central
    differences: each pair becomes a parent of its own whose trials read one row each of a
    two-column table (the child raised and lowered by h), evaluated by the block's own method."""
    tail = block.kofn
    if not tail.exact and tail.children.shape[0] * int((tail.children >= 0).sum()) > _PAIR_TABLE:
        return _normal_tail_scores(tail, rows_of_block, at, h)
    cols, rows, kids = _pairs(tail.children, rows_of_block)
    members = tail.children[:, cols]  # (T or G, pairs): the trials (or distinct children) of each pair
    probs, _ = at(np.broadcast_to(rows, members.shape).ravel(), np.maximum(members, 0).ravel())
    probs = probs.reshape(members.shape)
    p, dp = at(rows, kids)
    up, down = np.minimum(p + h, 1.0), np.maximum(p - h, 0.0)
    mine = members == kids
    table = np.stack([np.where(mine, up, probs), np.where(mine, down, probs)], axis=-1)
    slots = np.arange(members.size).reshape(members.shape)
    own = kofn.KOfNBlock(tail.exact, np.where(members >= 0, slots, -1), tail.ks[cols],
                         None if tail.counts is None else tail.counts[:, cols])
    both = kofn.apply(own, table.reshape(members.size, 2))  # (pairs, 2)
    return rows, kids, (both[:, 0] - both[:, 1]) / np.maximum(up - down, _EPS) * dp, p


#: Above this many cells of the table of a parent per (parent, child) pair (children × pairs), a
#: k-of-n block by the normal approximation scores its children from the approximation's sums:
#: 10,000 children would make a 10,000 × 10,000 table (8 GB with its temporaries).
_PAIR_TABLE = 1_000_000


def _normal_tail_scores(tail, rows_of_block: np.ndarray, at, h: float):
    """:func:`_tail_scores` for parents by the refined normal approximation, in time and memory
    linear in their children: nudging one child changes each of the approximation's sums
    (:func:`~capgraph.kernels.rules.normal_tail`) by that child's trials times its own change."""
    mine = np.flatnonzero(rows_of_block >= 0)
    kids, counts, parent_rows = tail.children[:, mine], tail.counts[:, mine], rows_of_block[mine]
    probs, _ = at(np.broadcast_to(parent_rows, kids.shape).ravel(), np.maximum(kids, 0).ravel())
    probs = probs.reshape(kids.shape)
    weights = np.where(kids >= 0, counts, 0).astype(probs.dtype)

    def terms(p):
        pq = p * (1 - p)
        return p, pq, pq * (1 - 2 * p)

    sums = [(weights * term).sum(axis=0) for term in terms(probs)]
    slot, col = np.nonzero(kids >= 0)
    rows, child, n, p = parent_rows[col], kids[slot, col], weights[slot, col], probs[slot, col]
    _, dp = at(rows, child)
    up, down = np.minimum(p + h, 1.0), np.maximum(p - h, 0.0)
    own = terms(p)

    def tail_at(q):
        return normal_tail(*(total[col] + n * (new - old) for total, new, old in zip(sums, terms(q), own,
                                                                                    strict=True)),
                           tail.ks[mine][col])

    return rows, child, (tail_at(up) - tail_at(down)) / np.maximum(up - down, _EPS) * dp, p


def crossing_samples(plan: Plan, log_x: np.ndarray, chunk: int,
                     progress: Callable[[int], None] | None = None,
                     extras: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """log10 crossing of every thresholded node in every sample, (nodes, samples); nan = never.

    Samples are evaluated in slices of at most ``chunk`` samples, on every core at once
    (:mod:`capgraph.engine.workers`: forked processes, or threads where forking is unsafe), so
    memory stays bounded however many are asked for; slices hold about ``CACHE_FLOATS`` values,
    which keep a level's arrays in the processor's cache: streaming each step's arrays from memory
    costs three times as much. ``progress(n)`` is called as each slice of n samples is done.
    Given a dict ``extras``, it is filled with each draw's ``start``, ``end`` and ``top`` values and
    ``sharp`` (sharpness in decades), arrays shaped like the result, for the Monte Carlo medians.
    """
    nodes = thresholded(plan)
    cells = max(1, len(plan) * log_x.size)  # values per sample
    deep = min(LEVEL_FLOATS * len(plan.levels), SLICE_FLOATS) // cells
    step = min(chunk, max(MIN_SLICE, CACHE_FLOATS // cells, deep))
    slices = [(s0, min(plan.samples, c0 + chunk, s0 + step)) for c0 in range(0, plan.samples, chunk)
              for s0 in range(c0, min(plan.samples, c0 + chunk), step)]
    # slices in flight share the memory budget a chunk stands for, so workers never multiply it
    runner = workers.pool(min(workers.cores(), len(slices), max(1, chunk // step)))
    shape = (len(nodes), plan.samples)
    # every cell is written by its slice, so the arrays are not filled first: filling 56 MB (on the
    # 1,000-node bench map) cost this process a tenth of a second of page faults before any work
    out = runner.empty(shape, float)
    if extras is not None:
        for key, dtype in (("start", np.float32), ("end", np.float32), ("top", np.float32), ("sharp", float)):
            extras[key] = runner.empty(shape, dtype)  # values are float32
    try:
        with runner:
            for s0, s1 in runner.run([partial(_crossings_of_slice, plan, log_x, nodes, s0, s1, out, extras)
                                      for s0, s1 in slices], slices):
                if progress:
                    progress(s1 - s0)
    finally:
        _buffers.__dict__.pop("values", None)  # this thread's buffer (workers' end with them)
    return out


def _crossings_of_slice(plan: Plan, log_x: np.ndarray, nodes: np.ndarray, s0: int, s1: int,
                        out: np.ndarray, extras: dict[str, np.ndarray] | None = None) -> None:
    """Crossings of samples s0 to s1 into ``out`` (nodes, samples), and ``extras`` when given,
    read by :func:`_read_slice`."""
    size = len(plan) * (s1 - s0) * log_x.size
    buffer = getattr(_buffers, "values", None)  # one per thread, reused slice after slice
    if buffer is None or buffer.size < size:
        buffer = _buffers.values = np.empty(size, dtype=np.float32)
    values = evaluate(plan, log_x, slice(s0, s1), dtype=np.float32, out=buffer)
    _read_slice(log_x, values, plan.thresholds, nodes, s0, out, extras)


def _read_slice(log_x: np.ndarray, values: np.ndarray, thresholds: np.ndarray, nodes: np.ndarray,
                s0: int, out: np.ndarray, extras: dict[str, np.ndarray] | None = None) -> None:
    """Crossings (and ``extras``) of the curves ``values`` (plan nodes, samples from s0, points)
    of the thresholded ``nodes``, into their columns of ``out``, BATCH_ROWS curves at a time, all
    levels at once (:mod:`capgraph.engine.mc_crossings`; the point estimates keep
    :func:`first_crossing` and :func:`sharpness`)."""
    width = values.shape[1]
    per_batch = max(1, BATCH_ROWS // width)
    for n0 in range(0, len(nodes), per_batch):
        batch = nodes[n0:n0 + per_batch]
        # a run of consecutive nodes (all of them, on most maps) is read in place, not copied
        nodes_ = slice(batch[0], batch[-1] + 1) if batch[-1] - batch[0] == len(batch) - 1 else batch
        rows = values[nodes_].reshape(len(batch) * width, -1)
        level = np.repeat(thresholds[batch], width)
        cells = (slice(n0, n0 + len(batch)), slice(s0, s0 + width))
        shape = (len(batch), width)
        if extras is None:
            out[cells] = mc_crossings.crossings(log_x, rows, level[None]).reshape(shape)
            continue
        read = mc_crossings.read_curves(log_x, rows, level)
        out[cells] = read.crossing.reshape(shape)
        for key in ("start", "end", "top", "sharp"):
            extras[key][cells] = getattr(read, key).reshape(shape)
