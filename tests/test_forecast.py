"""Forecasting: predictive bands, the capability axis, family offsets, map back-tests, the scorecard."""

from __future__ import annotations

import importlib.util
import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from capgraph.cli.app import app
from capgraph.evidence import bands, capability, family
from capgraph.evidence.fit import FitOptions
from capgraph.evidence.forecast import Rows, fit_forecast
from capgraph.kernels import curves
from tests.conftest import ROOT, shared_data

runner = CliRunner()


# --- bands ----------------------------------------------------------------------------------------


def test_logit_round_trip_and_floor():
    y = np.array([0.3, 0.5, 0.9])
    assert bands.from_logit(bands.to_logit(y, 0.25), 0.25) == pytest.approx(y)
    assert float(bands.to_logit(np.array(0.625), 0.25)) == pytest.approx(0.0)


def test_band_without_scatter_is_the_curve_and_with_scatter_is_shifted_by_residual_quantiles():
    values = np.array([[0.5, 0.8]])  # one curve, two points
    lo, hi = bands.predictive_band(values, bands.Scatter(np.zeros(5), "leave-one-out", 0.0))
    assert lo == pytest.approx(values[0], abs=1e-9) and hi == pytest.approx(values[0], abs=1e-9)
    # residuals −1 … +1 logits evenly: the 5th/95th percentiles are ∓0.9 logits around the curve
    r = np.linspace(-1, 1, 101)
    lo, hi = bands.predictive_band(values, bands.Scatter(r, "leave-one-out", 0.0))
    assert bands.to_logit(lo) == pytest.approx(bands.to_logit(values[0]) - 0.9, abs=1e-9)
    assert bands.to_logit(hi) == pytest.approx(bands.to_logit(values[0]) + 0.9, abs=1e-9)


def test_held_out_residuals_leave_whole_groups_out():
    x = np.arange(6.0)
    y = np.full(6, 0.5)
    seen = []

    def refit(mask):
        seen.append(int((~mask).sum()))
        return lambda xs: np.full(np.shape(xs), 0.5)

    s = bands.held_out_residuals(x, y, refit, 0.0, np.array(list("aabbbc")))
    assert seen == [2, 3, 1] and s.method == "leave-one-family-out" and s.n == 6
    assert s.residuals == pytest.approx(0.0)


def test_noisy_backtest_band_for_new_models_covers_most_held_out_rows():
    from capgraph.evidence.backtest import backtest

    rng = np.random.default_rng(2)
    lx = np.linspace(8, 12, 40)
    y = curves.logistic(lx, 10.0, 1.5) + rng.normal(0, 0.02, lx.size)
    b = backtest(10**lx, np.clip(y, 0, 1), 1e11, n_bootstrap=100)
    assert b.coverage >= 0.8


# --- family offsets and the capability axis -------------------------------------------------------


def test_empirical_bayes_shrinkage_by_hand():
    # two families of three: means ±1, within variance 2·(0.04 + 0 + 0.04)/4 = 0.04 (4 degrees of
    # freedom); between: mean of the squared means (1) less the noise of a mean, 0.04/3
    o = family.shrink(np.array([1.2, 1.0, 0.8, -1.2, -1.0, -0.8]), np.array(list("aaabbb")))
    tau2 = 1.0 - 0.04 / 3
    assert o.sigma == pytest.approx(0.2)
    assert o.offsets["a"] == pytest.approx(tau2 / (tau2 + 0.04 / 3))
    assert o.offsets["b"] == pytest.approx(-o.offsets["a"])
    # a lone model of a third family, with no between-family spread to speak of, keeps nothing
    flat = family.shrink(np.array([0.1, -0.1, 0.1, -0.1, 0.5]), np.array(list("aabbc")))
    assert flat.offsets["c"] < flat.raw["c"]


def _families(seed=0):
    """Three families on one logistic, shifted by −0.5, 0 and +0.5 decades of compute."""
    rng = np.random.default_rng(seed)
    shifts = {"a": -0.5, "b": 0.0, "c": 0.5}
    lx, fam = [], []
    for name in shifts:
        points = np.linspace(9, 12, 8)
        lx += list(points)
        fam += [name] * points.size
    lx, fam = np.array(lx), np.array(fam)
    eff = lx + np.array([shifts[f] for f in fam])
    y = curves.logistic(eff, 10.5, 1.5) + rng.normal(0, 0.005, lx.size)
    return lx, np.clip(y, 0, 1), fam, shifts


def test_family_offsets_recover_known_shifts():
    lx, y, fam, shifts = _families()
    f = fit_forecast(Rows(lx, y, fam), use_family=True, n_bootstrap=0)
    got = f.offsets.offsets
    # offsets are relative to the pooled curve: compare differences between families
    assert got["c"] - got["a"] == pytest.approx(1.0, abs=0.05)
    assert got["b"] - got["a"] == pytest.approx(0.5, abs=0.05)
    plain = fit_forecast(Rows(lx, y, fam), n_bootstrap=0)
    assert f.fit.rmse < plain.fit.rmse / 3


def test_capability_axis_and_link_recover_slope_and_family_efficiency():
    lx, y, fam, shifts = _families()
    eff = lx + np.array([shifts[f] for f in fam])
    # two benchmarks driven by effective compute: the score is linear in it
    X = np.stack([0.1 * eff, 0.2 * eff + 0.01], axis=1)
    rows = Rows(lx, y, fam, X, ("b1", "b2"))
    f = fit_forecast(rows, use_capability=True, n_bootstrap=0)
    assert f.axis.explained == pytest.approx(1.0)
    eff_decades = f.link.efficiency_decades()
    assert eff_decades["c"] - eff_decades["a"] == pytest.approx(1.0, abs=1e-6)
    # crossings in compute for each family differ by their shift
    ca, cc = f.crossing(0.5, "a")["log10_x"], f.crossing(0.5, "c")["log10_x"]
    assert ca - cc == pytest.approx(1.0, abs=1e-6)
    assert ca == pytest.approx(10.5 + 0.5, abs=0.02)


def test_capability_score_fills_missing_cells_and_refuses_a_flat_column():
    X = np.array([[0.1, 0.2], [0.3, np.nan], [0.5, 0.7], [0.6, 0.8]])
    a = capability.fit_axis(("a", "b"), X, np.array([20.0, 21, 22, 23]))
    assert a.n_filled == 1 and np.all(np.isfinite(a.score(X)))
    with pytest.raises(capability.CapabilityError, match="do not vary"):
        capability.fit_axis(("a", "b"), np.array([[0.1, 0.5], [0.2, 0.5], [0.3, 0.5]]))


# --- the command line -----------------------------------------------------------------------------


@pytest.fixture
def family_csv(tmp_path):
    lx, y, fam, shifts = _families()
    eff = lx + np.array([shifts[f] for f in fam])
    lines = ["flops,score,family,b1,b2"]
    for i in range(lx.size):
        b2 = "" if i == 3 else f"{0.2 * eff[i] / 12 + 0.01:.6f}"
        lines.append(f"{10 ** lx[i]:.6g},{y[i]:.6f},{fam[i]},{0.1 * eff[i] / 12:.6f},{b2}")
    path = tmp_path / "models.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_fit_with_capability_reports_intervals_scatter_and_crossing(family_csv):
    r = runner.invoke(app, ["fit", str(family_csv), "--x", "flops", "--y", "score", "--capability", "b1",
                            "--capability", "b2", "--family", "family", "--threshold", "0.5",
                            "--reference", "a", "--bootstrap", "20", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert {"intervals", "scatter", "capability", "link", "crossing", "n_missing"} <= set(out)
    assert out["n_missing"] == 1 and out["scatter"]["method"] == "leave-one-family-out"
    assert np.log10(out["crossing"]["flops"]) == pytest.approx(11.0, abs=0.05)
    assert "midpoint_score" in out["curve"]["logistic"]


def test_cli_backtest_with_capability_has_a_baseline(family_csv):
    r = runner.invoke(app, ["backtest", str(family_csv), "--x", "flops", "--y", "score", "--cutoff", "3e11",
                            "--capability", "b1", "--capability", "b2", "--bootstrap", "20", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert set(out["baseline"]) == {"mae", "coverage"} and out["axis"] == "capability"
    assert out["mae"] < out["baseline"]["mae"]


def test_cli_backtest_needs_y_or_data():
    r = runner.invoke(app, ["backtest", "x.csv", "--x", "flops", "--cutoff", "1e10"])
    assert r.exit_code == 2


def test_cli_map_backtest_scores_every_node_with_a_column():
    path = ROOT / "graphs" / "fitted_multistep.yaml"
    data = ROOT / "graphs" / "data" / "synthetic_results.csv"
    r = runner.invoke(app, ["backtest", str(path), "--data", str(data), "--x", "params",
                            "--cutoff", "1e10", "--bootstrap", "20", "--json"])
    assert r.exit_code == 0, r.output
    nodes = json.loads(r.output)["nodes"]
    assert set(nodes) == {"lookup", "reason_step", "answer"}
    for s in nodes.values():
        assert set(s) >= {"mae", "coverage", "n_test", "direct"} and s["n_test"] == 8
    # lookup is refitted from the same rows with the same curve: the map is its direct fit
    assert nodes["lookup"]["mae"] == pytest.approx(nodes["lookup"]["direct"]["mae"])


# --- the scorecard on the shared data -------------------------------------------------------------


def _scorecard_module():
    spec = importlib.util.spec_from_file_location("make_scorecard", ROOT / "docs" / "make_scorecard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scorecard_is_current_and_meets_its_mae_target():
    folder = shared_data("obsscaling_base_llm_benchmark_eval.csv").parent
    shared_data("obsscaling_leaderboard_v2_eval.csv")
    card = _scorecard_module()
    page = (ROOT / "docs" / "scorecard.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| ([\w-]+) \| \d+ / \d+ \| (.*) \|$", page, re.M)}
    assert len(rows) == 10
    # recompute one task's errors (they do not depend on the bootstrap) and compare with the page
    methods = ("compute", "capability")  # family offsets are the slow part: left out here
    got = card.score_task(card.joined(folder), "leaderboard_mmlu_pro", 0.1, methods, n_bootstrap=0)
    cells = [c.strip() for c in rows["MMLU-Pro"].split("|")]
    for i, method in enumerate(card.METHODS):
        if method in got:
            assert cells[2 * i].split()[0] == f"{got[method]['mae']:.3f}"
    # the targets, from the page's own rows
    mae = {m: np.mean([float(r.split("|")[2 * i].split()[0]) for r in rows.values()])
           for i, m in enumerate(card.METHODS)}
    assert mae["capability"] <= 0.75 * mae["compute"]
    cover = {m: np.mean([float(r.split("|")[2 * i + 1].strip().rstrip("%")) for r in rows.values()])
             for i, m in enumerate(card.METHODS)}
    assert 80 <= cover["capability"] <= 95
    assert "**met**" in page and "## What failed" in page


def test_map_fit_on_the_capability_axis_gives_the_reference_family_curve(family_csv, write_map):
    import capgraph

    path = write_map(f"""
        scale: {{axis: flops, range: [1e8, 1e14]}}
        skills:
          task:
            curve:
              fit: {{data: {family_csv}, x: flops, y: score, capability: [b1, b2], family: family,
                     reference: a, ceiling: free}}
            threshold: 0.5
          some_model:
            curve:
              fit: {{data: {family_csv}, x: flops, y: score, family: family, reference: a,
                     scatter: true}}
    """)
    cmap = capgraph.load(path)
    mid = cmap.spec.skills["task"].curve.logistic.midpoint
    assert np.log10(mid) == pytest.approx(11.0, abs=0.05)  # family a is half a decade behind
    widened = cmap.spec.skills["some_model"].curve.logistic.midpoint
    assert widened.p5 < 10**11 < widened.p95


def test_map_fit_names_a_missing_capability_column(family_csv, write_map):
    r = runner.invoke(app, ["check", str(write_map(f"""
        skills:
          task:
            curve:
              fit: {{data: {family_csv}, x: flops, y: score, capability: [b1, b3]}}
    """))])
    assert r.exit_code == 1 and "no column 'b3'" in r.output and ":4:" in r.output


# --- the consistent lens and fitting through a lens -------------------------------------------------


def _power_law_exact_match(length=10, crossing=7.3e10, alpha=0.5):
    """Exact match over ``length`` tokens of a per-token power law whose p^L crosses 0.5 at ``crossing``."""
    import math

    log_c = math.log10(crossing) + math.log10(-math.log(0.5 ** (1 / length))) / alpha
    lx = np.linspace(8, 13, 21)
    return lx, curves.power_law(lx, log_c, alpha) ** length


def test_lens_derives_exact_match_from_the_per_step_curve():
    from capgraph.evidence.mirage import lens

    lx, em = _power_law_exact_match()
    exact = lens(10**lx, em, 10, FitOptions("power_law"))
    assert exact.exact_match.half_scale == pytest.approx(7.3e10, rel=1e-6)
    assert exact.exact_match.rmse < 1e-9
    # a logistic per step, fitted once through the lens, lands near the truth; a logistic fitted
    # straight to the exact-match scores does not, and errs more on the scores themselves
    m = lens(10**lx, em, 10)
    assert m.exact_match.half_scale == pytest.approx(7.3e10, rel=0.05)
    assert abs(np.log10(m.observed.half_scale / 7.3e10)) > 0.05
    assert m.exact_match.rmse < m.observed.fit.rmse / 3


def test_fit_through_a_multiple_choice_lens_recovers_p(tmp_path):
    lx = np.linspace(8, 12, 17)
    p = curves.logistic(lx, 10.0, 1.5)
    score = 0.25 + 0.75 * p
    path = tmp_path / "mc.csv"
    path.write_text("params,acc\n" + "".join(f"{10**v:.8g},{s:.10f}\n" for v, s in zip(lx, score, strict=True)))
    r = runner.invoke(app, ["fit", str(path), "--x", "params", "--y", "acc", "--lens", "multiple_choice:4",
                            "--bootstrap", "0", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["curve"]["logistic"]["midpoint"] == pytest.approx(1e10, rel=1e-4)
    assert out["curve"]["logistic"]["slope"] == pytest.approx(1.5, rel=1e-4)
    assert out["metric"] == {"multiple_choice": {"options": 4}}
    bad = runner.invoke(app, ["fit", str(path), "--x", "params", "--y", "acc", "--lens", "pass_at:0"])
    assert bad.exit_code == 2


def test_backtest_with_capability_reports_each_bootstrap_refit(family_csv):
    from capgraph.evidence.backtest import backtest_forecast_table
    from capgraph.evidence.data import read_table

    ticks = []
    b = backtest_forecast_table(read_table(family_csv), "flops", "score", 3e11, capability_cols=("b1", "b2"),
                                n_bootstrap=15, progress=ticks.append)
    assert b.baseline is not None and ticks == [1] * 30  # the forecast's refits, then the baseline's
