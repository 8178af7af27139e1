"""Curves, rules and lenses against closed forms, and their invariants as properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from capgraph.kernels import curves, lenses, rules

LOG_X = np.linspace(6, 15, 181)
probs = st.floats(min_value=0.0, max_value=1.0)


def test_logistic_closed_form():
    v = curves.logistic(np.array([9.0, 10.0, 11.0]), 10.0, 1.5, 0.25, 0.75)
    s = 1 / (1 + math.exp(-1.5))
    assert v == pytest.approx([0.25 + 0.5 * (1 - s), 0.5, 0.25 + 0.5 * s])


def test_power_law_closed_form():
    # p = exp(-(x/c)^-a): at x = 10c, p = exp(-10^-a)
    assert float(curves.power_law(10.0, 9.0, 0.5)) == pytest.approx(math.exp(-(10 ** -0.5)))
    # far below the scale it underflows to 0 without warnings; far above it tends to 1
    with np.errstate(all="raise"):
        assert float(curves.power_law(0.0, 12.0, 2.0)) == 0.0
    assert float(curves.power_law(30.0, 9.0, 1.0)) == pytest.approx(1.0)


def test_points_interpolate_monotonically_and_hold_ends():
    xs, ys = np.log10([1e8, 1e9, 1e10]), np.array([0.1, 0.2, 0.9])
    v = curves.points(np.linspace(7, 11, 401), xs, ys)
    assert v[0] == pytest.approx(0.1) and v[-1] == pytest.approx(0.9)  # held outside the points
    assert np.all(np.diff(v) >= -1e-12)  # PCHIP keeps monotone data monotone
    assert float(curves.points(9.0, xs, ys)) == pytest.approx(0.2)


def test_points_equal_scipys_pchip_one_skill_or_many_at_once():
    from scipy.interpolate import PchipInterpolator

    rng = np.random.default_rng(1)
    log_x = np.linspace(7, 15, 300)
    for size in (2, 3, 5, 7):
        xs = np.sort(rng.uniform(8, 14, (40, size)), axis=1)
        ys = rng.uniform(0, 1, (40, size))
        ys[::2] = np.sort(ys[::2], axis=1)  # monotone and not
        ys[::5, 1] = ys[::5, 0]  # flat stretches
        many = curves.points(log_x, xs, ys)
        for row in range(len(xs)):
            expected = PchipInterpolator(xs[row], ys[row])(np.clip(log_x, xs[row, 0], xs[row, -1]))
            np.testing.assert_allclose(many[row], np.clip(expected, 0, 1), atol=1e-12)
            np.testing.assert_allclose(curves.points(log_x, xs[row], ys[row]), many[row], atol=1e-15)


def test_logistic_crossing_and_sharpness_closed_forms():
    assert curves.logistic_crossing(0.5, 10.0, 2.0) == 10.0
    # u = 0.9 → logit = ln 9; with slope 2 the crossing is ln(9)/2 decades past the midpoint
    assert curves.logistic_crossing(0.9, 10.0, 2.0) == pytest.approx(10 + math.log(9) / 2)
    assert math.isnan(curves.logistic_crossing(0.2, 10.0, 2.0, floor=0.25))
    assert curves.logistic_sharpness(1.0) == pytest.approx(4.394449, rel=1e-6)


def test_rules_closed_forms():
    a, b = np.array([0.9]), np.array([0.5])
    assert rules.all_of([a, b], [10, 1])[0] == pytest.approx(0.9**10 * 0.5)
    assert rules.all_of([a], [2.5])[0] == pytest.approx(0.9**2.5)  # fractional exponents
    assert rules.any_of([a, b], [1, 2])[0] == pytest.approx(1 - 0.1 * 0.25)
    assert rules.mean([a, b], [3, 1])[0] == pytest.approx((3 * 0.9 + 0.5) / 4)
    assert rules.minimum([a, b], [1, 1])[0] == 0.5
    assert rules.geomean([a, b], [1, 1])[0] == pytest.approx(math.sqrt(0.45))


@pytest.mark.parametrize("p, n, k", [(0.3, 10, 3), (0.9, 10, 8), (0.5, 1, 1), (0.7, 6, 6)])
def test_k_of_n_matches_binomial_tail(p, n, k):
    got = rules.k_of_n([np.array([p])], [n], k)[0]
    assert got == pytest.approx(binom.sf(k - 1, n, p), rel=1e-12)


def test_k_of_n_poisson_binomial_by_enumeration():
    ps, counts, k = [0.2, 0.6, 0.9], [1, 2, 1], 2
    trials = [0.2, 0.6, 0.6, 0.9]
    exact = 0.0
    for outcome in range(16):
        bits = [(outcome >> i) & 1 for i in range(4)]
        if sum(bits) >= k:
            exact += math.prod(q if b else 1 - q for q, b in zip(trials, bits, strict=True))
    got = rules.k_of_n([np.array([p]) for p in ps], counts, k)[0]
    assert got == pytest.approx(exact, rel=1e-12)


def test_lenses_closed_forms():
    p = np.array([0.8])
    assert lenses.apply("identity", p)[0] == 0.8
    assert lenses.apply("exact_match", p, length=5)[0] == pytest.approx(0.8**5)
    assert lenses.apply("multiple_choice", p, options=4)[0] == pytest.approx(0.25 + 0.75 * 0.8)
    assert lenses.apply("pass_at", p, k=3)[0] == pytest.approx(1 - 0.2**3)


# --- properties ------------------------------------------------------------------------------------

logistic_params = st.tuples(
    st.floats(7, 14), st.floats(0.05, 20), st.floats(0, 0.5), st.floats(0.55, 1)
)


def _logistic(params):
    mid, slope, floor, ceiling = params
    return curves.logistic(LOG_X, mid, slope, floor, ceiling)


@settings(max_examples=60, deadline=None)
@given(st.lists(logistic_params, min_size=1, max_size=5), st.data())
def test_rules_stay_in_unit_interval_and_increase(children, data):
    values = [_logistic(c) for c in children]
    weights = data.draw(st.lists(st.floats(0.2, 12), min_size=len(values), max_size=len(values)))
    for rule in ("all", "any", "mean", "min", "geomean"):
        v = rules.combine(rule, values, weights)
        assert np.all((v >= 0) & (v <= 1)), rule
        assert np.all(np.diff(v) >= -1e-12), rule  # increasing children give an increasing parent
    counts = [max(1, round(w)) for w in weights]
    k = data.draw(st.integers(1, sum(counts)))
    v = rules.k_of_n(values, counts, k)
    assert np.all((v >= -1e-12) & (v <= 1 + 1e-12))
    assert np.all(np.diff(v) >= -1e-12)


@settings(max_examples=60, deadline=None)
@given(logistic_params, st.floats(1, 50), st.integers(2, 10), st.integers(1, 100))
def test_lenses_stay_in_unit_interval_and_increase(params, length, options, k):
    p = _logistic(params)
    for kind, args in (("identity", {}), ("exact_match", {"length": length}),
                       ("multiple_choice", {"options": options}), ("pass_at", {"k": k})):
        v = lenses.apply(kind, p, **args)
        assert np.all((v >= 0) & (v <= 1)), kind
        assert np.all(np.diff(v) >= -1e-12), kind


@given(st.floats(7, 14), st.floats(0.01, 3))
def test_power_law_in_unit_interval_and_increasing(log_scale, exponent):
    v = curves.power_law(LOG_X, log_scale, exponent)
    assert np.all((v >= 0) & (v <= 1))
    assert np.all(np.diff(v) >= 0)
