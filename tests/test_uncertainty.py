"""Parameter ranges, Monte Carlo through the map, and crossing intervals."""

import json
import math

import numpy as np
import pytest
from scipy.special import logit, ndtr
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.core.errors import MapError
from capgraph.kernels.sampling import Z95, Interval, latent, truncated_draws

SINGLE = """
scale: {range: [1e6, 1e16]}
skills:
  s: {curve: {logistic: {midpoint: %s, slope: 1.5}}, threshold: %s}
"""


def quantiles_log10(p, unit="params"):
    return {k: math.log10(getattr(v, unit)) for k, v in p.quantiles.items()}


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.2])
def test_single_logistic_lognormal_midpoint_matches_closed_form(threshold):
    m = capgraph.loads(SINGLE % ("3e9 to 3e10", threshold))
    (p,) = m.predict(samples=4000, seed=1)
    shift = float(logit(threshold)) / 1.5  # log10 x* = log10 m + logit(τ)/s
    mu, sigma = (math.log10(3e9) + math.log10(3e10)) / 2, 0.5 / Z95
    expected = {"p5": mu - Z95 * sigma + shift, "p50": mu + shift, "p95": mu + Z95 * sigma + shift}
    # Monte Carlo error of a 5% quantile of 4000 draws: ≈ 0.01 decades; allow four of them
    for key, value in quantiles_log10(p).items():
        assert value == pytest.approx(expected[key], abs=0.04), key
    assert p.p_never == 0.0


def test_probability_crossed_by_matches_normal_cdf():
    m = capgraph.loads(SINGLE % ("3e9 to 3e10", 0.5))
    by = 2e10
    (p,) = m.predict(samples=4000, seed=2, by=by)
    mu, sigma = (math.log10(3e9) + math.log10(3e10)) / 2, 0.5 / Z95
    assert p.p_crossed_by == pytest.approx(float(ndtr((math.log10(by) - mu) / sigma)), abs=0.03)


def test_interval_forms_are_equivalent_and_seeded():
    text = SINGLE % ("3e9 to 3e10", 0.5)
    as_dict = SINGLE % ("{p5: 3e9, p95: 3e10}", 0.5)
    a = capgraph.loads(text).predict_json(samples=500, seed=7)
    b = capgraph.loads(as_dict).predict_json(samples=500, seed=7)
    c = capgraph.loads(text).predict_json(samples=500, seed=8)
    assert a == b
    assert a["capabilities"][0]["quantiles"] != c["capabilities"][0]["quantiles"]


def test_same_seed_byte_identical_cli_output(write_map):
    path = write_map(SINGLE % ("3e9 to 3e10", 0.5))
    runs = [CliRunner().invoke(app, ["predict", str(path), "--json", "--seed", "3", "--samples", "300"])
            for _ in range(2)]
    assert runs[0].exit_code == 0
    assert runs[0].stdout == runs[1].stdout
    payload = json.loads(runs[0].stdout)
    assert payload["samples"] == 300 and payload["seed"] == 3
    assert set(payload["capabilities"][0]["quantiles"]) == {"p5", "p50", "p95"}
    assert set(payload["capabilities"][0]["quantiles"]["p50"]) == {"params", "tokens", "flops"}


@pytest.mark.parametrize("path", ["graphs/ten_step_reasoning.yaml", "graphs/fix_unfamiliar_bug.yaml"])
def test_maps_without_ranges_give_the_deterministic_answers_exactly(path):
    m = capgraph.load(path)
    assert not m.uncertain
    for p in m.predict(samples=2000, seed=5):
        if p.status == "never":
            assert p.quantiles is None and p.p_never == 1.0
        else:
            assert p.p_never == 0.0
            assert all(q == p.crossing for q in p.quantiles.values())
    assert m.predict_json(samples=2000, seed=5)["capabilities"] == m.predict_json(seed=9)["capabilities"]


def spread(m, name, samples=3000):
    p = next(p for p in m.predict(samples=samples, seed=11) if p.name == name)
    q = quantiles_log10(p)
    return q["p95"] - q["p5"]


CORRELATED = """
scale: {range: [1e6, 1e18]}
correlation: %s
skills:
%s
capabilities:
  both: {requires: [%s], combine: all, threshold: 0.5}
"""


def test_correlation_widens_an_all_composite():
    names = [f"s{i}" for i in range(6)]
    skills = "\n".join(f"  {n}: {{curve: {{logistic: {{midpoint: 1e9 to 1e11, slope: 1}}}}}}" for n in names)
    independent = capgraph.loads(CORRELATED % (0.0, skills, ", ".join(names)))
    together = capgraph.loads(CORRELATED % (1.0, skills, ", ".join(names)))
    # With ρ = 1 the six skills move as one, so the composite inherits a single skill's full spread
    # (two decades over the 90% interval); independent errors partly cancel in the product.
    assert spread(together, "both") == pytest.approx(2.0, abs=0.15)
    assert spread(together, "both") > 1.5 * spread(independent, "both")


def test_capability_correlation_overrides_the_map_for_its_subtree():
    text = """
scale: {range: [1e6, 1e18]}
correlation: 0
skills:
  a: {curve: {logistic: {midpoint: 1e9 to 1e11, slope: 1}}}
  b: {curve: {logistic: {midpoint: 1e9 to 1e11, slope: 1}}}
capabilities:
  pair: {requires: [a, b], correlation: 1, threshold: 0.5}
"""
    m = capgraph.loads(text)
    plan = m.sampled_plan(2000, 0)
    mids = plan.levels[0].skills[0].params["log_midpoint"]
    assert np.corrcoef(mids)[0, 1] == pytest.approx(1.0, abs=1e-9)


def test_latent_copula_correlations():
    rng = np.random.default_rng(0)
    groups = np.array([0, 0, 1, 1])
    rho_group = np.array([0.3, 0.8])
    z = latent(groups, rho_group[groups], rho_group, 0.3, 50_000, rng)
    c = np.corrcoef(z)
    assert c[0, 1] == pytest.approx(0.3, abs=0.02)  # map group
    assert c[2, 3] == pytest.approx(0.8, abs=0.02)  # the overriding group
    assert c[0, 2] == pytest.approx(0.3, abs=0.02)  # across: the map's ρ
    assert np.std(z, axis=1) == pytest.approx(np.ones(4), abs=0.02)


def test_truncated_draws_respect_bounds_and_percentiles():
    eps = np.random.default_rng(0).standard_normal((1, 100_000))
    slope = truncated_draws([Interval(0.1, 3.0)], eps, 1e-9, np.inf)
    assert slope.min() > 0
    wide = truncated_draws([Interval(2.0, 4.0)], eps, 0.0, np.inf)  # truncation far away: untouched
    assert np.quantile(wide, [0.05, 0.95]) == pytest.approx([2.0, 4.0], abs=0.02)
    assert Z95 == pytest.approx(1.6448536, abs=1e-7)


@pytest.mark.parametrize("floor, ceiling", [("0.2 to 0.5", "0.4 to 0.9"), ("0.25", "0.2 to 0.9"),
                                             ("0.1 to 0.6", "0.5")])
def test_floor_and_ceiling_draws_stay_ordered(floor, ceiling):
    m = capgraph.loads(f"""
skills:
  s: {{curve: {{logistic: {{midpoint: 1e10, slope: 1, floor: {floor}, ceiling: {ceiling}}}}}}}
""")
    q = m.sampled_plan(5000, 0).levels[0].skills[0].params
    assert np.all(q["floor"] < q["ceiling"])
    assert np.all((q["floor"] >= 0) & (q["ceiling"] <= 1))


def test_p_never_and_quantiles_stay_consistent():
    # the midpoint's interval straddles the end of the range: some samples never cross
    m = capgraph.loads(SINGLE.replace("1e16", "1e10") % ("1e9 to 1e11", 0.5))
    (p,) = m.predict(samples=4000, seed=0)
    assert p.p_never == pytest.approx(0.5, abs=0.03)
    # percentiles count every draw, those that never cross as beyond the range: p95 lies there
    assert p.quantiles["p95"] is None and "never cross" in p.why_missing["p95"]
    assert p.quantiles["p5"].params < 1e10
    assert p.to_json()["why_missing"] == p.why_missing
    beyond = capgraph.loads(SINGLE.replace("1e16", "1e10") % ("1e13 to 1e14", 0.5))
    (q,) = beyond.predict(samples=500)
    assert q.p_never == 1.0 and q.quantiles is None
    assert q.to_json()["quantiles"] is None


def test_shared_draw_across_parents():
    # two capabilities use one skill; with the skill's draw shared their crossings move together
    m = capgraph.loads("""
scale: {range: [1e6, 1e18]}
skills:
  s: {curve: {logistic: {midpoint: 1e9 to 1e11, slope: 1}}}
capabilities:
  two: {requires: {s: 2}, threshold: 0.5}
  three: {requires: {s: 3}, threshold: 0.5}
""")
    from capgraph.engine.predict import MC_GRID_PER_DECADE, crossing_samples, grid

    plan = m.sampled_plan(1000, 0)
    log_c = crossing_samples(plan, grid(6, 18, MC_GRID_PER_DECADE), 1000)
    assert np.corrcoef(log_c)[0, 1] == pytest.approx(1.0, abs=1e-6)


def test_at_reports_intervals():
    m = capgraph.loads(SINGLE % ("3e9 to 3e10", 0.5))
    snap = m.at(math.sqrt(3e9 * 3e10), samples=4000)
    assert snap.at_medians["s"] == pytest.approx(0.5)  # the map at its parameter medians
    q = snap.quantiles["s"]
    assert snap.values["s"] == q["p50"]  # the answer is the Monte Carlo median
    assert q["p50"] == pytest.approx(0.5, abs=0.03)
    # 90% of midpoints lie within half a decade, so the value at the median midpoint spans
    # σ(±1.5 × 0.5) = 0.32 … 0.68
    assert q["p5"] == pytest.approx(1 / (1 + math.exp(0.75)), abs=0.03)
    assert q["p95"] == pytest.approx(1 / (1 + math.exp(-0.75)), abs=0.03)


@pytest.mark.parametrize(
    "value, fragment, token",
    [("3e10 to 3e9", "reversed", "3e10"), ("{p5: 3e9}", "{p5: low, p95: high}", "midpoint"),
     ("3e9 to banana", "not a number", "3e9"), ("-1 to 3e9", "positive", "-1")],
)
def test_bad_intervals_are_located(write_map, value, fragment, token):
    path = write_map(f"skills:\n  s: {{curve: {{logistic: {{midpoint: {value}, slope: 1}}}}}}\n")
    with pytest.raises(MapError) as info:
        capgraph.load(path)
    (problem,) = info.value.problems
    assert fragment in problem.message
    assert (problem.line, problem.col) == (2, path.read_text().splitlines()[1].index(token) + 1)


def test_progress_bar_only_on_a_terminal_after_a_delay():
    import io

    from rich.console import Console

    from capgraph.outputs.terminal import progress_reporter

    piped = Console(file=io.StringIO(), force_terminal=False)
    with progress_reporter(piped, 100, delay=0.0) as advance:
        advance(50)
        advance(50)
    assert piped.file.getvalue() == ""  # not a terminal: nothing drawn

    screen = Console(file=io.StringIO(), force_terminal=True, width=80)
    with progress_reporter(screen, 100, delay=0.0) as advance:
        advance(100)
    assert "sampling" in screen.file.getvalue()

    quick = Console(file=io.StringIO(), force_terminal=True, width=80)
    with progress_reporter(quick, 100, delay=60.0) as advance:  # finished before the delay
        advance(100)
    assert quick.file.getvalue() == ""


def test_predict_json_has_no_progress_output(write_map):
    path = write_map(SINGLE % ("3e9 to 3e10", 0.5))
    result = CliRunner().invoke(app, ["predict", str(path), "--json", "--samples", "100"])
    json.loads(result.stdout)  # nothing but the JSON


def test_by_with_a_bad_scale_is_a_usage_error(write_map):
    path = write_map(SINGLE % ("3e9 to 3e10", 0.5))
    result = CliRunner().invoke(app, ["predict", str(path), "--by", "soon"])
    assert result.exit_code == 2 and "not a number" in result.output


def test_dates_of_crossing_quantiles_follow_the_timeline():
    from capgraph.world.timeline import flops_to_dates, iso_dates

    m = capgraph.loads("""
scale: {axis: flops, range: [1e20, 1e30]}
timeline: {start: 2026-01-01, flops: 5e26, growth_per_year: 4}
skills:
  s: {curve: {logistic: {midpoint: 1e26 to 1e28, slope: 1.5}}, threshold: 0.5}
""")
    row = m.predict_json(samples=1000)["capabilities"][0]
    q = row["quantiles"]
    expected = iso_dates(flops_to_dates([q[k]["flops"] for k in ("p5", "p50", "p95")],
                                        m.spec.timeline.start, 5e26, 4))
    assert [row["dates"][k] for k in ("p5", "p50", "p95")] == expected
    # a 4x-a-year trend moves one decade in log4(10) = 1.66 years: p5 to p95 spans about 3.3 years
    import datetime as dt
    span = (dt.date.fromisoformat(row["dates"]["p95"]) - dt.date.fromisoformat(row["dates"]["p5"])).days
    assert span / 365.25 == pytest.approx(2 * math.log(10) / math.log(4), abs=0.25)


def test_ranged_maps_round_trip_through_json_for_scenarios():
    from capgraph.model.capmap import CapabilityMap

    m = capgraph.load("graphs/uncertain_reasoning.yaml")
    again = CapabilityMap(m.spec).scenario("baseline", data_limit=1e12)  # no document: dumps the spec
    assert again.spec.skills == m.spec.skills


def test_share_above_threshold_at_the_start_of_the_range():
    # the midpoint's interval straddles the start of the range: about half the samples start above
    m = capgraph.loads(SINGLE.replace("1e6", "1e10") % ("1e9 to 1e11", 0.5))
    (p,) = m.predict(samples=4000, seed=0)
    assert p.p_above_at_start == pytest.approx(0.5, abs=0.03)
    assert p.quantiles["p5"].params == pytest.approx(1e10)  # censored at the start, as documented
    (q,) = capgraph.loads(SINGLE % ("3e9 to 3e10", 0.5)).predict(samples=500)
    assert q.p_above_at_start == 0.0
