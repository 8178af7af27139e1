"""Why a crossing lands where it does: elasticities, variance shares and the bottleneck.

**Elasticity.** Shift node k's curve along the scale by δ decades, v_k(x) → v_k(x − δ), and watch
the crossing x* of a node N above it move: the elasticity is e_k = dx*/dδ, decades of crossing per
decade of curve. By the implicit function theorem e_k = (∂V/∂v_k · v_k'(x*)) / V'(x*), where V is
N's curve and ∂V/∂v_k the total derivative through every path from k up to N. Shifting *every*
skill by δ shifts every curve above them by δ, so the skills' elasticities sum to 1, and so do
those of N's direct children. We compute e_k by central differences with the shift made inside
the engine: the map is evaluated at x*, x* − δ and x* + δ with one Monte Carlo-style sample per
shifted node, and after each level the shifted node's value at x* is replaced by its value at
x* ∓ δ, so its ancestors see the shifted curve (:func:`elasticities`). That works the same for every
rule and lens, kinks included, and costs one evaluation of the map per node explained.

**Variance share.** With parameter ranges, the crossing is a random variable Y (log10 scale) over
the Monte Carlo draws. A node's share is the first-order (main-effect) Sobol index of its group of
uncertain parameters, Var(E[Y | X_g]) / Var(Y), where X_g are the drawn parameters of every skill at
or under the node. E[Y | X_g] is estimated by least squares of Y on the standardised draws and their
squares; the share is that regression's adjusted R², clipped to [0, 1]. docs/maths.md states its
limits (interactions, correlated skills, samples that never cross).

**Bottleneck.** The direct child with the largest elasticity: the one whose improvement moves the
crossing most. ``predict`` uses the same definition, computed from local derivatives at the
crossing (:func:`capgraph.engine.predict.bottleneck_scores`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from capgraph.engine.plan import Plan, evaluate
from capgraph.engine.predict import first_crossing
from capgraph.kernels.scale import ScalePoint

#: Shift of a curve, in decades, for the central differences: small enough that the truncation
#: error (δ² times the curve's third derivative) is far below the 0.001-decade precision of
#: crossings, large enough that float64 rounding (1e-16 / δ) does not show.
DELTA = 1e-3
#: Values held in memory at once while shifting nodes one sample each (as in ``predict``).
MEMORY_FLOATS = 4_000_000


@dataclass(frozen=True)
class Driver:
    """One node under the explained one: its elasticity and its share of the crossing's variance."""

    node: str
    elasticity: float | None
    variance_share: float | None

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "elasticity": self.elasticity, "variance_share": self.variance_share}


@dataclass(frozen=True)
class Explanation:
    """Why ``node`` crosses where it does (the JSON object of ``capgraph explain``).

    ``crossing`` is the point estimate (every range at its median), None when it never crosses
    inside the range or is above its threshold from the start (then elasticities are None);
    ``drivers`` are most important first: by variance share when the map has ranges, else by
    elasticity.
    """

    node: str
    crossing: ScalePoint | None
    bottleneck: str | None
    drivers: list[Driver]

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "crossing": self.crossing.as_dict() if self.crossing else None,
            "bottleneck": self.bottleneck,
            "drivers": [d.to_json() for d in self.drivers],
        }


def descendants(plan: Plan, node: int) -> list[int]:
    """Every node under ``node`` (children, their children, ...) in plan order."""
    seen: set[int] = set()
    stack = list(plan.children[node])
    while stack:  # iterative: a deep map must not exhaust Python's recursion limit
        child = stack.pop()
        if child not in seen:
            seen.add(child)
            stack.extend(plan.children[child])
    return sorted(seen)


def _widened(plan: Plan, samples: int) -> Plan:
    """``plan`` with its point-estimate parameters broadcast to ``samples`` identical samples."""
    level0 = plan.levels[0]
    skills = [replace(b, params={k: np.broadcast_to(v[:, :1], (v.shape[0], samples))
                                 for k, v in b.params.items()}) for b in level0.skills]
    levels = [replace(level0, skills=skills), *plan.levels[1:]]
    return replace(plan, levels=levels, samples=samples)


def elasticities(plan: Plan, node: int, log_cross: float, shifted: list[int],
                 delta: float = DELTA) -> np.ndarray:
    """dx*/dδ of ``node``'s crossing ``log_cross`` for each node in ``shifted`` (point estimate).

    Sample 0 is the map as written (it gives V'(x*)); samples 2i + 1 and 2i + 2 shift node
    ``shifted[i]`` later and earlier by ``delta`` decades. Returns nan everywhere when the curve
    is flat at the crossing.
    """
    x = np.array([log_cross, log_cross - delta, log_cross + delta])
    total = 1 + 2 * len(shifted)
    wide = _widened(plan, total)
    target = np.repeat(np.asarray(shifted, dtype=int), 2)
    source = np.tile([1, 2], len(shifted))  # later: read at x* − δ; earlier: at x* + δ
    at = np.empty(total)
    slope = np.nan
    chunk = max(1, MEMORY_FLOATS // (len(plan) * x.size))
    for s0 in range(0, total, chunk):
        s1 = min(total, s0 + chunk)
        moved = np.arange(max(s0, 1), s1)
        nodes, src, local = target[moved - 1], source[moved - 1], moved - s0

        def shift(values: np.ndarray, nodes=nodes, src=src, local=local) -> None:
            # idempotent, so it may run after every level, before and after the node is computed
            values[nodes, local, 0] = values[nodes, local, src]

        values = evaluate(wide, x, slice(s0, s1), after_level=shift)[node]
        at[s0:s1] = values[:, 0]
        if s0 == 0:
            slope = (values[0, 2] - values[0, 1]) / (2 * delta)
    if not np.isfinite(slope) or slope <= 0:
        return np.full(len(shifted), np.nan)
    # a later curve lowers V at x*; the crossing moves by −ΔV / V'
    return (at[2::2] - at[1::2]) / (2 * delta * slope)


def crossing_draws(plan: Plan, node: int, log_x: np.ndarray, threshold: float,
                   progress: Callable[[int], None] | None = None) -> np.ndarray:
    """log10 crossing of ``node`` in every Monte Carlo sample of ``plan`` (nan: never);
    ``progress(n)`` after each chunk of n samples."""
    out = np.full(plan.samples, np.nan)
    chunk = max(1, MEMORY_FLOATS // (len(plan) * log_x.size))
    for s0 in range(0, plan.samples, chunk):
        s1 = min(plan.samples, s0 + chunk)
        rows = evaluate(plan, log_x, slice(s0, s1), dtype=np.float32)[node]
        out[s0:s1] = first_crossing(log_x, rows, threshold, steps=12).log_x
        if progress:
            progress(s1 - s0)
    return out


def parameter_draws(plan: Plan) -> dict[int, np.ndarray]:
    """Each skill's uncertain parameters as drawn, (samples, parameters); fixed ones left out."""
    out: dict[int, np.ndarray] = {}
    for block in plan.levels[0].skills:
        for j, node in enumerate(block.nodes.tolist()):
            cols = [v[j] for v in block.params.values()
                    if v.shape[1] > 1 and np.ptp(v[j]) > 0]
            if cols:
                out[node] = np.column_stack(cols)
    return out


def main_effect(y: np.ndarray, x: np.ndarray | None) -> float:
    """Share of Var(y) explained by a quadratic in the columns of ``x``: adjusted R² in [0, 1].

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.standard_normal((2, 4000))
    >>> round(main_effect(3 * a + b, a[:, None]), 2)  # Var(3a) / Var(3a + b) = 0.9
    0.9
    """
    n = y.size
    if x is None or x.shape[1] == 0 or n < 3 or np.var(y) == 0:
        return 0.0
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    design = np.column_stack([np.ones(n), z, z * z])
    if design.shape[1] >= n // 2:  # too few samples for the squares: the linear part alone
        design = design[:, : 1 + z.shape[1]]
    p = design.shape[1] - 1
    if p >= n - 1:
        return 0.0
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    residual = y - design @ coef
    r2 = 1.0 - residual.var() / y.var()
    adjusted = 1.0 - (1.0 - r2) * (n - 1) / (n - p - 1)
    return float(np.clip(adjusted, 0.0, 1.0))


def variance_shares(plan: Plan, node: int, nodes: list[int], log_x: np.ndarray,
                    threshold: float, progress: Callable[[int], None] | None = None) -> list[float]:
    """First-order share of the variance of ``node``'s log crossing for each of ``nodes``.

    Each share is :func:`main_effect` of the uncertain parameters of every skill at or under that
    node, over the samples that cross (those that never do have no crossing to explain).
    """
    y = crossing_draws(plan, node, log_x, threshold, progress)
    crossed = np.isfinite(y)
    draws = parameter_draws(plan)
    out = []
    for k in nodes:
        skills = [s for s in [k, *descendants(plan, k)] if s in draws]
        x = np.column_stack([draws[s] for s in skills])[crossed] if skills else None
        out.append(main_effect(y[crossed], x))
    return out


def explain(plan: Plan, node: int, log_cross: float | None, crossing: ScalePoint | None,
            sampled: Plan | None = None, mc_grid: np.ndarray | None = None,
            progress: Callable[[int], None] | None = None) -> Explanation:
    """Drivers of ``node``'s crossing at ``log_cross`` (None: no crossing inside the range).

    ``sampled`` (with ``mc_grid``) is the Monte Carlo plan for variance shares; without it the
    shares are None.
    """
    under = descendants(plan, node)
    if log_cross is None:
        elastic = np.full(len(under), np.nan)
    else:
        elastic = elasticities(plan, node, log_cross, under)
    shares: list[float | None] = [None] * len(under)
    if sampled is not None and mc_grid is not None:
        shares = list(variance_shares(sampled, node, under, mc_grid, float(plan.thresholds[node]),
                                      progress))
    drivers = [Driver(plan.names[k], None if np.isnan(e) else float(e), s)
               for k, e, s in zip(under, elastic.tolist(), shares, strict=True)]

    def importance(d: Driver) -> tuple[float, float, str]:
        e = -np.inf if d.elasticity is None else d.elasticity
        return (-(d.variance_share or 0.0), -e, d.node)

    drivers.sort(key=importance)
    children = {plan.names[c] for c in plan.children[node]}
    direct = [d for d in drivers if d.node in children and d.elasticity is not None]
    # ties go to plan order, as in predict
    neck = min(direct, key=lambda d: (-d.elasticity, plan.index[d.node])).node if direct else None
    return Explanation(plan.names[node], crossing, neck, drivers)
