"""Every example map checks, predicts, and tells the story it was written to tell."""

import json
import math

import jsonschema
import pytest

import capgraph
from capgraph.format.schema import json_schema
from capgraph.format.source import load_document

from .conftest import GRAPHS, ROOT


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.name)
def test_example_loads_predicts_and_matches_the_json_schema(path):
    cmap = capgraph.load(path)
    # a fitted curve read beyond its data is worth a warning, not a fault of the example
    assert [w for w in cmap.warnings() if "extrapolates: it was fitted" not in w.message] == []
    assert cmap.predict(), "every example has something to predict"
    jsonschema.validate(load_document(path).data, json_schema())


def test_schema_rejects_what_the_loader_rejects():
    bad = {"skills": {"s": {"curve": {"logistic": {"midpoint": "7Q", "slope": 1}}}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema())


def by_name(cmap):
    return {p.name: p for p in cmap.predict()}


def test_ten_step_chain_is_later_and_sharper_than_its_step():
    p = by_name(capgraph.load(ROOT / "graphs" / "ten_step_reasoning.yaml"))
    step, ten = p["reasoning_step"], p["ten_step_problem"]
    assert ten.crossing.params > 100 * step.crossing.params
    assert ten.sharpness_decades < step.sharpness_decades
    # the SCIENCE.md example: the step going from 0.7 to 0.95 takes the chain from 0.03 to 0.60
    cmap = capgraph.load(ROOT / "graphs" / "ten_step_reasoning.yaml")
    for step_value, chain_value in ((0.7, 0.028), (0.95, 0.599)):
        scale = 10 ** (10 + math.log(step_value / (1 - step_value)) / 1.5)  # logistic(1e10, 1.5)
        values = cmap.at(scale).values
        assert values["reasoning_step"] == pytest.approx(step_value)
        assert values["ten_step_problem"] == pytest.approx(chain_value, abs=1e-3)


def test_three_lenses_tell_three_stories():
    cmap = capgraph.load(ROOT / "graphs" / "arithmetic_lenses.yaml")
    p = by_name(cmap)
    assert p["exact_match"].crossing.params > 10 * p["per_digit"].crossing.params
    assert p["multiple_choice"].value_at_start == pytest.approx(0.25, abs=1e-3)  # chance floor
    assert p["exact_match"].value_at_start < 1e-3  # flat at zero: "absent" in small models


def test_aggregate_of_sharp_tasks_is_smooth():
    p = by_name(capgraph.load(ROOT / "graphs" / "benchmark_aggregate.yaml"))
    tasks = [v for k, v in p.items() if k.startswith("task")]
    assert max(t.sharpness_decades for t in tasks) < 1.7
    assert p["benchmark_mean"].sharpness_decades > 2.5 * min(t.sharpness_decades for t in tasks)


def test_composite_is_held_back_by_its_bottleneck():
    cmap = capgraph.load(ROOT / "graphs" / "fix_unfamiliar_bug.yaml")
    p = by_name(cmap)
    top = p["fix_bug"]
    assert top.bottleneck == "plan_fix"
    assert all(top.crossing.flops > p[c].crossing.flops
               for c in ("understand_codebase", "plan_fix", "use_tools", "debug"))
    assert p["fix_bug_pass_at_5"].crossing.flops < top.crossing.flops  # more attempts help
    assert math.isfinite(top.sharpness_decades)


def test_deterministic_json(tmp_path):
    from typer.testing import CliRunner

    from capgraph.cli.app import app

    runs = [CliRunner().invoke(app, ["predict", str(GRAPHS[0]), "--json"]).stdout for _ in range(2)]
    assert runs[0] == runs[1]
    json.loads(runs[0])
