"""Allocations and loss laws against closed forms, numerical optima and exact round trips."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize_scalar

import capgraph
from capgraph.core.errors import MapError
from capgraph.kernels.scale import FixedRatio
from capgraph.world.allocation import PRESETS, ComputeOptimal, LossLaw

BESIROGLU = PRESETS["besiroglu2024"]
HOFFMANN = PRESETS["hoffmann2022"]
LAW = LossLaw(E=1.8, A=400.0, B=1000.0, alpha=0.33, beta=0.37)  # a made-up law for properties


def test_chinchilla_budget_under_besiroglu2024():
    # the figure: at C = 5.88e23, N* ≈ 73B and about 18 tokens a parameter
    p = ComputeOptimal(BESIROGLU).point(math.log10(5.88e23), "flops")
    assert p.params == pytest.approx(73.0e9, rel=0.01)
    assert p.tokens / p.params == pytest.approx(18.4, abs=0.1)
    assert 6 * p.params * p.tokens == pytest.approx(5.88e23, rel=1e-12)


@pytest.mark.parametrize("law", [BESIROGLU, HOFFMANN, LAW], ids=["besiroglu", "hoffmann", "made-up"])
@pytest.mark.parametrize("flops", [1e21, 5.88e23, 1e27])
def test_compute_optimal_is_the_numerical_optimum(law, flops):
    # minimise L(N, C/(6N)) over log N numerically; the closed form must agree
    f = lambda log_n: float(law.loss(log_n, math.log10(flops / 6) - log_n))  # noqa: E731
    best = minimize_scalar(f, bounds=(5, 16), method="bounded", options={"xatol": 1e-10}).x
    alloc = ComputeOptimal(law)
    assert float(alloc.log_params(math.log10(flops), "flops")) == pytest.approx(best, abs=1e-5)
    # and the loss unit is the law at that optimum (closed form E + K·(C/6)^-γ)
    assert 10 ** float(alloc.convert(math.log10(flops), "flops", "loss")) == pytest.approx(f(best), rel=1e-12)


def test_hoffmann_constants_overtrain_besiroglu_does_not():
    # SCIENCE.md: Hoffmann's printed constants imply 50-150 tokens a parameter, the refit 16-22
    for flops in (1e21, 1e25):
        h = ComputeOptimal(HOFFMANN).point(math.log10(flops), "flops")
        b = ComputeOptimal(BESIROGLU).point(math.log10(flops), "flops")
        assert 50 < h.tokens / h.params < 150
        assert 16 < b.tokens / b.params < 22


def test_fixed_ratio_closed_form_and_loss():
    alloc = FixedRatio(20.0, LAW)
    p = alloc.point(10.0, "params")
    assert (p.params, p.tokens, p.flops) == pytest.approx((1e10, 2e11, 1.2e22), rel=1e-12)
    assert p.loss == pytest.approx(1.8 + 400 * 1e10 ** -0.33 + 1000 * 2e11 ** -0.37, rel=1e-12)
    with pytest.raises(ValueError, match="loss law"):
        FixedRatio(20.0).log_unit(10.0, "loss")


log_scales = arrays(np.float64, st.integers(1, 20), elements=st.floats(7, 15))


@given(log_scales)
def test_round_trips_are_exact_and_vectorised(log_n):
    for alloc in (ComputeOptimal(BESIROGLU), ComputeOptimal(HOFFMANN), FixedRatio(20.0, LAW),
                  FixedRatio(300.0)):
        for unit in ("tokens", "flops"):
            there = alloc.convert(log_n, "params", unit)
            assert there.shape == log_n.shape
            np.testing.assert_allclose(alloc.convert(there, unit, "params"), log_n, rtol=0, atol=1e-12)
    for alloc in (ComputeOptimal(BESIROGLU), FixedRatio(20.0, LAW)):
        loss = alloc.convert(log_n, "params", "loss")
        np.testing.assert_allclose(alloc.convert(loss, "loss", "params"), log_n, rtol=0, atol=1e-9)


def test_loss_below_the_irreducible_is_unreachable():
    alloc = ComputeOptimal(BESIROGLU)
    assert math.isnan(float(alloc.log_params(math.log10(1.8), "loss")))


def test_map_allocation_forms(write_map):
    body = "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1}}, threshold: 0.5}\n"
    preset = capgraph.loads("scale: {allocation: besiroglu2024}\n" + body)
    written = capgraph.loads("scale:\n  allocation:\n    loss_law: {E: 1.8172, A: 482.01, B: 2085.43, "
                             "alpha: 0.3478, beta: 0.3658}\n" + body)
    ratio = capgraph.loads("scale: {allocation: {tokens_per_param: 20}}\n" + body)
    default = capgraph.loads(body)
    assert preset.units == written.units == ComputeOptimal(BESIROGLU)
    assert ratio.units == default.units == FixedRatio(20.0)
    p = preset.predict()[0].crossing
    assert p.params == pytest.approx(1e10, rel=1e-6)  # params axis: the curve's own midpoint
    assert p.flops == pytest.approx(6 * 10 ** ((10 - BESIROGLU.log_g) / BESIROGLU.a), rel=1e-9)


@pytest.mark.parametrize("scale, token, fragment", [
    ("{allocation: besiroglu2024, tokens_per_param: 20}", "20}", "either tokens_per_param or allocation"),
    ("{axis: loss}", "loss}", "loss needs a loss law"),
    ("{allocation: {tokens_per_param: 20}, axis: loss}", "loss}", "loss needs a loss law"),
    ("{axis: loss, allocation: besiroglu2024, range: [1.5, 3]}", "[1.5", "irreducible loss E = 1.8172"),
    ("{allocation: chinchila}", "chinchila", "unknown loss-law preset 'chinchila'; use one of"),
    ("{allocation: besiroglu}", "besiroglu}", "did you mean 'besiroglu2024'"),
    ("{allocation: {}}", "allocation", "needs tokens_per_param, loss_law or both"),
])
def test_allocation_errors_are_located(write_map, scale, token, fragment):
    text = f"scale: {scale}\nskills:\n  s: {{curve: {{logistic: {{midpoint: 2, slope: 1}}}}}}\n"
    path = write_map(text)
    with pytest.raises(MapError) as info:
        capgraph.load(path)
    found = [(p.line, p.col) for p in info.value.problems if fragment in p.message]
    assert found == [(1, text.index(token) + 1)], info.value.problems


# --- the loss axis ---------------------------------------------------------------------------------

LOSS_MAP = """
scale: {axis: loss, range: [1.9, 4], allocation: besiroglu2024}
skills:
  logi: {curve: {logistic: {midpoint: 2.1, slope: 40}}, threshold: 0.5}
  late: {curve: {logistic: {midpoint: 2.1, slope: 40}}, threshold: 0.8}
  pow: {curve: {power_law: {scale: 2.5, exponent: 3}}, threshold: 0.5}
  pts: {curve: {points: [[1.9, 0.9], [2.0, 0.7], [2.2, 0.3], [4, 0.0]]}, threshold: 0.5}
capabilities:
  both: {requires: [logi, pow]}
"""


def loss_at(m, name):
    return next(p for p in m.predict() if p.name == name).crossing.loss


def test_loss_axis_crossings_in_loss():
    m = capgraph.loads(LOSS_MAP)
    # logistic in log10 of 1/loss: value 0.5 at the midpoint; 0.8 at log10 L = log10 2.1 − logit(0.8)/40
    assert loss_at(m, "logi") == pytest.approx(2.1, rel=1e-3 * math.log(10))
    assert math.log10(loss_at(m, "late")) == pytest.approx(math.log10(2.1) - math.log(4) / 40, abs=1e-4)
    # power law exp(−(L/s)^e) is 0.5 at L = s·(ln 2)^(1/e)
    assert loss_at(m, "pow") == pytest.approx(2.5 * math.log(2) ** (1 / 3), rel=1e-3)
    # both = logi·pow, evaluated and composed at one loss; lower loss is better, so it crosses later
    assert loss_at(m, "both") < min(loss_at(m, "logi"), loss_at(m, "pow"))
    # and every crossing is reported in params, tokens and FLOPs on the compute-optimal frontier
    p = next(p for p in m.predict() if p.name == "logi").crossing
    alloc = ComputeOptimal(BESIROGLU)
    assert math.log10(p.flops) == pytest.approx(float(alloc.convert(math.log10(2.1), "loss", "flops")),
                                                abs=1e-3)
    assert p.params == pytest.approx(10 ** float(alloc.log_params(math.log10(p.flops), "flops")), rel=1e-9)


def test_loss_axis_points_and_at():
    m = capgraph.loads(LOSS_MAP)
    # points interpolate monotonically in log loss; 0.5 lies between (2.0, 0.7) and (2.2, 0.3)
    assert 2.0 < loss_at(m, "pts") < 2.2
    snap = m.at("2.1")  # a loss, on the map's axis
    assert snap.values["logi"] == pytest.approx(0.5, abs=1e-9)
    assert snap.scale.loss == pytest.approx(2.1, rel=1e-12)
    assert m.axis_bounds == pytest.approx((1.9, 4.0), rel=1e-12)
