"""The evaluation engine: every node's value on a batch of scales, children before parents.

A :class:`Plan` is the map compiled to flat numeric operations in topological order. Values are
arrays shaped ``(samples, points)``: one row per Monte Carlo draw of the parameters (one row for a
map without uncertainty), one column per scale. :func:`evaluate` streams through the plan, handing
each node's values to a callback and freeing a child's array once its last parent has used it, so
memory stays bounded by the width of the graph rather than its size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from capgraph import curves, lenses, rules
from capgraph.graph import order
from capgraph.schema import MapSpec


@dataclass
class Op:
    """One node, compiled: its curve or rule, its metric lens and its threshold."""

    name: str
    kind: str  # "skill" or "capability"
    curve: str | None = None  # logistic | power_law | points
    params: dict[str, np.ndarray] = field(default_factory=dict)  # each (samples, 1)
    rule: str | None = None
    children: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()
    k: int | None = None
    metric: str = "identity"
    metric_params: dict[str, float] = field(default_factory=dict)
    threshold: float | None = None

    def value(self, log_x: np.ndarray, child_values: list[np.ndarray]) -> np.ndarray:
        """This node's scored value: curve or rule, then the metric lens."""
        if self.kind == "skill":
            p = _curve(self, log_x)
        else:
            p = rules.combine(self.rule or "all", child_values, self.weights, self.k)
        return lenses.apply(self.metric, p, **self.metric_params)


def _curve(op: Op, log_x: np.ndarray) -> np.ndarray:
    q = op.params
    if op.curve == "logistic":
        return curves.logistic(log_x, q["log_midpoint"], q["slope"], q["floor"], q["ceiling"])
    if op.curve == "power_law":
        return curves.power_law(log_x, q["log_scale"], q["exponent"])
    return curves.points(log_x, q["log_xs"], q["ys"])


@dataclass
class Plan:
    """A map compiled for evaluation: operations in topological order."""

    ops: list[Op]
    index: dict[str, int]
    samples: int = 1

    def __len__(self) -> int:
        return len(self.ops)


def compile_plan(spec: MapSpec, graph: nx.DiGraph) -> Plan:
    """Compile a validated map. Parameters become ``(1, 1)`` arrays: one deterministic sample."""
    names = order(graph)
    index = {name: i for i, name in enumerate(names)}
    ops = []
    for name in names:
        if name in spec.skills:
            skill = spec.skills[name]
            kind, params = _curve_params(skill.curve)
            op = Op(name, "skill", curve=kind, params=params, threshold=skill.threshold)
            metric = skill.metric
        else:
            cap = spec.capabilities[name]
            children = sorted(cap.requires)
            op = Op(
                name, "capability", rule=cap.combine,
                children=tuple(index[c] for c in children),
                weights=tuple(cap.requires[c] for c in children), k=cap.k,
                threshold=cap.threshold if cap.threshold is not None else spec.threshold,
            )
            metric = cap.metric
        if metric is not None:
            op.metric = metric.kind
            op.metric_params = dict(getattr(metric, metric.kind).model_dump())
        ops.append(op)
    return Plan(ops, index)


def _curve_params(curve) -> tuple[str, dict[str, np.ndarray]]:
    kind = curve.kind
    spec = getattr(curve, kind)
    column = lambda v: np.full((1, 1), float(v))  # noqa: E731 - (samples, 1) for broadcasting
    if kind == "logistic":
        return kind, {
            "log_midpoint": column(np.log10(spec.midpoint)), "slope": column(spec.slope),
            "floor": column(spec.floor), "ceiling": column(spec.ceiling),
        }
    if kind == "power_law":
        return kind, {"log_scale": column(np.log10(spec.scale)), "exponent": column(spec.exponent)}
    return kind, {
        "log_xs": np.log10([p.x for p in spec]), "ys": np.array([p.y for p in spec], dtype=float)
    }


Callback = Callable[[int, np.ndarray, list[np.ndarray]], None]


def evaluate(plan: Plan, log_x: np.ndarray, *, on_node: Callback | None = None,
             keep: Iterable[int] | None = None) -> dict[int, np.ndarray]:
    """Evaluate every node at ``log_x`` (log10 scale on the map's axis).

    ``on_node(i, values, child_values)`` is called as each node is computed, while its children's
    arrays are still alive. Returns the arrays of the nodes in ``keep`` (all nodes when ``keep`` is
    None); others are dropped as soon as no parent needs them.
    """
    log_x = np.atleast_1d(np.asarray(log_x, dtype=float))
    keep_all = keep is None
    kept = set(range(len(plan))) if keep_all else set(keep)
    pending = [0] * len(plan)  # parents not yet computed, per node
    for op in plan.ops:
        for c in op.children:
            pending[c] += 1
    live: dict[int, np.ndarray] = {}
    for i, op in enumerate(plan.ops):
        child_values = [live[c] for c in op.children]
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            values = np.broadcast_to(op.value(log_x, child_values), (plan.samples, log_x.shape[-1]))
        live[i] = values
        if on_node is not None:
            on_node(i, values, child_values)
        for c in op.children:
            pending[c] -= 1
            if pending[c] == 0 and c not in kept:
                del live[c]
        if pending[i] == 0 and i not in kept:
            del live[i]
    return live
