"""k-of-n at scale: the binomial tail in closed form, the exact programme against enumeration, the
refined normal approximation against the exact tail, and the engine's crossings against closed forms."""

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import betaincinv, logit
from scipy.stats import binom

import capgraph
from capgraph.engine.plan import evaluate
from capgraph.kernels import rules


def enumerate_tail(ps: list[float], k: int) -> float:
    """P(at least k successes) by summing over all 2^n outcomes."""
    total = 0.0
    for bits in itertools.product((0, 1), repeat=len(ps)):
        if sum(bits) >= k:
            total += math.prod(p if b else 1 - p for p, b in zip(ps, bits, strict=True))
    return total


@pytest.mark.parametrize("n, k", [(1, 1), (10, 3), (1000, 750), (20000, 15000), (20000, 1), (20000, 20000)])
def test_binomial_tail_is_the_closed_form(n, k):
    p = np.linspace(0.0, 1.0, 201)
    np.testing.assert_allclose(rules.binomial_tail(p, n, k), binom.sf(k - 1, n, p), rtol=1e-10, atol=1e-300)
    single = rules.binomial_tail(p.astype(np.float32), n, k)
    assert single.dtype == np.float32  # Monte Carlo passes stay in float32
    np.testing.assert_allclose(single, binom.sf(k - 1, n, p.astype(np.float32)), atol=2e-6)
    assert rules.binomial_tail(np.array(0.3), 5, 6) == 0 and rules.binomial_tail(np.array(0.3), 5, 0) == 1


def test_exact_programme_matches_enumeration_for_many_nodes_at_once():
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1, (5, 7))  # 5 children at 7 points
    nodes = [({0: 2, 1: 1, 3: 1}, 1), ({0: 2, 1: 1, 3: 1}, 3), ({2: 1, 4: 3, 1: 1}, 4),
             ({1: 2, 2: 1, 3: 1, 4: 1, 0: 3}, 5), ({3: 1}, 1), ({2: 2}, 2)]  # {child: trials}, k
    groups, counts = np.full((5, len(nodes)), -1), np.zeros((5, len(nodes)), dtype=int)
    for j, (kids, _) in enumerate(nodes):
        groups[:len(kids), j], counts[:len(kids), j] = list(kids), list(kids.values())
    got = rules.k_of_n_exact(values, groups, counts, np.array([k for _, k in nodes]))
    for j, (kids, k) in enumerate(nodes):
        for col in range(values.shape[1]):
            ps = [values[c, col] for c, count in kids.items() for _ in range(count)]
            assert got[j, col] == pytest.approx(enumerate_tail(ps, k), abs=1e-14)


def test_reference_kernel_picks_the_closed_form_for_identical_children():
    p = np.linspace(0.5, 0.95, 10)
    split = rules.k_of_n([p, p.copy(), p.copy()], [400, 300, 300], 750)  # three identical children
    np.testing.assert_allclose(split, binom.sf(749, 1000, p), rtol=1e-10)


@pytest.mark.parametrize("counts, k", [([40, 60, 100], 120), ([250, 250, 250, 250], 750), ([5, 995], 600)])
def test_refined_normal_approximation_is_within_a_few_thousandths_of_the_exact_tail(counts, k):
    rng = np.random.default_rng(1)
    base = np.linspace(0.0, 1.0, 41)
    values = np.clip(base[None, :] + rng.normal(0, 0.15, (len(counts), 1)), 0, 1)
    groups, counts_ = np.arange(len(counts))[:, None], np.array(counts)[:, None]
    exact = rules.k_of_n_exact(values, groups, counts_, np.array([k]))[0]
    approx = rules.k_of_n_normal(values, groups, counts_, np.array([k]))[0]
    assert np.max(np.abs(approx - exact)) < 3e-3
    assert np.all(np.diff(approx) >= -1e-12)  # still increasing in the children


def kofn_map(requires: str, k: int, *, ranges: bool = False) -> capgraph.CapabilityMap:
    midpoint = "3e9 to 3e10" if ranges else "1e10"
    skills = "\n".join(f"  {name}: {{curve: {{logistic: {{midpoint: {midpoint}, slope: {slope}}}}}}}"
                       for name, slope in (("a", 1.5), ("b", 1.5), ("c", 0.8)))
    return capgraph.loads(f"""
scale: {{range: [1e6, 1e16]}}
skills:
{skills}
capabilities:
  cases: {{requires: {{{requires}}}, combine: k_of_n, k: {k}, threshold: 0.5}}
""")


def crossing(m: capgraph.CapabilityMap, name: str = "cases", **options) -> float:
    (p,) = [p for p in m.predict(**options) if p.name == name]
    return math.log10(p.crossing.params)


def test_750_of_1000_crosses_where_the_closed_form_says():
    p_star = float(betaincinv(750, 251, 0.5))  # I_p(750, 251) = 0.5
    expected = 10 + float(logit(p_star)) / 1.5
    assert crossing(kofn_map("a: 1000", 750)) == pytest.approx(expected, abs=1e-3)
    # two children with identical curves are one binomial too
    assert crossing(kofn_map("a: 600, b: 400", 750)) == pytest.approx(expected, abs=1e-3)


def test_mixed_children_cross_where_the_exact_tail_does():
    m = kofn_map("a: 300, c: 200", 400)
    a, c = (m.plan.index[n] for n in "ac")

    def exact(log_x: float) -> float:
        v = evaluate(m.plan, np.array([log_x]))[:, 0, 0]
        tail = rules.k_of_n_exact(np.array([[v[a]], [v[c]]]), np.array([[0], [1]]), np.array([[300], [200]]),
                                  np.array([400]))
        return float(tail[0, 0]) - 0.5

    assert crossing(m) == pytest.approx(brentq(exact, 6, 16, xtol=1e-9), abs=0.01)


def test_15000_of_20000_with_ranges_stays_small():
    m = kofn_map("a: 20000", 15000, ranges=True)
    log_x = np.linspace(6, 16, 41)
    values = evaluate(m.sampled_plan(64, 0), log_x)
    mid = values[m.plan.index["a"]]
    np.testing.assert_allclose(values[m.plan.index["cases"]], binom.sf(14999, 20000, mid), atol=1e-12)
