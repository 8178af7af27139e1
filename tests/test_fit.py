"""Fitting: known parameters recovered, honest failures, bootstrap intervals that cover, snippets that load."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import capgraph
from capgraph.core.units import parse_number
from capgraph.evidence.fit import (
    FitError,
    FitOptions,
    bootstrap,
    fit_curve,
    fit_with_intervals,
    format_number,
)
from capgraph.kernels import curves

LX = np.linspace(8.0, 12.0, 25)


# --- recovering known parameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opts", "truth"),
    [
        (FitOptions(), {"midpoint": 1e10, "slope": 1.5, "floor": 0.0, "ceiling": 1.0}),
        (FitOptions(floor=0.25), {"midpoint": 3e9, "slope": 0.8, "floor": 0.25, "ceiling": 1.0}),
        (FitOptions(floor=0.25, ceiling=None), {"midpoint": 2e10, "slope": 2.0, "floor": 0.25, "ceiling": 0.8}),
        (FitOptions(ceiling=0.9), {"midpoint": 5e9, "slope": 1.0, "floor": 0.0, "ceiling": 0.9}),
    ],
)
def test_logistic_recovered_exactly_without_noise(opts, truth):
    y = curves.logistic(LX, math.log10(truth["midpoint"]), truth["slope"], truth["floor"], truth["ceiling"])
    fit = fit_curve(LX, y, opts)
    assert fit.curve == "logistic"
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-6), name
    assert fit.rmse < 1e-8 and fit.n_used == LX.size


def test_power_law_recovered_exactly_without_noise():
    y = curves.power_law(LX, 9.5, 0.35)
    fit = fit_curve(LX, y, FitOptions("power_law"))
    assert fit.params["scale"] == pytest.approx(10**9.5, rel=1e-6)
    assert fit.params["exponent"] == pytest.approx(0.35, rel=1e-6)


def test_logistic_recovered_with_noise():
    rng = np.random.default_rng(7)
    y = curves.logistic(LX, 10.3, 1.7, 0.25, 0.9) + rng.normal(0, 0.02, LX.size)
    fit = fit_curve(LX, y, FitOptions(floor=0.25, ceiling=None))
    assert math.log10(fit.params["midpoint"]) == pytest.approx(10.3, abs=0.1)
    assert fit.params["slope"] == pytest.approx(1.7, rel=0.15)
    assert fit.params["ceiling"] == pytest.approx(0.9, abs=0.03)
    assert fit.rmse == pytest.approx(0.02, rel=0.35)  # about the noise


def test_power_law_recovered_with_noise():
    rng = np.random.default_rng(8)
    y = curves.power_law(LX, 10.0, 0.4) + rng.normal(0, 0.02, LX.size)
    fit = fit_curve(LX, y, FitOptions("power_law"))
    assert math.log10(fit.params["scale"]) == pytest.approx(10.0, abs=0.1)
    assert fit.params["exponent"] == pytest.approx(0.4, rel=0.1)


def test_a_bad_start_cannot_trap_the_fit():
    """Data rising far from the middle of the range: only some starting points reach it."""
    lx = np.linspace(6.0, 14.0, 40)
    fit = fit_curve(lx, curves.logistic(lx, 13.2, 6.0))
    assert math.log10(fit.params["midpoint"]) == pytest.approx(13.2, abs=1e-6)
    assert fit.params["slope"] == pytest.approx(6.0, rel=1e-6)


# --- failing honestly -----------------------------------------------------------------------------


def test_flat_data_is_reported_as_not_converged():
    with pytest.raises(FitError, match="did not converge"):
        fit_curve(LX, np.full(LX.size, 0.3))


def test_a_step_sharper_than_the_spacing_is_not_a_fit():
    with pytest.raises(FitError, match="slope ran to its bound"):
        fit_curve(LX, (LX > 10.05).astype(float))


def test_too_few_rows_and_too_few_scales():
    with pytest.raises(FitError, match="only 2 usable row"):
        fit_curve(LX[:2], np.array([0.1, 0.2]))
    with pytest.raises(FitError, match="distinct scale"):
        fit_curve(np.full(5, 9.0), np.linspace(0.1, 0.5, 5))


def test_options_are_checked():
    with pytest.raises(ValueError, match="logistic curves only"):
        FitOptions("power_law", floor=0.25)
    with pytest.raises(ValueError, match="ceiling"):
        FitOptions(floor=0.5, ceiling=0.4)
    with pytest.raises(ValueError, match="unknown curve"):
        FitOptions("sigmoid")


# --- the bootstrap ----------------------------------------------------------------------------------


def test_bootstrap_intervals_cover_at_about_their_rate():
    """90% intervals over 30 synthetic data sets: each truth inside about 90% of the time."""
    lx = np.linspace(8.0, 12.0, 30)
    inside, trials = 0, 30
    for trial in range(trials):
        rng = np.random.default_rng(1000 + trial)
        y = curves.logistic(lx, 10.0, 1.5) + rng.normal(0, 0.04, lx.size)
        r = fit_with_intervals(lx, y, n_bootstrap=150, seed=trial)
        lo, hi = r.intervals["midpoint"]
        inside += lo <= 1e10 <= hi
        lo, hi = r.intervals["slope"]
        inside += lo <= 1.5 <= hi
    rate = inside / (2 * trials)
    assert 0.75 <= rate <= 0.99, rate  # nominal 0.9; 60 draws, so a loose band


def test_bootstrap_is_deterministic_for_a_seed():
    rng = np.random.default_rng(3)
    y = curves.logistic(LX, 10.0, 1.5) + rng.normal(0, 0.03, LX.size)
    a = fit_with_intervals(LX, y, n_bootstrap=100, seed=5)
    b = fit_with_intervals(LX, y, n_bootstrap=100, seed=5)
    c = fit_with_intervals(LX, y, n_bootstrap=100, seed=6)
    assert a.to_json() == b.to_json()
    assert a.intervals != c.intervals
    assert a.fit == c.fit  # the point fit does not depend on the seed


def test_bootstrap_counts_failed_refits():
    """Three distinct scales, two parameters: resamples with one scale cannot be fitted."""
    lx = np.array([9.0, 10.0, 11.0])
    y = curves.logistic(lx, 10.0, 1.0)
    fit = fit_curve(lx, y)
    boot = bootstrap(lx, y, fit, FitOptions(), n=200, seed=0)
    # P(one distinct scale in a resample of 3) = 3 / 27
    assert boot.n_failed == pytest.approx(200 / 9, abs=12)
    assert len(boot.samples) + boot.n_failed == 200


def test_fit_json_has_exactly_the_issue_keys():
    rng = np.random.default_rng(4)
    y = curves.logistic(LX, 10.0, 1.5, 0.25, 1.0) + rng.normal(0, 0.02, LX.size)
    r = fit_with_intervals(LX, y, FitOptions(floor=0.25, ceiling=None), n_bootstrap=50, n_skipped=3)
    j = r.to_json()
    assert list(j) == ["curve", "intervals", "n_used", "n_skipped", "rmse", "weights", "x_range"]
    assert j["x_range"] == pytest.approx([10 ** LX.min(), 10 ** LX.max()])
    assert list(j["curve"]) == ["logistic"]
    assert set(j["curve"]["logistic"]) == {"midpoint", "slope", "floor", "ceiling"}
    assert set(j["intervals"]) == {"midpoint", "slope", "ceiling"}  # the fitted ones; floor is fixed
    for lo, hi in j["intervals"].values():
        assert lo < hi
    assert (j["n_used"], j["n_skipped"]) == (LX.size, 3)


# --- the YAML snippet -------------------------------------------------------------------------------


def _snippet_result():
    rng = np.random.default_rng(11)
    y = curves.logistic(LX, 9.5, 1.2) + rng.normal(0, 0.03, LX.size)
    return fit_with_intervals(LX, y, n_bootstrap=200)


def test_snippet_ranges_keep_the_fit_as_their_centre():
    r = _snippet_result()
    text = r.yaml_snippet()
    ranges = re.findall(r"^    (\w+): \{p5: (\S+), p50: (\S+), p95: (\S+)\}$", text, flags=re.M)
    assert [name for name, *_ in ranges] == ["midpoint", "slope"]
    for name, lo, mid, hi in ranges:
        assert parse_number(lo) < parse_number(mid) < parse_number(hi)
        assert parse_number(lo) == pytest.approx(r.intervals[name][0], rel=5e-3)
        assert parse_number(hi) == pytest.approx(r.intervals[name][1], rel=5e-3)
        assert parse_number(mid) == pytest.approx(r.fit.params[name], rel=5e-3)
    assert "    floor: 0\n" in text and "    ceiling: 1\n" in text
    body = "\n".join("    " + line for line in text.splitlines())
    slope = capgraph.loads(f"skills:\n  s:\n    threshold: 0.5\n{body}\n").spec.skills["s"].curve.logistic.slope
    assert slope.median == pytest.approx(r.fit.params["slope"], rel=5e-3)  # read back with its centre


def test_snippet_point_form_loads_as_a_map_curve():
    r = _snippet_result()
    body = "\n".join("    " + line for line in r.yaml_snippet(ranges=False).splitlines())
    cmap = capgraph.loads(f"skills:\n  s:\n    threshold: 0.5\n{body}\n")
    spec = cmap.spec.skills["s"].curve.logistic
    assert spec.midpoint == pytest.approx(r.fit.params["midpoint"], rel=5e-3)
    assert spec.slope == pytest.approx(r.fit.params["slope"], rel=5e-3)


def test_format_number():
    assert [format_number(v) for v in (2.1e9, 4.0e9, 0.25, 1234.5, 1e-5)] == ["2.1e9", "4e9", "0.25", "1.23e3",
                                                                             "1e-5"]


@settings(max_examples=30, deadline=None)
@given(mid=st.floats(8.5, 11.5), slope=st.floats(0.4, 5.0), floor=st.sampled_from([0.0, 0.25, 0.5]))
def test_any_logistic_inside_the_data_is_recovered(mid, slope, floor):
    y = curves.logistic(LX, mid, slope, floor, 1.0)
    fit = fit_curve(LX, y, FitOptions(floor=floor))
    assert math.log10(fit.params["midpoint"]) == pytest.approx(mid, abs=1e-5)
    assert fit.params["slope"] == pytest.approx(slope, rel=1e-5)


@settings(max_examples=30, deadline=None)
@given(log_scale=st.floats(8.0, 11.0), exponent=st.floats(0.2, 1.5))
def test_any_power_law_is_recovered(log_scale, exponent):
    y = curves.power_law(LX, log_scale, exponent)
    fit = fit_curve(LX, y, FitOptions("power_law"))
    assert math.log10(fit.params["scale"]) == pytest.approx(log_scale, abs=1e-5)
    assert fit.params["exponent"] == pytest.approx(exponent, rel=1e-5)


def test_snippet_with_ranges_loads_as_an_uncertain_map_curve():
    r = _snippet_result()
    body = "\n".join("    " + line for line in r.yaml_snippet().splitlines())
    cmap = capgraph.loads(f"skills:\n  s:\n    threshold: 0.5\n{body}\n")
    spec = cmap.spec.skills["s"].curve.logistic
    assert cmap.uncertain
    assert spec.midpoint.p5 == pytest.approx(r.intervals["midpoint"][0], rel=5e-3)
    assert spec.slope.p95 == pytest.approx(r.intervals["slope"][1], rel=5e-3)
    (p,) = cmap.predict(samples=400)
    lo, hi = (v for v in r.intervals["midpoint"])
    # a logistic crosses 0.5 at its midpoint: the crossing's interval is the midpoint's
    assert p.quantiles["p5"].params == pytest.approx(lo, rel=0.15)
    assert p.quantiles["p95"].params == pytest.approx(hi, rel=0.15)
