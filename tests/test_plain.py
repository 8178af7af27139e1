"""Plain maps (format/plain.py) and point estimates as columns give exactly what the general paths give.

A map :func:`plain_settings` clears must be one :func:`validate` accepts, compiled to the same plan
with the same settings; every map it does not clear (the bad-map corpus, and single edits of a
generated map that break it or only leave the plain form) goes through validation, so its problems
are the usual ones. ``predict --json`` written from :class:`PointColumns` is the text of the
predictions, and :meth:`PointColumns.order` is ``sorted(key=sort_key)``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys

import numpy as np
import pytest

import capgraph
from capgraph.core.errors import MapError
from capgraph.engine.plan import compile_plan
from capgraph.engine.predict import PointColumns, sort_key
from capgraph.format.plain import PlainNodes, plain_settings
from capgraph.format.source import Document, parse_document
from capgraph.format.validate import validate
from capgraph.model.capmap import CapabilityMap
from capgraph.outputs import jsonout

from .conftest import GRAPHS, ROOT
from .test_schema_strict import CORPUS

sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402


def same(a, b, where="plan") -> None:
    """Plans (and what they hold) equal field by field, arrays in value and dtype."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            if f.compare:
                same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif hasattr(a, "__dict__") and not callable(a):  # a block's weights (engine.weights.Slots)
        same(vars(a), vars(b), where)
    else:
        assert type(a) is type(b) and (a == b or a != a and b != b), where


def both(data):
    """What plain_settings says of ``data``, and what validate does (a spec or its MapError)."""
    doc = Document("m.json", copy.deepcopy(data))
    settings = plain_settings(doc)
    try:
        full = validate(Document("m.json", copy.deepcopy(data)))
    except MapError as exc:
        full = exc
    return settings, full


def assert_plain_means_valid(data) -> bool:
    """If plain clears ``data``, validation accepts it with the same plan and settings."""
    settings, full = both(data)
    if settings is None:
        return False
    assert not isinstance(full, MapError), full
    doc = Document("m.json", copy.deepcopy(data))
    plain_settings(doc)
    fast = compile_plan(None, depth=doc.depth, nodes=PlainNodes(doc.data, settings))
    same(fast, compile_plan(full))
    for key in ("name", "description", "scale", "threshold", "correlation", "timeline", "scenarios"):
        assert getattr(settings, key) == getattr(full, key), key
    return True


GENERATED = [generate(150, seed=seed) for seed in range(4)]


@pytest.mark.parametrize("data", GENERATED, ids=lambda d: d["name"])
def test_generated_maps_are_plain_and_compile_to_the_same_plan(data):
    assert assert_plain_means_valid(data)


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.stem)
def test_the_example_maps_compile_to_the_same_plan_either_way(path):
    data = parse_document(path.read_text(), str(path)).data
    assert_plain_means_valid(data)  # many are not plain (text numbers, ranges, fit:), a few are
    assert_plain_means_valid(json.loads(json.dumps(data)))


def test_ranged_maps_are_not_plain():
    settings, full = both(generate(100, seed=1, ranges=True))
    assert settings is None and not isinstance(full, MapError)


@pytest.mark.parametrize("text", CORPUS, ids=lambda t: " ".join(t.split())[:60])
def test_no_bad_map_is_plain(text):
    try:
        doc = parse_document(text)
    except MapError:
        return
    assert plain_settings(doc) is None


def _edits():
    """(description, edit) pairs: each changes one thing of a generated map."""
    def skill(kind):
        return lambda d: next(v for v in d["skills"].values() if kind in v["curve"])

    def cap(rule):
        return lambda d: next(v for v in d["capabilities"].values() if v.get("combine", "all") == rule)

    logistic, points, kofn, mean = skill("logistic"), skill("points"), cap("k_of_n"), cap("mean")

    def set_(get, path, value):
        def edit(d):
            node = get(d)
            *head, last = path
            for key in head:
                node = node[key]
            node[last] = value
        return edit

    def drop(get, key):
        return lambda d: get(d).pop(key, None)

    def ordered(d):
        body = logistic(d)["curve"]["logistic"]
        body["floor"], body["ceiling"] = 0.9, 0.2

    def decreasing(d):
        pts = points(d)["curve"]["points"]
        pts[1][0] = pts[0][0]

    return [
        ("threshold 1.0", set_(logistic, ["threshold"], 1.0)),
        ("threshold 0.0", set_(logistic, ["threshold"], 0.0)),
        ("threshold as int", set_(logistic, ["threshold"], 1)),
        ("threshold as text", set_(logistic, ["threshold"], "0.5")),
        ("threshold null", set_(logistic, ["threshold"], None)),
        ("no threshold", drop(logistic, "threshold")),
        ("unknown key", set_(logistic, ["colour"], "red")),
        ("description", set_(logistic, ["description"], "a skill")),
        ("description a number", set_(logistic, ["description"], 3)),
        ("midpoint text", set_(logistic, ["curve", "logistic", "midpoint"], "7B")),
        ("midpoint 0", set_(logistic, ["curve", "logistic", "midpoint"], 0.0)),
        ("midpoint inf", set_(logistic, ["curve", "logistic", "midpoint"], float("inf"))),
        ("slope negative", set_(logistic, ["curve", "logistic", "slope"], -1.0)),
        ("slope missing", lambda d: logistic(d)["curve"]["logistic"].pop("slope")),
        ("floor 0", set_(logistic, ["curve", "logistic", "floor"], 0.0)),
        ("ceiling 1", set_(logistic, ["curve", "logistic", "ceiling"], 1.0)),
        ("ceiling 1.5", set_(logistic, ["curve", "logistic", "ceiling"], 1.5)),
        ("ceiling 0 under the default floor", lambda d: logistic(d)["curve"].update(
            logistic={"midpoint": 1e10, "slope": 1.0, "ceiling": 0.0})),
        ("ceiling alone", lambda d: logistic(d)["curve"].update(
            logistic={"midpoint": 1e10, "slope": 1.0, "ceiling": 0.5})),
        ("floor above ceiling", ordered),
        ("a range", set_(logistic, ["curve", "logistic", "slope"], {"p5": 1.0, "p95": 2.0})),
        ("two curves", set_(logistic, ["curve", "power_law"], {"scale": 1e9, "exponent": 0.3})),
        ("no curve", drop(logistic, "curve")),
        ("points decreasing", decreasing),
        ("point value 1.5", lambda d: points(d)["curve"]["points"][0].__setitem__(1, 1.5)),
        ("point of three", lambda d: points(d)["curve"]["points"][0].append(0.5)),
        ("one point", lambda d: points(d)["curve"].__setitem__("points", points(d)["curve"]["points"][:1])),
        ("metric text", set_(logistic, ["metric"], "identity")),
        ("metric unknown", set_(logistic, ["metric"], {"accuracy": {}})),
        ("pass_at k 0", set_(logistic, ["metric"], {"pass_at": {"k": 0}})),
        ("pass_at k float", set_(logistic, ["metric"], {"pass_at": {"k": 2.0}})),
        ("exact_match float", set_(logistic, ["metric"], {"exact_match": {"length": 2.5}})),
        ("exact_match 0", set_(logistic, ["metric"], {"exact_match": {"length": 0}})),
        ("options 1", set_(logistic, ["metric"], {"multiple_choice": {"options": 1}})),
        ("identity with a key", set_(logistic, ["metric"], {"identity": {"k": 1}})),
        ("k too big", set_(kofn, ["k"], 1000)),
        ("k missing", drop(kofn, "k")),
        ("k on mean", set_(mean, ["k"], 1)),
        ("k as float", set_(kofn, ["k"], 1.0)),
        ("count 2.5 in k_of_n", lambda d: kofn(d)["requires"].__setitem__(next(iter(kofn(d)["requires"])), 2.5)),
        ("count 2.5 in mean", lambda d: mean(d)["requires"].__setitem__(next(iter(mean(d)["requires"])), 2.5)),
        ("count true", lambda d: mean(d)["requires"].__setitem__(next(iter(mean(d)["requires"])), True)),
        ("count 0", lambda d: mean(d)["requires"].__setitem__(next(iter(mean(d)["requires"])), 0)),
        ("requires a list", lambda d: mean(d).__setitem__("requires", list(mean(d)["requires"]))),
        ("requires empty", set_(mean, ["requires"], {})),
        ("missing child", lambda d: mean(d)["requires"].__setitem__("nowhere", 1)),
        ("rule unknown", set_(mean, ["combine"], "median")),
        ("correlation 1", set_(mean, ["correlation"], 1.0)),
        ("correlation 2", set_(mean, ["correlation"], 2.0)),
        ("cycle", lambda d: logistic(d).update(requires={"x": 1})),
        ("scenario", lambda d: d.update(scenarios={"s": {"efficiency": 2}})),
        ("top threshold 1.5", lambda d: d.update(threshold=1.5)),
        ("top unknown key", lambda d: d.update(colour="red")),
        ("no skills", lambda d: d.update(skills={})),
        ("a capability named as a skill", lambda d: d["capabilities"].update({next(iter(d["skills"])): mean(d)})),
    ]


@pytest.mark.parametrize("edit", _edits(), ids=lambda e: e[0])
def test_an_edited_map_is_plain_only_if_valid_with_the_same_plan(edit):
    data = copy.deepcopy(GENERATED[0])
    edit[1](data)
    settings, full = both(data)
    if isinstance(full, MapError):
        assert settings is None
        with pytest.raises(MapError) as exc:
            capgraph.loads(copy.deepcopy(data), "m.json")
        assert [str(p) for p in exc.value.problems] == [str(p) for p in full.problems]
    else:
        assert_plain_means_valid(data)


_VALUES = [0.0, -0.0, 0.5, 1.0, 1.5, -1.0, 0, 1, 2, 3, True, None, "0.5", "7B", float("nan"),
           float("inf"), 1e10, 2.5, [1.0, 2.0], [], {}, {"p5": 1.0, "p95": 2.0}, "identity", "all"]
_KEYS = ["threshold", "correlation", "k", "combine", "metric", "description", "requires", "curve",
         "midpoint", "slope", "floor", "ceiling", "scale", "exponent", "points", "length", "options",
         "identity", "pass_at", "exact_match", "multiple_choice", "logistic", "power_law", "x"]


def test_random_edits_are_plain_only_if_valid_with_the_same_plan():
    """Any value at any key of a node (or a key removed): cleared only if valid, then the same plan."""
    rng = np.random.default_rng(7)
    base = generate(40, seed=9)
    cleared = 0
    for _ in range(150):
        data = copy.deepcopy(base)
        group = data["skills"] if rng.random() < 0.5 else data["capabilities"]
        node = group[rng.choice(sorted(group))]
        while True:  # down into a random mapping of the node, then change one key of it
            inner = [v for v in node.values() if isinstance(v, dict) and v]
            if not inner or rng.random() < 0.4:
                break
            node = inner[rng.integers(len(inner))]
        key = str(rng.choice(sorted(node) + _KEYS))
        if rng.random() < 0.2:
            node.pop(key, None)
        else:
            node[key] = copy.deepcopy(_VALUES[rng.integers(len(_VALUES))])
        cleared += assert_plain_means_valid(data)
    assert 10 < cleared < 140  # both kinds of outcome were tried


def test_a_plain_map_validates_its_spec_only_when_asked(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(generate(120, seed=2)))
    cmap = capgraph.load(path)
    assert cmap._spec is None  # predicting needs no model per node
    plain = cmap.predict_json()
    assert cmap._spec is None
    full = CapabilityMap(validate(cmap.document), cmap.document)
    assert cmap.spec == full.spec and plain == full.predict_json()
    assert cmap.warnings() == full.warnings() and cmap.samples_refusal(10**9) == full.samples_refusal(10**9)


def test_a_plain_map_answers_as_its_validated_map(tmp_path):
    """Warnings (points that do not cover the range), the data behind curves, predictions."""
    path = tmp_path / "m.yaml"
    path.write_text("""
scale: {axis: params, range: [1.0e+8, 1.0e+14]}
skills:
  a: {curve: {logistic: {midpoint: 1.0e+10, slope: 1.5, floor: 0.0}}, threshold: 0.5}
  b: {curve: {points: [[1.0e+9, 0.1], [1.0e+12, 0.9]]}, threshold: 0.5, metric: {pass_at: {k: 3}}}
  c: {curve: {power_law: {scale: 3.0e+9, exponent: 0.3}}}
capabilities:
  x: {requires: {a: 2, b: 1}, combine: k_of_n, k: 2, threshold: 0.6}
  y: {requires: {x: 1, c: 1.5}, combine: mean, metric: {exact_match: {length: 3}}}
""")
    cmap = capgraph.load(path)
    assert cmap._spec is None
    full = CapabilityMap(validate(cmap.document), cmap.document)
    assert [str(w) for w in cmap.warnings()] == [str(w) for w in full.warnings()] != []
    assert cmap.fitted == full.fitted and cmap.data_spans == full.data_spans
    for name in cmap.nodes:
        ours, theirs = cmap.data_points(name), full.data_points(name)
        assert (ours is None) == (theirs is None) and (ours is None or all(map(np.array_equal, ours, theirs)))
    assert cmap.predict_json(by="1e12") == full.predict_json(by="1e12")
    assert cmap.at("1e11").to_json() == full.at("1e11").to_json()


OPTIONS = [{}, {"by": "1e11"}, {"by": "1e21", "by_unit": "flops"}]


@pytest.mark.parametrize("options", OPTIONS)
def test_columns_text_is_the_text_of_the_predictions(tmp_path, options):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(generate(300, seed=5)))
    cmap = capgraph.load(path)
    columns = cmap.point_columns(**options)
    predictions = columns.predictions()
    assert predictions == list(cmap.predict(**options))
    outlook = cmap.shared_outlook()
    assert jsonout.columns_text(columns, outlook) == jsonout.predictions_text(predictions, cmap.outlook)
    only = set(cmap.nodes[::3])
    assert jsonout.columns_text(columns, outlook, only) == jsonout.predictions_text(
        [p for p in predictions if p.name in only], cmap.outlook)


def test_columns_order_is_the_table_order():
    names = ["b", "a", "a\x00", "a\x00\x00", "é", "Z", "a b", "\U0001f600", "b\x00a", "", "ab"]
    rng = np.random.default_rng(0)
    n = len(names) * 30
    columns = PointColumns(
        names=[f"{names[i % len(names)]}{i // len(names) if i >= len(names) else ''}" for i in range(n)],
        kinds=["skill"] * n, thresholds=np.full(n, 0.5), status=rng.integers(0, 3, n),
        scales=[rng.choice([1e9, 2e9, 3e10], n).tolist(), [0.0] * n, [0.0] * n], points=None,
        starts=np.zeros(n), ends=np.ones(n), tops=np.ones(n), sharpness=np.ones(n), bottlenecks=[None] * n)
    expected = sorted(columns.predictions(), key=sort_key)
    assert [p.name for p in columns.predictions()] == [p.name for p in expected]
