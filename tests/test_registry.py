"""Every kind in the registries has every path: schema, engine, fit, loss axis, docs.

The tests iterate the registries, so a curve family, rule or lens added without one of its paths
fails here, naming the kind and what it lacks.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import capgraph
from capgraph.engine import plan as plan_module
from capgraph.engine.plan import UnknownKind, compile_plan
from capgraph.evidence.fit import CURVES as FITTABLE
from capgraph.evidence.fit import FitOptions, fit_curve
from capgraph.format import schema
from capgraph.kernels.curves import FAMILIES
from capgraph.kernels.kinds import CurveFamily, Registry
from capgraph.kernels.lenses import LENSES
from capgraph.kernels.rules import RULES

from .conftest import ROOT

#: Families declared not fittable, and why: observed points are data already.
NOT_FITTABLE = {"points"}

LOG_X = np.linspace(7.5, 13.5, 61)


def example(family: CurveFamily, log_location: float) -> dict | list:
    """A valid value of this family's block: defaults where it has them, the location at 10^log_location."""
    if family.batch == "table":
        return [[10 ** (log_location - 1), 0.1], [10**log_location, 0.5], [10 ** (log_location + 1.5), 0.9]]
    values = {}
    for p in family.params:
        if p.name == family.location:
            values[p.name] = 10**log_location
        elif p.default is not None:
            values[p.name] = p.default
        else:
            values[p.name] = 1.5
    return values


def one_skill(name: str, body, extra: str = "") -> capgraph.CapabilityMap:
    return capgraph.loads(json.dumps({
        "scale": {"range": [1e7, 1e14]}, **json.loads(extra or "{}"),
        "skills": {"s": {"curve": {name: body}, "threshold": 0.5}},
    }))


def direct(family: CurveFamily, body, log_x: np.ndarray) -> np.ndarray:
    """The family's kernel called on the map's values, outside the engine."""
    if family.batch == "table":
        xs, ys = zip(*body, strict=True)
        return family.kernel(log_x, np.log10(xs), np.array(ys))
    return family.kernel(log_x, **family.args(body))


# --- curve families --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_record_is_complete(name):
    family = FAMILIES[name]
    assert family.name == name and family.batch in ("block", "table")
    if family.batch == "block":
        assert family.params, name
        location = family.param(family.location)  # the loss axis and the copula move it
        assert location.log, f"{name}: the location parameter must be a scale"
        assert set(family.drawn) == set(family.names) - {family.location}, name
        assert list(schema.CURVE_MODELS[name].model_fields) == list(family.names)
    assert name in schema.Curve.model_fields


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_engine_path_is_its_kernel(name):
    family = FAMILIES[name]
    body = example(family, 10.3)
    m = one_skill(name, body)
    engine = m.curves(LOG_X)["s"]
    np.testing.assert_allclose(engine, direct(family, body, LOG_X), rtol=1e-12, atol=1e-15)
    assert np.all(np.diff(engine) >= 0)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_fit_path(name):
    family = FAMILIES[name]
    if family.fit is None:
        assert name in NOT_FITTABLE, f"{name} has no fitting hooks and is not declared unfittable"
        assert name not in FITTABLE and name not in schema.FITTABLE
        return
    assert name in FITTABLE and name in schema.FITTABLE
    truth = example(family, 10.0)
    lx = np.linspace(8, 12, 17)
    fit = fit_curve(lx, direct(family, truth, lx), FitOptions(name))
    assert fit.curve_json() == {name: pytest.approx(truth, rel=1e-5)}
    assert set(family.fit.stuck) <= set(fit.free)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_closed_forms_match_its_kernel(name):
    family = FAMILIES[name]
    if family.crossing is None:
        assert family.batch == "table", f"{name}: a parametric family needs a closed-form crossing"
        return
    args = family.args(example(family, 10.0))
    for level in (0.2, 0.5, 0.8):
        at = family.crossing(level, args)
        assert float(family.kernel(np.array(at), **args)) == pytest.approx(level, abs=1e-12)
    fine = np.linspace(0, 20, 200001)
    values = family.kernel(fine, **args)
    low, high = values.min(), values.max()  # 10% to 90% of the rise over a wide span
    rise = fine[np.searchsorted(values, low + 0.9 * (high - low))] - fine[np.searchsorted(values, low + 0.1 * (high - low))]
    assert family.sharpness(args) == pytest.approx(rise, abs=1e-3)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_loss_axis_path(name):
    """On a loss axis a curve reads log10(1/loss): its location is mirrored, points reversed."""
    family = FAMILIES[name]
    body = example(family, math.log10(2.3))
    if family.batch == "table":  # observed on a loss axis: scores fall as the loss rises
        body = [[x, 1 - y] for x, y in body]
    m = one_skill(name, body, '{"scale": {"axis": "loss", "allocation": "besiroglu2024", "range": [1.9, 4.0]}}')
    for loss in (2.0, 2.3, 3.1):
        expected = float(direct(family, body, np.array([math.log10(loss)]))[0])
        if family.batch == "block":  # value at 1/loss of the curve with its location at 1/location
            mirrored = dict(body, **{family.location: 1 / body[family.location]})
            expected = float(direct(family, mirrored, np.array([-math.log10(loss)]))[0])
        assert m.at(str(loss)).values["s"] == pytest.approx(expected, abs=1e-9), (name, loss)
    later = [m.at(str(loss)).values["s"] for loss in (3.5, 2.5, 2.0)]
    assert later == sorted(later), "value must rise as loss falls"


# --- composition rules -----------------------------------------------------------------------------


def rule_map(rule: str, rng: np.random.Generator) -> tuple[capgraph.CapabilityMap, dict, int | None]:
    kids = {f"k{i}": {"curve": {"logistic": {"midpoint": float(10 ** rng.uniform(9, 12)),
                                             "slope": float(rng.uniform(0.5, 3))}}} for i in range(4)}
    counts = {k: int(rng.integers(1, 4)) for k in kids}
    cap: dict = {"requires": counts, "combine": rule}
    param = None
    if RULES[rule].param:
        param = int(rng.integers(1, sum(counts.values()) + 1))
        cap[RULES[rule].param] = param
    return capgraph.loads(json.dumps({"skills": kids, "capabilities": {"c": cap}})), counts, param


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rule", list(RULES))
def test_rule_engine_path_is_its_reference_kernel(rule, seed):
    record = RULES[rule]
    assert record.name == rule and record.batch in ("product", "padded", "tail")
    m, counts, param = rule_map(rule, np.random.default_rng(seed))
    values = m.curves(LOG_X)
    reference = record.kernel([values[k] for k in counts], list(counts.values()),
                              *([param] if record.param else []))
    np.testing.assert_allclose(values["c"], reference, rtol=1e-9, atol=1e-12)
    assert m.plan.kinked[m.plan.index["c"]] == record.kink


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_in_schema(rule):
    assert rule in schema.Capability.model_fields["combine"].annotation.__args__
    if RULES[rule].param:
        assert RULES[rule].param in schema.Capability.model_fields


# --- lenses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", list(LENSES))
def test_lens_engine_path_is_its_kernel(kind, seed):
    lens = LENSES[kind]
    rng = np.random.default_rng(seed)
    value = None
    if lens.param is not None:
        value = int(rng.integers(lens.low, lens.low + 8)) if lens.integer else float(rng.uniform(0.5, 12))
    body = {lens.param: value} if lens.param else {}
    curve = {"logistic": {"midpoint": 3e10, "slope": float(rng.uniform(0.5, 3))}}
    m = capgraph.loads(json.dumps({"skills": {
        "bare": {"curve": curve}, "scored": {"curve": curve, "metric": {kind: body}},
    }}))
    values = m.curves(LOG_X)
    expected = lens.kernel(values["bare"], **body)
    np.testing.assert_allclose(values["scored"], expected, rtol=1e-12, atol=1e-15)
    assert list(schema.LENS_MODELS[kind].model_fields) == ([lens.param] if lens.param else [])


# --- unknown kinds fail loudly ---------------------------------------------------------------------


@pytest.mark.parametrize(("registry", "kind", "text"), [
    ("FAMILIES", "power_law", "skills: {s: {curve: {power_law: {scale: 1e9, exponent: 0.5}}}}"),
    ("RULES", "mean", "skills: {s: {curve: {points: [[1e8, 0.1], [1e12, 0.9]]}}}\n"
                      "capabilities: {c: {requires: [s], combine: mean}}"),
    ("LENSES", "pass_at", "skills: {s: {curve: {points: [[1e8, 0.1], [1e12, 0.9]]}, metric: {pass_at: {k: 2}}}}"),
])
def test_a_kind_without_an_engine_path_fails_at_compile_time(monkeypatch, registry, kind, text):
    spec = capgraph.loads(text).spec
    full = getattr(plan_module, registry)
    monkeypatch.setattr(plan_module, registry,
                        Registry(full.what, {k: v for k, v in full.items() if k != kind}))
    with pytest.raises(UnknownKind, match=f"no engine path for .*'{kind}'"):
        compile_plan(spec)


def test_registry_lookup_names_the_known_kinds():
    with pytest.raises(KeyError, match="unknown composition rule 'most'; known: all, any"):
        RULES["most"]


# --- docs ------------------------------------------------------------------------------------------


def section(path, heading: str) -> str:
    text = (ROOT / "docs" / path).read_text()
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start:end if end >= 0 else None]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_has_docs_rows(name):
    assert re.search(rf"^\| `{name}` \|", section("format.md", "### `curve`"), re.M), "format.md curve table"
    assert f"- **{name}**:" in section("maths.md", "## Skill curves"), "maths.md skill curves"
    if FAMILIES[name].batch == "block":
        assert f"### `{name}`" in (ROOT / "docs" / "format.md").read_text(), "format.md parameter table"


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_has_docs_rows(rule):
    assert re.search(rf"^\| `{rule}` \|", section("format.md", "#### Composition rules"), re.M)
    assert f"`{rule}`" in section("maths.md", "## Composition rules")


@pytest.mark.parametrize("kind", list(LENSES))
def test_lens_has_docs_rows(kind):
    assert re.search(rf"^\| `{kind}` \|", section("format.md", "### `metric`"), re.M)
    assert re.search(rf"^\| `{kind}`", section("maths.md", "## Metric lenses"), re.M)
    if LENSES[kind].param:
        assert f"### `{kind}`" in (ROOT / "docs" / "format.md").read_text()
