"""The runtime capability map: a validated map, its DAG and its compiled plan, with the queries.

``capgraph.load(path)`` returns a :class:`CapabilityMap`; every number the CLI prints comes from
one of its methods, so a notebook gets the same answers as the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from capgraph import graph as graphs
from capgraph.engine import Plan, compile_plan, evaluate
from capgraph.errors import Problem
from capgraph.fitmap import resolve_fits
from capgraph.predict import Prediction, grid, predict
from capgraph.scale import FixedRatio, ScalePoint
from capgraph.schema import AXES, MapSpec
from capgraph.source import Document, load_document, parse_document
from capgraph.units import parse_scale
from capgraph.validate import validate


@dataclass(frozen=True)
class Snapshot:
    """Every node's value at one scale (the JSON object of ``capgraph at``)."""

    scale: ScalePoint
    values: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"scale": self.scale.as_dict(), "values": self.values}


class CapabilityMap:
    """A capability map ready to answer questions.

    >>> m = loads('''
    ... skills:
    ...   step: {curve: {logistic: {midpoint: 1e10, slope: 1.5}}}
    ... capabilities:
    ...   chain: {requires: {step: 10}, threshold: 0.5}
    ... ''')
    >>> round(m.at("1e10").values["step"], 3)
    0.5
    >>> p = m.predict()[0]
    >>> p.name, p.status, f"{p.crossing.params:.3g}"
    ('chain', 'crosses', '5.7e+11')
    """

    def __init__(self, spec: MapSpec, document: Document | None = None) -> None:
        spec = resolve_fits(spec, document)  # `fit:` curves become the fitted logistic / power law
        self.spec = spec
        self.document = document
        self.path = document.path if document else None
        self.graph: nx.DiGraph = graphs.build(spec)
        self.plan: Plan = compile_plan(spec, self.graph)
        self.units = FixedRatio(spec.scale.tokens_per_param)

    # --- what the map is ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        if self.spec.name:
            return self.spec.name
        return Path(self.path).stem if self.path else "capability map"

    @property
    def axis(self) -> str:
        return self.spec.scale.axis

    @property
    def log_range(self) -> tuple[float, float]:
        lo, hi = self.spec.scale.bounds
        return float(np.log10(lo)), float(np.log10(hi))

    @property
    def nodes(self) -> list[str]:
        """Every node, children before parents."""
        return [op.name for op in self.plan.ops]

    def node(self, name: str):
        """The declared skill or capability called ``name``."""
        found = self.spec.skills.get(name) or self.spec.capabilities.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def threshold(self, name: str) -> float | None:
        return self.plan.ops[self.plan.index[name]].threshold

    def warnings(self) -> list[Problem]:
        """Things that are allowed but worth knowing, located in the map file."""
        out = []
        lo, hi = self.spec.scale.bounds
        for name, skill in self.spec.skills.items():
            points = skill.curve.points
            if points and (lo < points[0].x or hi > points[-1].x):
                loc = ("skills", name, "curve", "points")
                message = (f"'{name}' extrapolates: its points cover {points[0].x:g}–{points[-1].x:g} "
                           f"but the range is {lo:g}–{hi:g}; the value is held flat outside them")
                out.append(self._problem(loc, message))
        return out

    def _problem(self, loc, message: str) -> Problem:
        if self.document:
            return self.document.problem(loc, message, severity="warning")
        return Problem(self.path or "<map>", 1, 1, message, "warning")

    # --- queries -----------------------------------------------------------------------------------

    def log_axis(self, scale: float | str, unit: str | None = None) -> float:
        """log10 of a scale given in ``unit`` (default: the map's axis), on the map's axis."""
        unit = unit or self.axis
        if unit not in AXES:
            raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(AXES)}")
        return float(self.units.convert(np.log10(parse_scale(scale)), unit, self.axis))

    def curves(self, log_x: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """Each node's value at the axis scales ``log_x`` (1-d), for plots and tables."""
        wanted = [self.plan.index[n] for n in (names or self.nodes)]
        live = evaluate(self.plan, log_x, keep=wanted)
        return {self.plan.ops[i].name: live[i][0] for i in wanted}

    def at(self, scale: float | str, unit: str | None = None) -> Snapshot:
        """Every node's value at one scale (``unit`` defaults to the map's axis)."""
        log_x = self.log_axis(scale, unit)
        values = self.curves(np.array([log_x]))
        return Snapshot(self.units.point(log_x, self.axis),
                        {name: float(v[0]) for name, v in values.items()})

    def predict(self) -> list[Prediction]:
        """When each node with a threshold crosses it, ordered by crossing scale."""
        return predict(self.plan, grid(*self.log_range), self.axis, self.units,
                       self.spec.scale.data_limit)

    def predict_json(self) -> dict[str, Any]:
        """``capgraph predict --json``."""
        return {
            "map": self.name,
            "axis": self.axis,
            "capabilities": [p.to_json() for p in self.predict()],
        }


def load(path: str | Path) -> CapabilityMap:
    """Read, validate and compile a map file (YAML or JSON); raise MapError on any problem."""
    document = load_document(path)
    return CapabilityMap(validate(document), document)


def loads(text: str, name: str = "<map>") -> CapabilityMap:
    """Like :func:`load`, from text."""
    document = parse_document(text, name)
    return CapabilityMap(validate(document), document)
