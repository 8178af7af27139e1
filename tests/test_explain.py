"""`capgraph explain`: elasticities against closed forms, variance shares, the bottleneck."""

import json
import math

import pytest

import capgraph
from capgraph.engine.explain import descendants

from .conftest import GRAPHS, invoke

STEP_LOOKUP = """
scale: {axis: params, range: [1e6, 1e16]}
skills:
  step: {curve: {logistic: {midpoint: 1e9, slope: 1.5}}}
  lookup: {curve: {logistic: {midpoint: 1e10, slope: %s}}}
capabilities:
  task: {requires: {step: 20, lookup: 1}, combine: all, threshold: 0.5}
"""


def logistic(log_x, mid, slope):
    return 1 / (1 + math.exp(-slope * (log_x - mid)))  # slope: logits per decade


@pytest.mark.parametrize("lookup_slope", [1.5, 0.7])
def test_elasticities_of_an_all_of_logistics_match_the_closed_form(lookup_slope):
    # V = p_s^20 · p_l: moving skill i's curve moves the crossing by c_i (1 − p_i) s_i / Σ_j c_j (1 − p_j) s_j
    m = capgraph.loads(STEP_LOOKUP % lookup_slope)
    e = m.explain("task")
    x = math.log10(e.crossing.params)
    ps, pl = logistic(x, 9, 1.5), logistic(x, 10, lookup_slope)
    weights = {"step": 20 * (1 - ps) * 1.5, "lookup": (1 - pl) * lookup_slope}
    total = sum(weights.values())
    got = {d.node: d.elasticity for d in e.drivers}
    for name, w in weights.items():
        assert got[name] == pytest.approx(w / total, abs=1e-4)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-6)


def test_the_bottleneck_counts_repeats():
    # lookup is further from 1 at the crossing (0.89 against 0.97), but 20 steps cost more
    m = capgraph.loads(STEP_LOOKUP % 1.5)
    assert m.explain("task").bottleneck == "step"
    assert next(p for p in m.predict() if p.name == "task").bottleneck == "step"
    values = m.at(m.explain("task").crossing.params).values
    assert values["lookup"] < values["step"]


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.stem)
def test_elasticities_sum_to_one_and_the_bottleneck_agrees_with_predict(path):
    m = capgraph.load(path)
    for p in m.predict(samples=1):
        if p.kind != "capability":
            continue
        e = m.explain(p.name, samples=1)
        if p.status != "crosses":
            assert e.crossing is None and all(d.elasticity is None for d in e.drivers)
            continue
        got = {d.node: d.elasticity for d in e.drivers}
        index = m.plan.index[p.name]
        skills = [m.plan.names[k] for k in descendants(m.plan, index) if m.plan.kinds[k] == "skill"]
        children = [m.plan.names[k] for k in m.plan.children[index]]
        # every skill (and every direct child) moved together moves the crossing one for one
        assert sum(got[s] for s in skills) == pytest.approx(1.0, abs=2e-3), p.name
        assert sum(got[c] for c in children) == pytest.approx(1.0, abs=2e-3), p.name
        assert e.bottleneck == p.bottleneck, p.name


def test_variance_share_goes_to_the_uncertain_skill():
    m = capgraph.loads("""
scale: {axis: params, range: [1e6, 1e16]}
skills:
  sure: {curve: {logistic: {midpoint: 1e10, slope: 1.5}}}
  unsure: {curve: {logistic: {midpoint: 1e9 to 1e11, slope: 1.5}}}
capabilities:
  both: {requires: [sure, unsure], combine: all}
""")
    e = m.explain("both", samples=1000, seed=1)
    shares = {d.node: d.variance_share for d in e.drivers}
    assert shares["unsure"] > 0.95 and shares["sure"] == 0.0
    assert e.drivers[0].node == "unsure"  # most important first
    assert m.explain("both", samples=1000, seed=1) == e  # seeded: the same answer


def test_cli_json_keys_and_deterministic_tornado(tmp_path):
    path = "graphs/uncertain_reasoning.yaml"
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    result = invoke("explain", path, "plan_and_solve", "--samples", "300", "--json", "-o", a)
    payload = json.loads(result.output)
    assert list(payload) == ["node", "crossing", "bottleneck", "drivers"]
    assert all(list(d) == ["node", "elasticity", "variance_share"] for d in payload["drivers"])
    shares = [d["variance_share"] for d in payload["drivers"]]
    assert shares == sorted(shares, reverse=True)
    invoke("explain", path, "plan_and_solve", "--samples", "300", "-o", b)
    assert a.read_bytes() == b.read_bytes()
    assert b"<text" in a.read_bytes() and b"plan_step</text>" in a.read_bytes()  # text kept as text


def test_cli_table_and_usage_errors():
    out = invoke("explain", "graphs/fix_unfamiliar_bug.yaml", "fix_bug").output
    assert out.splitlines()[0].startswith("fix_bug crosses at ") and "bottleneck: plan_fix" in out
    bad = invoke("explain", "graphs/fix_unfamiliar_bug.yaml", "fix_bugg", code=2).output
    assert "did you mean 'fix_bug'" in bad


def test_skill_shift_is_exact_for_a_lone_skill():
    m = capgraph.loads("""
scale: {axis: params, range: [1e6, 1e16]}
skills: {s: {curve: {logistic: {midpoint: 1e10, slope: 1}}}}
capabilities: {c: {requires: {s: 3}, combine: all}}
""")
    assert [d.elasticity for d in m.explain("c").drivers] == [pytest.approx(1.0, abs=1e-9)]
    p = 0.5 ** (1 / 3)
    assert math.log10(m.explain("c").crossing.params) == pytest.approx(
        10 + math.log(p / (1 - p)), abs=1e-3)


@pytest.mark.parametrize("rule", [
    "{requires: {a: 3, b: 1, c: 2}, combine: k_of_n, k: 4}",
    "{requires: {a: 300, b: 100, c: 200}, combine: k_of_n, k: 450}",  # the normal approximation
    "{requires: [a, b, c], combine: min}",
    "{requires: {a: 1, b: 2, c: 3}, combine: any, threshold: 0.9}",
    "{requires: {a: 1, b: 2, c: 3}, combine: mean}",
    "{requires: {a: 1, b: 2, c: 3}, combine: geomean}",
])
def test_predict_and_explain_name_the_same_bottleneck_for_every_rule(rule):
    m = capgraph.loads(f"""
scale: {{axis: params, range: [1e6, 1e16]}}
skills:
  a: {{curve: {{logistic: {{midpoint: 1e9, slope: 1.5}}}}}}
  b: {{curve: {{logistic: {{midpoint: 3e9, slope: 0.6}}}}}}
  c: {{curve: {{logistic: {{midpoint: 2e10, slope: 2.5}}}}}}
capabilities:
  top: {rule}
""")
    e = m.explain("top", samples=1)
    p = next(p for p in m.predict(samples=1) if p.name == "top")
    assert p.status == "crosses"
    assert sum(d.elasticity for d in e.drivers) == pytest.approx(1.0, abs=2e-3)
    assert e.bottleneck == p.bottleneck
