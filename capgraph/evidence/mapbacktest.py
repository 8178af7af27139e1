"""Back-testing a whole map: does the decomposition predict a composite better than its own curve?

Every data-backed skill of the map is refitted on the rows at or below a cutoff: skills with a
``fit:`` block on their own data (its rows with ``x`` at or below the cutoff), and skills with a column
of their name (or ``column:``) in the results table. Their fitted parameters carry their 90% bootstrap
intervals as ranges, so the map's own Monte Carlo propagates them up the hierarchy. Every node with a
column in the table is then scored on the rows above the cutoff, beside a *direct* back-test of that
column against scale (:func:`capgraph.evidence.backtest.backtest`): the decomposition is worth having
for a node when its map error is below the direct one.

The map's band for a node is its Monte Carlo percentiles widened by the node's scatter: the logit
residuals of its training rows around the map's prediction (:mod:`capgraph.evidence.bands`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from capgraph.core.errors import MapError, Problem
from capgraph.engine.plan import compile_plan, evaluate
from capgraph.evidence import bands
from capgraph.evidence.backtest import backtest
from capgraph.evidence.data import Table, read_table
from capgraph.evidence.fit import (
    CURVES,
    DEFAULT_BOOTSTRAP,
    DEFAULT_SEED,
    FitError,
    FitOptions,
    fit_with_intervals,
    min_rows,
)
from capgraph.evidence.fitmap import options_of
from capgraph.format.schema import Curve
from capgraph.format.source import load_document
from capgraph.format.validate import validate

#: Monte Carlo draws through the map for the bands.
_SAMPLES = 400


@dataclass(frozen=True)
class NodeScore:
    """One scored node: the map's prediction and the direct fit, on the same held-out rows."""

    name: str
    mae: float
    coverage: float
    n_test: int
    direct: dict[str, float] | None  # {"mae", "coverage"}; None when the direct fit failed
    direct_error: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mae": self.mae, "coverage": self.coverage, "n_test": self.n_test,
                               "direct": self.direct}
        if self.direct_error:
            out["direct_error"] = self.direct_error
        return out


@dataclass(frozen=True)
class MapBacktest:
    """Every scored node, the skills that were refitted, and nodes left out with the reason."""

    nodes: dict[str, NodeScore]
    refitted: tuple[str, ...]
    skipped: dict[str, str]
    cutoff: float

    def to_json(self) -> dict[str, Any]:
        return {"nodes": {n: s.to_json() for n, s in self.nodes.items()},
                "refitted": list(self.refitted), "skipped": dict(self.skipped)}


def backtest_map(path: str | Path, table: Table, x: str, cutoff: float, *,
                 where: Mapping[str, Any] | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                 seed: int = DEFAULT_SEED) -> MapBacktest:
    """Refit the map's data-backed skills below ``cutoff`` and score every node with a column above it.

    Raises :class:`MapError` for an invalid map, a map on the loss axis, or a table without ``x``.
    """
    document = load_document(path)
    spec = validate(document)
    if spec.scale.axis == "loss":
        raise MapError([document.problem(("scale", "axis"), "a map back-test needs a map on params, "
                                         "tokens or FLOPs: the data give scales, not losses")])
    rows = table.where(where or {})
    rows.require(x)
    base = Path(document.path).parent
    skills, points, refitted, skipped = dict(spec.skills), dict(spec.skills), [], {}
    for name, skill in spec.skills.items():
        try:
            curves = _refit(name, skill, rows, x, cutoff, base, n_bootstrap, seed)
        except (FitError, ValueError) as exc:
            skipped[name] = f"not refitted: {exc}"
            continue
        except MapError as exc:
            skipped[name] = "not refitted: " + "; ".join(p.message for p in exc.problems)
            continue
        if curves is not None:
            skills[name] = skill.model_copy(update={"curve": curves[0]})
            points[name] = skill.model_copy(update={"curve": curves[1]})
            refitted.append(name)
    if not refitted:
        raise MapError([Problem(table.path, 1, 1, "no skill of the map is backed by data: give it "
                                "fit: blocks or columns named after its skills")])
    plan = compile_plan(spec.model_copy(update={"skills": skills}), samples=_SAMPLES, seed=seed)
    point_plan = compile_plan(spec.model_copy(update={"skills": points}))
    nodes: dict[str, NodeScore] = {}
    for name in plan.names:
        node = spec.skills.get(name) or spec.capabilities.get(name)
        column = (getattr(node, "column", None) or name) if node is not None else name
        if column not in rows.columns:
            continue
        cols = rows.numeric(x, column, positive=[x])
        cols.require_fraction(column)
        lx, y = np.log10(cols[x]), cols[column]
        train, test = lx <= np.log10(cutoff), lx > np.log10(cutoff)
        if not test.any() or not train.any():
            skipped[name] = "no rows on both sides of the cutoff"
            continue
        i = plan.index[name]
        fitted = evaluate(point_plan, lx)[i, 0]
        drawn = evaluate(plan, lx[test])[i]  # (samples, test rows)
        residuals = bands.to_logit(y[train]) - bands.to_logit(fitted[train])
        lo, hi = bands.predictive_band(drawn, bands.Scatter(residuals, "in-sample", 0.0))
        direct, why = _direct(lx, y, cutoff, n_bootstrap, seed)
        nodes[name] = NodeScore(name, float(np.mean(np.abs(fitted[test] - y[test]))),
                                float(bands.inside(y[test], lo, hi).mean()), int(test.sum()),
                                direct, why)
    return MapBacktest(nodes, tuple(refitted), skipped, float(cutoff))


def _refit(name, skill, rows: Table, x: str, cutoff: float, base: Path, n_bootstrap: int,
           seed: int) -> tuple[Curve, Curve] | None:
    """The skill's curve refitted below the cutoff, with 90% ranges and as points; None if no data."""
    fs = skill.curve.fit
    if fs is not None:
        table = read_table(base / fs.data).where(fs.where)
        column, xcol, opts = fs.y, fs.x, options_of(fs)
    else:
        column = getattr(skill, "column", None) or name
        if column not in rows.columns:
            return None
        table, xcol = rows, x
        kind = next((k for k in CURVES if getattr(skill.curve, k, None) is not None), CURVES[0])
        opts = FitOptions(kind)
    cols = table.numeric(xcol, column, positive=[xcol])
    cols.require_fraction(column)
    keep = cols[xcol] <= cutoff
    if keep.sum() < min_rows(opts):
        raise ValueError(f"only {int(keep.sum())} row(s) at or below the cutoff")
    result = fit_with_intervals(np.log10(cols[xcol][keep]), cols[column][keep], opts,
                                n_bootstrap=n_bootstrap, seed=seed)
    point = result.fit.curve_json()
    ranged = {result.fit.curve: dict(point[result.fit.curve])}
    for p, (lo, hi) in result.intervals.items():
        if lo < hi:
            ranged[result.fit.curve][p] = {"p5": lo, "p95": hi}
    return Curve.model_validate(ranged), Curve.model_validate(point)


def _direct(lx: np.ndarray, y: np.ndarray, cutoff: float, n_bootstrap: int,
            seed: int) -> tuple[dict[str, float] | None, str]:
    try:
        b = backtest(10.0 ** lx, y, cutoff, n_bootstrap=n_bootstrap, seed=seed)
    except (FitError, ValueError) as exc:
        return None, str(exc)
    return {"mae": b.mae, "coverage": b.coverage}, ""
