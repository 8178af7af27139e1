"""`capgraph new` (a starter map that works as written) and `capgraph serve` (a live preview)."""

import json

import capgraph

from .conftest import invoke


def test_new_writes_a_starter_that_checks_and_predicts(tmp_path):
    path = tmp_path / "first_map.yaml"
    out = invoke("new", path).output
    assert f"wrote {path}" in out
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=capgraph.schema.json\n")
    schema = json.loads((tmp_path / "capgraph.schema.json").read_text())
    assert schema["$schema"].startswith("https://json-schema.org/")
    m = capgraph.load(path)
    assert m.name == "first map" and m.uncertain  # a range
    assert set(m.spec.scenarios) == {"better_training"}
    cap = m.spec.capabilities["solve_problem"]
    assert cap.metric is not None and cap.metric.kind == "pass_at"  # a lens
    assert invoke("check", path).output.startswith("ok: 1 map, 2 skills, 1 capability")
    [p] = json.loads(invoke("predict", path, "--samples", "200", "--json").output)["capabilities"]
    assert p["status"] == "crosses" and p["bottleneck"] == "reasoning_step"


def test_new_refuses_to_overwrite(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("precious\n")
    (tmp_path / "capgraph.schema.json").write_text("{}")
    result = invoke("new", path, code=2)
    assert "never overwrites" in result.flat
    assert path.read_text() == "precious\n"
    invoke("new", tmp_path / "other.yaml")
    assert (tmp_path / "capgraph.schema.json").read_text() == "{}"  # an existing schema is kept
