"""Scenarios: overlays touch only what they name, efficiency scales compute, errors are located."""

import json
import math

import pytest
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.core.errors import MapError
from capgraph.format.scenarios import merge_patch

from .conftest import invoke

MAP = """\
scale: {axis: flops, range: [1e18, 1e32], allocation: besiroglu2024, data_limit: 1e13}
timeline: {start: 2026-01-01, flops: 5e26, growth_per_year: 4}
skills:
  a: {curve: {logistic: {midpoint: 1e24, slope: 2}}, threshold: 0.5}
  b: {curve: {logistic: {midpoint: 1e25, slope: 1}}}
capabilities:
  c: {requires: {a: 3, b: 1}, threshold: 0.6}
scenarios:
  harder_a:
    description: a is ten times harder
    skills:
      a: {curve: {logistic: {midpoint: 1e25}}}
  efficient:
    efficiency: 3
  more_data:
    scale: {data_limit: 1e16}
  as_points:
    skills:
      b: {curve: {logistic: null, points: [[1e20, 0.1], [1e30, 0.9]]}}
"""


@pytest.fixture
def cmap(write_map):
    return capgraph.load(write_map(MAP))


def crossings(m):
    return {p.name: p.crossing for p in m.predict()}


def test_merge_patch_rfc7396():
    base = {"a": {"b": 1, "c": {"d": 2}}, "e": [1, 2]}
    assert merge_patch(base, {"a": {"c": {"d": 3}}, "e": None}) == {"a": {"b": 1, "c": {"d": 3}}}
    assert base == {"a": {"b": 1, "c": {"d": 2}}, "e": [1, 2]}  # untouched


def test_overlay_touches_only_what_it_names(cmap):
    before = cmap.spec.model_dump()
    after = cmap.scenario("harder_a").spec.model_dump()
    assert after["skills"]["a"]["curve"]["logistic"]["midpoint"] == 1e25
    after["skills"]["a"]["curve"]["logistic"]["midpoint"] = 1e24
    assert after == before  # slope, threshold, other nodes, scale, timeline: all as written
    base, harder = crossings(cmap), crossings(cmap.scenario("harder_a"))
    assert math.log10(harder["a"].flops) == pytest.approx(25, abs=1e-3)
    assert math.log10(base["a"].flops) == pytest.approx(24, abs=1e-3)


def test_efficiency_divides_compute(cmap):
    base, efficient = crossings(cmap), crossings(cmap.scenario("efficient"))
    for name in ("a", "c"):
        assert math.log10(efficient[name].flops) == pytest.approx(math.log10(base[name].flops / 3), abs=1e-3)
        # the same effective compute means the same loss
        assert efficient[name].loss == pytest.approx(base[name].loss, rel=1e-4)


def test_efficiency_on_a_params_axis_with_a_fixed_ratio(write_map):
    m = capgraph.loads("""
skills:
  a: {curve: {logistic: {midpoint: 1e10, slope: 2}}, threshold: 0.5}
scenarios:
  twice: {efficiency: 4}
""")
    # flops ∝ params² at a fixed ratio: 4x effective compute is 2x effective params
    assert crossings(m.scenario("twice"))["a"].params == pytest.approx(0.5e10, rel=1e-3)


def test_a_scenario_lifting_the_data_limit_gets_a_date(cmap):
    base = {p.name: cmap.outlook(p) for p in cmap.predict()}
    lifted = cmap.scenario("more_data")
    more = {p.name: lifted.outlook(p) for p in lifted.predict()}
    assert base["c"]["data_limit"]["exceeds"] and base["c"]["date"] is None
    assert not more["c"]["data_limit"]["exceeds"] and more["c"]["date"] is not None


def test_null_swaps_a_curve_kind(cmap):
    b = cmap.scenario("as_points").spec.skills["b"].curve
    assert b.kind == "points" and b.logistic is None


def test_compare_matches_each_scenario(cmap):
    result = cmap.compare()
    assert [s["name"] for s in result["scenarios"]] == ["baseline", "harder_a", "efficient", "more_data",
                                                        "as_points"]
    rows = {r["name"]: r for r in result["capabilities"]}
    assert set(rows) == {"a", "c"}
    for name in ("baseline", "harder_a", "efficient"):
        m = cmap if name == "baseline" else cmap.scenario(name)
        for node, point in crossings(m).items():
            assert rows[node]["crossings"][name]["crossing"] == point.as_dict()


def test_unknown_scenario_did_you_mean(cmap, write_map):
    with pytest.raises(KeyError, match="did you mean 'efficient'"):
        cmap.scenario("eficient")
    said = invoke("predict", cmap.path, "--scenario", "eficient", code=2).flat  # a usage error
    assert "--scenario" in said and "no scenario 'eficient'" in said
    assert "did you mean 'efficient'" in said


def test_cli_compare_and_predict_with_scenario(cmap):
    runner = CliRunner()
    compared = json.loads(runner.invoke(app, ["compare", str(cmap.path), "--json"]).output)
    assert compared == json.loads(json.dumps(cmap.compare()))
    text = runner.invoke(app, ["compare", str(cmap.path)]).output
    assert "harder_a" in text and "data-limited" in text
    predicted = json.loads(runner.invoke(app, ["predict", str(cmap.path), "--json", "--scenario",
                                               "efficient"]).output)
    assert predicted["scenario"] == "efficient" and predicted["efficiency"] == 3


@pytest.mark.parametrize("scenario, token, fragment", [
    ("  bad:\n    skills:\n      a: {curve: {logistic: {midpoint: -1}}}\n", "-1",
     "scenario 'bad': midpoint: a scale must be positive"),
    ("  bad:\n    skills:\n      aa: {threshold: 0.7}\n", "aa:",
     "'aa' is not one of the map's skills; a scenario changes existing nodes only (did you mean 'a'?)"),
    ("  bad:\n    scale: {data_limt: 1e15}\n", "data_limt",
     "scenario 'bad': unknown key 'data_limt' (did you mean 'data_limit'?)"),
    ("  bad:\n    efficiency: 0\n", "0\n", "efficiency: must be greater than 0"),
    ("  bad:\n    colour: red\n", "colour", "unknown key 'colour'"),
])
def test_scenario_errors_are_located_in_the_scenario(write_map, scenario, token, fragment):
    text = MAP.split("scenarios:")[0] + "scenarios:\n" + scenario
    with pytest.raises(MapError) as info:
        capgraph.load(write_map(text))
    offset = text.index(token, text.index("scenarios:"))
    line = text.count("\n", 0, offset) + 1
    col = offset - text.rfind("\n", 0, offset)
    found = [(p.line, p.col) for p in info.value.problems if fragment in p.message]
    assert found == [(line, col)], info.value.problems


def test_a_scenario_may_give_a_node_a_threshold(write_map):
    m = capgraph.load(write_map(MAP + "  judge_b:\n    skills:\n      b: {threshold: 0.5}\n"))
    rows = {r["name"]: r["crossings"] for r in m.compare()["capabilities"]}
    assert rows["b"]["baseline"] is None
    assert math.log10(rows["b"]["judge_b"]["crossing"]["flops"]) == pytest.approx(25, abs=1e-3)


def test_efficiency_on_the_loss_axis():
    m = capgraph.loads("""
scale: {axis: loss, allocation: besiroglu2024}
skills:
  s: {curve: {logistic: {midpoint: 2.0, slope: 100}}, threshold: 0.5}
scenarios:
  better: {efficiency: 10}
""")
    base, better = crossings(m)["s"], crossings(m.scenario("better"))["s"]
    assert better.loss == pytest.approx(2.0, rel=1e-3) and base.loss == pytest.approx(2.0, rel=1e-3)
    assert math.log10(better.flops) == pytest.approx(math.log10(base.flops) - 1, abs=1e-3)
