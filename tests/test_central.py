"""One honest answer: the Monte Carlo median everywhere, {p5, p50, p95} ranges, dates as questions,
data limits under uncertainty, extrapolation flags and point mode."""

import datetime as dt
import json
import math

import numpy as np
import pytest
from scipy.special import ndtri
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.kernels.sampling import Interval, scale_draws, truncated_draws
from capgraph.world.timeline import date_to_log_flops

from .conftest import ROOT

# One ranged map with a timeline and a data limit: every output must show its medians.
RANGED = """
name: Honest
scale: {axis: params, range: [1e8, 1e14], tokens_per_param: 20, data_limit: 300T}
timeline: {start: 2026-01-01, flops: 5e26, growth_per_year: 4}
threshold: 0.5
correlation: 0.3
skills:
  step:
    curve: {logistic: {midpoint: {p5: 3e9, p50: 6e9, p95: 3e10}, slope: 1.2 to 1.8}}
    threshold: 0.5
  fixed:
    curve: {logistic: {midpoint: 5e10, slope: 1.5}}
    threshold: 0.5
capabilities:
  ten: {requires: {step: 10}, threshold: 0.8}
  both: {requires: {step: 3, fixed: 1}}
scenarios:
  efficient: {efficiency: 3}
"""

SAMPLES = 600


def run(*args, code=0):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


# --- the sampler ------------------------------------------------------------------------------------


def test_split_normal_reproduces_three_quantiles_in_each_space():
    rng = np.random.default_rng(0)
    n = 200_000
    skewed_scale = Interval(3e9, 3e11, True, 1e10)
    drawn = 10 ** scale_draws([skewed_scale], rng.standard_normal((1, n)))[0]
    assert np.quantile(drawn, [0.05, 0.5, 0.95]) == pytest.approx([3e9, 1e10, 3e11], rel=0.02)
    # Pythia ARC-challenge's bootstrap slope: far from symmetric, and near its bound at 0
    slope = Interval(1.81, 18.7, False, 2.35)
    near_bound = Interval(0.02, 0.9, False, 0.05)  # a floor whose normal tail crosses 0
    eps = rng.standard_normal((2, n))
    drawn = truncated_draws([slope, near_bound], eps, 0.0, 1.0e9)
    assert np.quantile(drawn[0], [0.05, 0.5, 0.95]) == pytest.approx([1.81, 2.35, 18.7], rel=0.01)
    # (Monte Carlo error of a percentile where the density is low: within 0.5% of the interval)
    assert np.quantile(drawn[1], [0.05, 0.5, 0.95]) == pytest.approx([0.02, 0.05, 0.9], abs=0.0045)
    assert drawn.min() >= 0.0  # the tail below p5 stays in [0, p5]
    # a symmetric interval is the plain normal it always was (between p5 and p95, where no
    # bound reaches)
    plain = truncated_draws([Interval(2.0, 4.0)], eps[:1], 0.0, np.inf)[0]
    middle = np.abs(eps[0]) < -ndtri(0.05)
    assert plain[middle] == pytest.approx(3.0 + eps[0][middle] / -ndtri(0.05), abs=1e-9)


def test_centre_is_validated_and_round_trips():
    m = capgraph.loads("skills: {s: {curve: {logistic: {midpoint: {p5: 1e9, p50: 2e9, p95: 1e11}, "
                       "slope: 1}}, threshold: 0.5}}")
    mid = m.spec.skills["s"].curve.logistic.midpoint
    assert (mid.p5, mid.median, mid.p95) == (1e9, 2e9, 1e11)
    dumped = m.spec.model_dump(mode="json")["skills"]["s"]["curve"]["logistic"]["midpoint"]
    assert dumped == {"p5": 1e9, "p50": 2e9, "p95": 1e11}
    with pytest.raises(capgraph.MapError, match="median 5e\\+11 must lie between"):
        capgraph.loads("skills: {s: {curve: {logistic: {midpoint: {p5: 1e9, p50: 5e11, p95: 1e11}, "
                       "slope: 1}}}}")


def test_fitted_ranges_keep_the_fits_crossing(write_map):
    # one uncertain skill fitted with ranges: the median crossing is the point fit's crossing
    data = ROOT / "graphs" / "data" / "synthetic_results.csv"
    text = f"""
    scale: {{axis: params, range: [3.2e7, 1e12]}}
    skills:
      lookup:
        curve: {{fit: {{data: {data}, x: params, y: lookup, ranges: %s}}}}
        threshold: 0.7
    """
    point = capgraph.load(write_map(text % "false", "point.yaml")).predict()[0]
    ranged = capgraph.load(write_map(text % "true", "ranged.yaml"))
    assert ranged.uncertain
    (p,) = ranged.predict(samples=2000, seed=0)
    assert abs(math.log10(p.crossing.params / point.crossing.params)) < 0.05
    assert p.at_medians.crossing.params == pytest.approx(point.crossing.params, rel=1e-9)


# --- one answer everywhere --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ranged(tmp_path_factory):
    path = tmp_path_factory.mktemp("central") / "ranged.yaml"
    path.write_text(RANGED)
    m = capgraph.load(path)
    return path, m, {p.name: p for p in m.predict(samples=SAMPLES, seed=1)}


def test_every_number_is_the_monte_carlo_median(ranged):
    path, m, predictions = ranged
    payload = json.loads(run("predict", path, "--json", "--samples", SAMPLES, "--seed", 1).stdout)
    assert payload["estimate"] == "median"
    rows = {row["name"]: row for row in payload["capabilities"]}
    compared = {row["name"]: row for row in m.compare(samples=SAMPLES, seed=1)["capabilities"]}
    table = run("predict", path, "--samples", SAMPLES, "--seed", 1).stdout
    for name, p in predictions.items():
        row = rows[name]
        assert row["crossing"] == p.crossing.as_dict() == row["quantiles"]["p50"]
        assert compared[name]["crossings"]["baseline"]["crossing"] == row["crossing"]
        # the date is the date of the median, and the p50 of the dates
        assert row["date"] == m.date(p.crossing.flops) == row["dates"]["p50"]
        assert f"{p.crossing.flops:.2g}" in table
        if p.uncertain:
            assert row["at_medians"]["crossing"] != row["crossing"]
            # half the draws are above the threshold at the median crossing: at() agrees
            snap = m.at(p.crossing.params, samples=SAMPLES, seed=1)
            assert snap.values[name] == pytest.approx(p.threshold, abs=0.01)
            assert snap.values[name] == snap.quantiles[name]["p50"]


def test_fixed_node_shows_one_number(ranged):
    path, _, predictions = ranged
    table = run("predict", path, "--samples", SAMPLES, "--seed", 1).stdout
    line = next(line for line in table.splitlines() if "│ fixed" in line)
    assert "50B" in line and "[" not in line and "tokens" in table and "sharpness" in table
    assert not predictions["fixed"].uncertain
    assert "fits" in run("predict", path, "--samples", SAMPLES, "--seed", 1).stdout


@pytest.mark.parametrize("flag", [("--samples", "0"), ("--samples", "1"), ("--at-medians",)])
def test_point_mode(ranged, flag):
    path, m, predictions = ranged
    payload = json.loads(run("predict", path, "--json", *flag).stdout)
    assert payload["estimate"] == "at_medians" and payload["samples"] == 1
    rows = {row["name"]: row for row in payload["capabilities"]}
    for name, p in predictions.items():
        assert rows[name]["crossing"] == p.at_medians.crossing.as_dict()
        assert "at_medians" not in rows[name]
    table = run("predict", path, *flag).stdout
    assert "every range at its median" in table and "[" not in table.split("in the world")[0]


def test_maps_without_ranges_have_no_second_answer():
    m = capgraph.load(ROOT / "graphs" / "ten_step_reasoning.yaml")
    payload = m.predict_json()
    assert "estimate" not in payload
    assert all("at_medians" not in row for row in payload["capabilities"])
    assert m.at("1e11").at_medians is None


# --- dates as questions -----------------------------------------------------------------------------


def test_dates_are_questions(ranged):
    path, m, _ = ranged
    log_flops = date_to_log_flops(dt.date(2028, 1, 1), dt.date(2026, 1, 1), 5e26, 4.0)
    assert log_flops == pytest.approx(math.log10(5e26 * 16), abs=0.002)
    by_date = m.predict(samples=SAMPLES, seed=1, by="2028-01-01")
    by_flops = m.predict(samples=SAMPLES, seed=1, by=10 ** log_flops, by_unit="flops")
    assert [p.p_crossed_by for p in by_date] == pytest.approx([p.p_crossed_by for p in by_flops])
    snap = m.at("2028-01-01", samples=SAMPLES, seed=1)
    assert snap.date == "2028-01-01" and snap.scale.flops == pytest.approx(10 ** log_flops)
    assert "2028-01-01" in run("at", path, "2028-01-01", "--samples", 100).stdout
    assert "by 2028-01-01" in run("predict", path, "--by", "2028-01-01", "--samples", 100).stdout


def test_a_date_without_a_timeline_is_a_usage_error():
    result = run("predict", ROOT / "graphs" / "uncertain_reasoning.yaml", "--by", "2028-01-01", code=2)
    assert "no timeline" in result.output
    result = run("at", ROOT / "graphs" / "uncertain_reasoning.yaml", "2028-02-30", code=2)
    assert "not a date" in result.output


# --- data limits under uncertainty ------------------------------------------------------------------


def test_p_data_limited_is_the_share_of_draws_beyond_the_limit():
    # crossing tokens = 20 × midpoint (threshold 0.5); the limit sits at the midpoint's 80th
    # percentile, so a fifth of the draws need more tokens than exist
    mu, sigma = 10.0, 1.0 / -ndtri(0.05)
    limit = 20 * 10 ** (mu + sigma * float(ndtri(0.8)))
    m = capgraph.loads(f"""
scale: {{range: [1e6, 1e16], data_limit: {limit}}}
timeline: {{start: 2026-01-01, flops: 5e26, growth_per_year: 4}}
skills:
  s: {{curve: {{logistic: {{midpoint: 1e9 to 1e11, slope: 1.5}}}}, threshold: 0.5}}
""")
    (p,) = m.predict(samples=4000, seed=3)
    assert p.p_data_limited == pytest.approx(0.2, abs=0.02)
    row = m.predict_json(samples=4000, seed=3)["capabilities"][0]
    assert row["p_data_limited"] == p.p_data_limited
    # the 95th percentile needs more data than exists: no date, and the JSON says why
    assert row["dates"]["p95"] is None and "more than the" in row["dates_missing"]["p95"]
    assert row["dates"]["p5"] is not None and "p5" not in row["dates_missing"]


# --- extrapolation ----------------------------------------------------------------------------------


def test_fitted_curves_know_their_data(write_map):
    data = ROOT / "graphs" / "data" / "synthetic_results.csv"  # models of 3.2e7 to 1e12 params
    path = write_map(f"""
    scale: {{axis: params, range: [1e7, 1e15]}}
    skills:
      lookup: {{curve: {{fit: {{data: {data}, x: params, y: lookup}}}}, threshold: 0.5}}
      step: {{curve: {{fit: {{data: {data}, x: params, y: reason_step, curve: power_law}}}}}}
    capabilities:
      long: {{requires: {{step: 40}}, threshold: 0.5}}
    """)
    m = capgraph.load(path)
    warnings = [w.message for w in m.warnings()]
    assert any("'lookup' extrapolates: it was fitted to data covering 3.162e+07–1e+12" in w for w in warnings)
    predictions = {p.name: p for p in m.predict()}
    assert predictions["lookup"].extrapolated == ()
    assert predictions["long"].crossing.params > 1e12 and predictions["long"].extrapolated == ("step",)
    row = next(r for r in m.predict_json()["capabilities"] if r["name"] == "long")
    assert row["extrapolated"] == ["step"]
    table = run("predict", path).stdout
    assert "†" in table and "beyond the data behind step" in table
    assert "extrapolates" in run("check", path).stderr


@pytest.mark.parametrize("n", [1, 2, 3, 7, 2000, 2001])
def test_row_quantiles_and_medians_are_numpys_from_one_sort(n):
    from capgraph.engine.central import row_medians, row_quantiles

    rng = np.random.default_rng(n)
    x = rng.normal(size=(40, n))
    x[::3] = np.round(x[::3], 1)  # ties
    x[1::4, : n // 2] = 1e6  # draws that never cross, placed beyond the range
    assert np.array_equal(row_quantiles(x, [0.05, 0.5, 0.95]), np.quantile(x, [0.05, 0.5, 0.95], axis=1).T)
    single = x.astype(np.float32)  # the two middle values averaged in float64
    assert np.array_equal(row_medians(single), np.median(single.astype(float), axis=1))
    x[::5, n - 1] = np.nan  # sharpness: a draw that does not rise
    x[0] = np.nan  # no draw rises: nan
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        expected = np.nanmedian(x, axis=1)
    assert np.array_equal(row_medians(x, skip_nan=True), expected, equal_nan=True)
