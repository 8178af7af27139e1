"""Forecasts laid out for people and for JSON: capability-axis and family-offset fits, back-tests.

Computes nothing: takes :class:`~capgraph.evidence.forecast.Forecast` and
:class:`~capgraph.evidence.backtest.Backtest` results and the numbers already in them.
"""

from __future__ import annotations

import math
from typing import Any

from capgraph.core.units import human
from capgraph.evidence.fit import LARGE_TABLE
from capgraph.evidence.forecast import Forecast, Rows, intervals
from capgraph.kernels.scale import FixedRatio

#: How a compute crossing is also given in params and tokens: compute-optimal training (20:1).
_RATIO = FixedRatio(20.0)


def crossing_json(forecast: Forecast, threshold: float, family: str | None,
                  x_unit_log10: float = 0.0) -> dict[str, Any] | None:
    """The crossing of ``threshold`` for ``family`` (None: the reference), in every unit.

    ``x_unit_log10`` is log10 of the scale column's unit (21 for a column in units of 1e21 FLOPs).
    """
    c = forecast.crossing(threshold, family)
    if c is None:
        return None
    out = {"threshold": threshold, "family": family or "reference"}
    if "score" in c:
        out["score"] = c["score"]
    if c.get("log10_x") is not None:
        flops = c["log10_x"] + x_unit_log10
        point = _RATIO.point(flops, "flops")
        out.update({"flops": point.flops, "params": point.params, "tokens": point.tokens})
    return out


def forecast_json(forecast: Forecast, rows: Rows, crossing: dict[str, Any] | None) -> dict[str, Any]:
    """``capgraph fit --json`` with ``--capability`` or ``--family``."""
    out = forecast.to_json()
    out["intervals"] = {k: [lo, hi] for k, (lo, hi) in intervals(forecast).items()}
    out.update({"n_used": len(rows), "n_skipped": rows.n_skipped, "n_missing": rows.n_missing,
                "rmse": forecast.fit.rmse})
    if crossing is not None:
        out["crossing"] = crossing
    return out


def forecast_lines(forecast: Forecast, rows: Rows, y: str, x: str,
                   crossing: dict[str, Any] | None) -> list[str]:
    """A few lines saying what was fitted, how models scatter, and where the curve crosses."""
    params = ", ".join(f"{k} {v:.4g}" for k, v in forecast.params().items())
    lines = []
    if forecast.axis is not None:
        a = forecast.axis
        lines.append(f"{y} against the capability score (first component of {', '.join(a.columns)}: "
                     f"{a.explained:.0%} of their variance; {rows.n_missing} missing cell(s) filled)")
        lines.append(f"  curve in score units: {forecast.fit.curve} ({params})")
        link = forecast.link
        lines.append(f"  score = {link.slope:.3g}·log10 {x} + {link.intercept:.3g} (reference family)")
    else:
        lines.append(f"{y} against log10 {x}" + (" with family offsets" if forecast.offsets else "")
                     + f": {forecast.fit.curve} ({params})")
    decades = forecast.link.efficiency_decades() if forecast.link else (
        forecast.offsets.offsets if forecast.offsets else {})
    if decades:
        best = sorted(decades.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{n} {v:+.2f}" for n, v in best[:3] + best[-2:])
        lines.append(f"  family efficiency (decades of compute, shrunk): {shown}")
    s = forecast.scatter.to_json()
    lines.append(f"  scatter of models around the curve ({s['method']}, {s['n']} rows): "
                 f"sd {s['sd_logit']:.2f} logits, 90% of residuals in "
                 f"[{s['logit']['p5']:+.2f}, {s['logit']['p95']:+.2f}]")
    if forecast.fit.at_bound:
        lines.append(f"  warning: {forecast.fit.at_bound}")
    if crossing is not None:
        where = f"score {crossing['score']:.3g}, " if "score" in crossing else ""
        at = (f"{human(crossing['flops'])} FLOPs ({human(crossing['params'])} params, "
              f"{human(crossing['tokens'])} tokens at 20 tokens/param)" if "flops" in crossing else "")
        lines.append(f"  crosses {crossing['threshold']:g} for {crossing['family']}: {where}{at}")
    lines.append(f"  {len(rows)} rows used, {rows.n_skipped} skipped")
    return lines


def params_text(result) -> str:
    """A back-test's fitted parameters; on the capability axis the midpoint is a score."""
    params = dict(result.fit.params)
    if result.axis == "capability" and "midpoint" in params:
        params = {"midpoint_score": math.log10(params.pop("midpoint")), **params}
    return ", ".join(f"{k} {v:.4g}" for k, v in params.items())


def baseline_line(result) -> str:
    """One line comparing a back-test with its compute-only baseline on the same rows."""
    b = result.baseline
    return (f"compute-only on the same rows: mean absolute error {b['mae']:.4f}, "
            f"{b['coverage']:.0%} inside its 90% band ({result.axis}: {result.mae:.4f}, "
            f"{result.coverage:.0%})")


def large_backtest_line(result) -> str:
    """How a back-test of a large table was computed (``Backtest.large_table``), as a comment line."""
    large = result.large_table
    rows, train = large["rows"], result.n_train
    parts = [f"large table: {rows} rows"
             + (", fitted through the mean score at each training scale" if train > LARGE_TABLE else "")]
    if 0 < large["bootstrap_rows"] < train:
        parts.append(f"each bootstrap refit on {large['bootstrap_rows']} rows drawn from the {train}, "
                     f"its spread scaled by sqrt({large['bootstrap_rows']}/{train})")
    if large["scatter_rows"] < train:
        parts.append(f"scatter from {large['scatter_rows']} training rows spread over the scales")
    if large["band_rows"] < result.n_test:
        parts.append(f"band and coverage on {large['band_rows']} of the {result.n_test} held-out rows, "
                     "spread evenly over their scales")
    else:
        parts.append(f"band at each of the {large['band_scales']} held-out scales")
    return "# " + "; ".join(parts)


def map_backtest_lines(result) -> list[str]:
    """A table of nodes: the map's error and coverage beside the direct fit's."""
    lines = [f"refitted below the cutoff: {', '.join(result.refitted)}"]
    width = max([len(n) for n in result.nodes] + [4])
    lines.append(f"{'node':<{width}}  {'n':>4}  {'map MAE':>8}  {'in band':>7}  {'direct MAE':>10}  "
                 f"{'in band':>7}  better")
    for name, s in result.nodes.items():
        if s.direct is None:
            direct, better = f"{'failed':>10}  {'':>7}", "map"
        else:
            direct = f"{s.direct['mae']:>10.4f}  {s.direct['coverage']:>7.0%}"
            gap = s.direct["mae"] - s.mae
            better = "same" if abs(gap) < 1e-9 else ("map" if gap > 0 else "direct")
        lines.append(f"{name:<{width}}  {s.n_test:>4}  {s.mae:>8.4f}  {s.coverage:>7.0%}  {direct}  {better}")
    for name, why in result.skipped.items():
        lines.append(f"{name}: {why}")
    return lines


def lens_lines(result, y: str) -> list[str]:
    """``capgraph lens``: per-step and derived exact-match curves, a direct fit, and their errors."""
    L = f"{result.length:g}"
    rows = [(f"per step p ({y}^(1/{L}))", result.per_step.sharpness_decades,
             result.per_step.half_scale, result.per_step.fit.rmse),
            (f"exact match p^{L}", result.exact_match.sharpness_decades,
             result.exact_match.half_scale, result.exact_match.rmse),
            (f"{result.observed.fit.curve} fitted to {y}", result.observed.sharpness_decades,
             result.observed.half_scale, result.observed.fit.rmse)]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'curve':<{width}}  {'sharpness (decades)':>19}  {'crosses 0.5 at':>14}  {'rmse':>7}"]
    for label, sharp, half, rmse in rows:
        lines.append(f"{label:<{width}}  {sharp:>19.2f}  {human(half):>14}  {rmse:>7.4f}")
    verdict = ("p^L describes the scores as well as a curve fitted to them"
               if result.exact_match.rmse <= 1.5 * result.observed.fit.rmse + 1e-3 else
               "p^L describes the scores worse than a curve fitted to them: the per-step model "
               "(independent steps, this curve family) may be wrong")
    lines.append(f"exact match is {result.sharpness_ratio:.2f}× as sharp as the per-step curve; {verdict} "
                 f"({result.n_used} rows used, {result.n_skipped} skipped; {result.n_zero} with score 0, "
                 "in the fit through the lens but not in the per-step error)")
    return lines
