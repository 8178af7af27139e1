"""The fast paths of a 100,000-node ``predict --json`` give exactly what the plain paths give.

Each fast path stands beside a plain one that says what it must compute: ``predict --json`` written
straight from the predictions against ``json.dumps`` of ``predict_json()``; extrapolation marked
through span envelopes against :meth:`CapabilityMap.extrapolated` for every prediction; table
curves' cells found per knot against a comparison per knot and value; the console script's exit
(``os._exit`` after the command) against the usual exit: status, output and atexit handlers kept.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

import capgraph
from capgraph.engine.predict import Prediction
from capgraph.format.graph import map_depth
from capgraph.format.source import load_document
from capgraph.format.validate import validate
from capgraph.kernels import curves
from capgraph.outputs import jsonout
from capgraph.outputs.jsonout import emit_json, emit_predictions

from .conftest import GRAPHS, ROOT

sys.path.insert(0, str(ROOT / "bench"))
from generate import generate, write  # noqa: E402

OPTIONS = [{}, {"samples": 200}, {"samples": 1, "by": "1e21", "by_unit": "flops"},
           {"samples": 150, "by": "1e23", "by_unit": "flops"}]


def _both(capsys, cmap, options, only=None) -> tuple[str, str]:
    payload = cmap.predict_json(**options)
    if only is not None:
        payload["capabilities"] = [p for p in payload["capabilities"] if p["name"] in only]
    emit_json(payload)
    plain = capsys.readouterr().out
    emit_predictions(cmap, options, only)
    return plain, capsys.readouterr().out


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.stem)
def test_predict_json_text_is_json_dumps_of_predict_json(capsys, path):
    cmap = capgraph.load(path)
    for options in OPTIONS:
        plain, fast = _both(capsys, cmap, options)
        assert fast == plain, options
    only = set(cmap.nodes[::2])
    assert _both(capsys, cmap, {}, only)[1] == _both(capsys, cmap, {}, only)[0]


def test_predict_json_text_on_generated_maps_scenarios_and_data_limits(capsys, tmp_path):
    path = tmp_path / "m.json"
    write(generate(300, seed=3, ranges=True), path)
    cmap = capgraph.load(path)
    for options in OPTIONS:
        plain, fast = _both(capsys, cmap, options)
        assert fast == plain
    limited = cmap.scenario("baseline", data_limit=3e11)
    plain, fast = _both(capsys, limited, {"samples": 100})
    assert fast == plain and '"exceeds": true' in fast


def test_a_non_finite_number_goes_through_the_general_writer(capsys):
    cmap = capgraph.loads({"skills": {"s": {"curve": {"logistic": {"midpoint": 1e10, "slope": 1}},
                                            "threshold": 0.5}}})
    (p,) = cmap.predict()
    with pytest.raises(ValueError):
        jsonout.predictions_text([type(p)(**{**p.__dict__, "value_at_start": float("nan")})], cmap.outlook)
    plain, fast = _both(capsys, cmap, {})
    assert fast == plain


@pytest.mark.parametrize("value", [0.1, -0.0, 5e-324, 1e300, 3, True, False, None, "a\"b\\c\u0085é\n",
                                   np.float64(0.3), [], ["x"], {"k": 1.5}])
def test_values_are_written_as_json_dumps_writes_them(value):
    assert jsonout._value(value) == json.dumps(value, ensure_ascii=False, allow_nan=False)


def test_point_estimates_are_whole_predictions(tmp_path):
    path = tmp_path / "m.json"
    write(generate(200, seed=6), path)
    for p in capgraph.load(path).predict(by="1e11"):
        assert list(vars(p)) == [f.name for f in dataclasses.fields(Prediction)]
        assert Prediction(**vars(p)) == p


def test_extrapolation_envelopes_agree_with_the_definition(write_map):
    cmap = capgraph.load(write_map("""
        scale: {axis: params, range: [1e6, 1e16]}
        skills:
          narrow: {curve: {points: [[1e9, 0.1], [1e10, 0.5], [1e11, 0.9]]}, threshold: 0.3}
          wide: {curve: {points: [[1e6, 0.0], [1e12, 0.5], [1e16, 0.99]]}}
          smooth: {curve: {logistic: {midpoint: 1e13, slope: 1}}}
        capabilities:
          both: {requires: [narrow, wide], threshold: 0.2}
          late: {requires: [wide, smooth], threshold: 0.6}
          top: {requires: [both, late], combine: mean, threshold: 0.5}
          early: {requires: [narrow], threshold: 0.05}
    """))
    predictions = cmap.predict()
    assert {p.name: p.extrapolated for p in predictions} == {p.name: cmap.extrapolated(p) for p in predictions}
    assert any(p.extrapolated for p in predictions) and not all(p.extrapolated for p in predictions)


def test_validation_finds_the_levels_the_plan_uses(tmp_path):
    path = tmp_path / "m.json"
    write(generate(500, seed=7), path)
    for source in [path, *GRAPHS]:
        document = load_document(source)
        spec = validate(document)
        assert document.depth == map_depth(spec)


@pytest.mark.parametrize("text, says", [
    ('{"skills": {"s": {"curve": {"logistic": {"midpoint": 1e10, "slope": 1}}}}, "skills": {}}', "duplicate key"),
    ('{"skills": {"s": {"curve": {"logistic": {"midpoint": 1e10, "slope": 1, "slope": 2}}}}}', "duplicate key"),
    ('{"name": "a: b", "skills": {"s": {"curve": {"logistic": {"midpoint": 1e10, "slope": 1}}}}}', None),
])
def test_json_read_fast_still_finds_repeated_keys(tmp_path, text, says):
    path = tmp_path / "m.json"
    path.write_text(text)
    if says is None:
        assert capgraph.load(path).name == "a: b"
        return
    with pytest.raises(capgraph.MapError) as caught:
        capgraph.load(path)
    assert says in str(caught.value.problems[0])


def test_table_cells_found_per_knot_match_the_comparison_per_value():
    rng = np.random.default_rng(5)
    log_xs = np.sort(rng.uniform(6, 16, (300, 6)), axis=1)
    log_xs[:50, 1] = log_xs[:50, 0]  # a knot on the first point, and one on the last
    log_xs[50:100, -2] = log_xs[50:100, -1]
    for log_x in (np.linspace(5, 17, 97), np.linspace(8, 9, 5), log_xs[0], np.array([10.0])):
        assert np.array_equal(curves._cells(log_x, log_xs), curves._cells_unordered(log_x, log_xs))
    ys = np.sort(rng.uniform(0, 1, (300, 6)), axis=1)
    log_xs = np.sort(rng.uniform(6, 16, (300, 6)), axis=1)
    grid = np.linspace(5, 17, 400)
    assert np.array_equal(curves.points(grid, log_xs, ys), curves.points(grid[::-1], log_xs, ys)[:, ::-1])


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_console_script_exit_keeps_status_output_and_atexit_handlers(tmp_path):
    done = _run("import atexit, sys; atexit.register(lambda: print('atexit ran'));"
                "from capgraph.cli.entry import leave; print('out'); sys.stderr.write('err');"
                "leave(SystemExit(3))")
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\natexit ran\n", "err")
    path = tmp_path / "m.json"
    write(generate(2000, seed=2), path)
    cli = [sys.executable, "-m", "capgraph", "predict", str(path), "--json"]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and len(json.loads(done.stdout)["capabilities"]) == 2000
    bad = tmp_path / "bad.yaml"
    bad.write_text("skills: {a: {curve: {logistic: {midpoint: 1e10}}}}\n")
    done = subprocess.run([*cli[:4], str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.startswith(f"{bad}:1:")
    done = subprocess.run([*cli[:4], str(path), "--bogus"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "No such option" in done.stderr
