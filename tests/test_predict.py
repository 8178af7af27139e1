"""Crossings, sharpness and bottlenecks against closed forms and against brentq on exact curves."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.special import logit

import capgraph
from capgraph.engine.plan import evaluate
from capgraph.engine.predict import MC_GRID_PER_DECADE, first_crossing, grid

PRECISION = 1e-3  # decades, the contract of `predict`


def one(m, name):
    return next(p for p in m.predict() if p.name == name)


def log_params(p):
    return math.log10(p.crossing.params)


def chain_map(rule_block: str, metric: str = "", threshold: float = 0.5, rng="[1e6, 1e16]"):
    return capgraph.loads(f"""
scale: {{axis: params, range: {rng}}}
skills:
  a: {{curve: {{logistic: {{midpoint: 1e10, slope: 1.5}}}}}}
  b: {{curve: {{logistic: {{midpoint: 1e11, slope: 0.8}}}}}}
capabilities:
  c:
{rule_block}
    threshold: {threshold}
{metric}
""")


def logistic_at(level, mid=10.0, slope=1.5):
    return mid + float(logit(level)) / slope


@pytest.mark.parametrize("count", [1, 3, 10, 2.5])
def test_all_chain_closed_form(count):
    m = chain_map(f"    requires: {{a: {count}}}")
    assert log_params(one(m, "c")) == pytest.approx(logistic_at(0.5 ** (1 / count)), abs=PRECISION)


def test_any_closed_form():
    m = chain_map("    requires: {a: 3}\n    combine: any")
    # 1 - (1-p)^3 = 0.5  ⇔  p = 1 - 0.5^(1/3)
    assert log_params(one(m, "c")) == pytest.approx(logistic_at(1 - 0.5 ** (1 / 3)), abs=PRECISION)


def test_k_of_n_closed_form():
    m = chain_map("    requires: {a: 5}\n    combine: k_of_n\n    k: 5")  # k = n is p^5
    assert log_params(one(m, "c")) == pytest.approx(logistic_at(0.5 ** 0.2), abs=PRECISION)
    m = chain_map("    requires: {a: 3}\n    combine: k_of_n\n    k: 2")
    # P(≥2 of 3) = 3p²(1-p) + p³ = 0.5 is symmetric about p = 0.5
    assert log_params(one(m, "c")) == pytest.approx(10.0, abs=PRECISION)


def test_mean_min_geomean_closed_forms():
    # two equal children: mean, min and geomean all equal the child
    for rule in ("mean", "min", "geomean"):
        m = chain_map(f"    requires: [a]\n    combine: {rule}", threshold=0.7)
        assert log_params(one(m, "c")) == pytest.approx(logistic_at(0.7), abs=PRECISION)
    # min of a (mid 1e10, slope 1.5) and b (mid 1e11, slope 0.8) at 0.5: b is the binding one
    m = chain_map("    requires: [a, b]\n    combine: min")
    assert log_params(one(m, "c")) == pytest.approx(11.0, abs=PRECISION)
    assert one(m, "c").bottleneck == "b"


@pytest.mark.parametrize(
    "metric, level",
    [
        ("    metric: identity", 0.5),
        ("    metric: {exact_match: {length: 10}}", 0.5 ** 0.1),
        ("    metric: {multiple_choice: {options: 4}}", (0.5 - 0.25) / 0.75),
        ("    metric: {pass_at: {k: 4}}", 1 - 0.5 ** 0.25),
    ],
)
def test_lens_closed_forms(metric, level):
    m = chain_map("    requires: [a]", metric=metric)
    assert log_params(one(m, "c")) == pytest.approx(logistic_at(level), abs=PRECISION)


def test_statuses_and_range_ends():
    m = chain_map("    requires: [a]", threshold=0.5, rng="[1e11, 1e14]")
    above = one(m, "c")
    assert above.status == "above_at_start"
    assert above.crossing.params == pytest.approx(1e11)
    m = chain_map("    requires: {a: 10}", threshold=0.99, rng="[1e6, 1e11]")
    never = one(m, "c")
    assert never.status == "never" and never.crossing is None
    assert never.max_value == pytest.approx(never.value_at_end)
    assert never.value_at_end == pytest.approx((1 / (1 + math.exp(-1.5))) ** 10)
    assert never.bottleneck == "a"


def test_sharpness_of_a_logistic_is_2ln9_over_slope():
    m = capgraph.loads("""
scale: {range: [1e2, 1e18]}
skills: {s: {curve: {logistic: {midpoint: 1e10, slope: 2}}, threshold: 0.5}}
""")
    assert one(m, "s").sharpness_decades == pytest.approx(2 * math.log(9) / 2, abs=PRECISION)


def test_skills_predicted_only_with_own_threshold():
    m = chain_map("    requires: [a]")
    assert [p.name for p in m.predict()] == ["c"]


def test_units_in_prediction_follow_tokens_per_param():
    m = capgraph.loads("""
scale: {axis: flops, range: [1e18, 1e28], tokens_per_param: 20}
skills: {s: {curve: {logistic: {midpoint: 5.88e23, slope: 1}}, threshold: 0.5}}
""")
    c = one(m, "s").crossing
    assert c.flops == pytest.approx(5.88e23, rel=PRECISION * 2.31)  # 0.001 decades ≈ 0.23%
    assert c.tokens == pytest.approx(20 * c.params)
    assert 6 * c.params * c.tokens == pytest.approx(c.flops)
    assert c.params == pytest.approx(70e9, rel=0.01)  # Chinchilla: 70B params, 1.4T tokens


def test_data_limited_flag():
    text = """
scale: {{axis: params, range: [1e8, 1e14], tokens_per_param: 20, data_limit: {limit}}}
skills: {{s: {{curve: {{logistic: {{midpoint: 1e12, slope: 2}}}}, threshold: 0.5}}}}
"""
    # the crossing needs 1e12 params × 20 = 2e13 tokens
    assert one(capgraph.loads(text.format(limit="1e13")), "s").data_limited
    assert not one(capgraph.loads(text.format(limit="3e13")), "s").data_limited


def test_table_order():
    m = capgraph.load("graphs/fix_unfamiliar_bug.yaml")
    crossings = [p.crossing.params for p in m.predict() if p.status == "crosses"]
    assert crossings == sorted(crossings)


# --- against brentq on the exact composite --------------------------------------------------------

rules_st = st.sampled_from(["all", "any", "mean", "min", "geomean"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.floats(8, 12), st.floats(0.3, 8)), min_size=1, max_size=4),
    st.lists(st.integers(1, 12), min_size=4, max_size=4),
    rules_st,
    st.floats(0.05, 0.95),
    st.sampled_from(["", "metric: {exact_match: {length: 6}}", "metric: {pass_at: {k: 3}}"]),
)
def test_crossing_matches_brentq_on_exact_values(children, counts, rule, threshold, metric):
    skills = "\n".join(
        f"  s{i}: {{curve: {{logistic: {{midpoint: {10**mid:.6g}, slope: {slope}}}}}}}"
        for i, (mid, slope) in enumerate(children)
    )
    requires = ", ".join(f"s{i}: {counts[i]}" for i in range(len(children)))
    m = capgraph.loads(f"""
scale: {{range: [1e4, 1e18]}}
skills:
{skills}
capabilities:
  mid: {{requires: {{{requires}}}, combine: {rule}, threshold: 0.5}}
  top: {{requires: [mid], {metric + ", " if metric else ""}threshold: {threshold}}}
""")
    top = m.plan.index["top"]

    def value(log_x):
        return evaluate(m.plan, np.array([log_x]))[top, 0, 0]

    p = one(m, "top")
    lo, hi = m.log_range
    if value(lo) >= threshold:
        assert p.status == "above_at_start"
    elif value(hi) < threshold:
        assert p.status == "never"
    else:
        exact = brentq(lambda x: value(x) - threshold, lo, hi, xtol=1e-9)
        assert log_params(p) == pytest.approx(exact, abs=PRECISION)
        # The coarser Monte Carlo grid is interpolated only: within 0.002 decades on smooth curves,
        # within 0.03 across the corner of a `min` (docs/maths.md), against ≈ 0.01 of sampling error.
        log_x = grid(lo, hi, MC_GRID_PER_DECADE)
        coarse = first_crossing(log_x, evaluate(m.plan, log_x)[top], threshold).log_x[0]
        assert coarse == pytest.approx(exact, abs=0.03 if rule == "min" else 2e-3)


def test_min_kink_closed_form():
    # min(a, b) ≥ u exactly when both are, so the crossing is the later of the two children's;
    # pass@3 ≥ τ means min ≥ u = 1 − (1 − τ)^(1/3). The corner of the min sits near the crossing.
    from capgraph.kernels.curves import logistic_crossing

    m = capgraph.loads("""
scale: {range: [1e4, 1e18]}
skills:
  a: {curve: {logistic: {midpoint: 1e8, slope: 5}}}
  b: {curve: {logistic: {midpoint: 1.778279e9, slope: 0.84375}}}
capabilities:
  low: {requires: [a, b], combine: min, metric: {pass_at: {k: 3}}, threshold: 0.53125}
""")
    u = 1 - (1 - 0.53125) ** (1 / 3)
    expected = max(logistic_crossing(u, 8.0, 5.0), logistic_crossing(u, math.log10(1.778279e9), 0.84375))
    assert log_params(one(m, "low")) == pytest.approx(expected, abs=PRECISION)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.floats(8, 12), st.floats(0.3, 8)), min_size=1, max_size=4),
    st.lists(st.integers(1, 5), min_size=4, max_size=4),
    st.sampled_from(["all", "any", "mean", "min", "geomean", "k_of_n"]),
    st.data(),
)
def test_engine_rules_match_the_reference_kernels(children, counts, rule, data):
    """The engine's batched rules (slot-by-slot products, padded trials) equal capgraph.kernels.rules' kernels."""
    from capgraph.kernels import rules

    n = len(children)
    k = data.draw(st.integers(1, sum(counts[:n]))) if rule == "k_of_n" else None
    skills = "\n".join(f"  s{i}: {{curve: {{logistic: {{midpoint: {10**mid:.6g}, slope: {slope}}}}}}}"
                       for i, (mid, slope) in enumerate(children))
    requires = ", ".join(f"s{i}: {counts[i]}" for i in range(n))
    extra = f", k: {k}" if k else ""
    m = capgraph.loads(f"skills:\n{skills}\ncapabilities:\n  c: {{requires: {{{requires}}}, combine: {rule}{extra}}}\n")
    log_x = np.linspace(7, 13, 61)
    values = evaluate(m.plan, log_x)
    kids = [values[m.plan.index[f"s{i}"]] for i in range(n)]
    expected = rules.combine(rule, kids, counts[:n], k)
    np.testing.assert_allclose(values[m.plan.index["c"]], expected, rtol=1e-9, atol=1e-12)


def test_newton_that_creeps_back_from_the_cell_end_is_finished_by_bisection():
    # a cell where the cubic is monotone but nearly flat in part: Newton jumps to t = 1 and needs
    # 11 steps back; with 8 the rest is bisected, so every step count gives the same root
    from capgraph.engine.predict import _refine

    values = 1 / (1 + np.exp(-np.array([[-4.38466358, -4.29751443, 0.66419662, 34.25189392]])))
    level = np.array([1 / (1 + np.exp(4.025511547621496))])
    roots = [float(_refine(values, np.array([0]), np.array([1]), level, steps)[0]) for steps in (8, 32)]
    assert roots[0] == pytest.approx(roots[1], abs=1e-6) and roots[1] == pytest.approx(0.41632, abs=1e-5)
