"""The command line through typer's runner, with --json parsed and checked against the library."""

import json
import math
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app

from .conftest import invoke

runner = CliRunner()
TEN = "graphs/ten_step_reasoning.yaml"


def run(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def test_check_summary_line():
    out = run("check", TEN, "graphs/fix_unfamiliar_bug.yaml").output
    assert out.strip() == "ok: 2 maps, 7 skills, 8 capabilities"


def test_check_reports_every_problem_and_exits_1(write_map):
    bad = write_map("threshold: 3\nskills:\n  s: {curve: {logistic: {midpoint: 1e10}}}\n")
    result = run("check", bad, code=1)
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{bad}:1:12: threshold: must lie strictly between 0 and 1, got 3.0",
        f"{bad}:3:15: missing required key 'slope'",  # at 'logistic', which lacks it,
    ]


def test_check_json(write_map):
    bad = write_map("skills: {}\n")
    payload = json.loads(run("check", "--json", TEN, bad, code=1).stdout)
    assert payload["ok"] is False
    assert payload["maps"][0] == {"path": TEN, "ok": True, "problems": []}
    assert payload["maps"][1]["problems"] == [
        {"line": 1, "col": 1, "severity": "error", "message": "skills: needs at least one skill"}
    ]


def test_predict_json_keys_and_values():
    payload = json.loads(run("predict", TEN, "--json").stdout)
    assert payload["map"] == "Ten-step reasoning" and payload["axis"] == "params"
    rows = {row["name"]: row for row in payload["capabilities"]}
    assert set(rows) == {"reasoning_step", "three_step_problem", "ten_step_problem"}
    row = rows["ten_step_problem"]
    assert set(row) >= {"name", "threshold", "status", "crossing", "data_limited", "value_at_start",
                        "value_at_end", "sharpness_decades", "bottleneck"}
    assert row["status"] == "crosses" and row["bottleneck"] == "reasoning_step"
    assert set(row["crossing"]) == {"params", "tokens", "flops"}
    # the same numbers as the library
    lib = {p.name: p for p in capgraph.load(TEN).predict()}
    assert row["crossing"]["params"] == lib["ten_step_problem"].crossing.params
    # ten steps at 0.8 need p = 0.8^(1/10); the step is logistic(1e10, 1.5)
    u = 0.8 ** 0.1
    assert math.log10(row["crossing"]["params"]) == pytest.approx(10 + math.log(u / (1 - u)) / 1.5,
                                                                abs=1e-3)
    # 3.4e12 params × 20 tokens each = 6.7e13 tokens, under the 3e14 limit
    assert row["data_limited"] is False


def test_predict_table_lists_every_prediction_in_order():
    out = run("predict", TEN).output
    assert out.index("reasoning_step") < out.index("three_step_problem") < out.index("ten_step_problem")
    assert "3.37T" in out  # ten_step_problem's crossing in params


def test_at_json_matches_library_and_units():
    payload = json.loads(run("at", TEN, "70B", "--json").stdout)
    assert payload["scale"]["params"] == pytest.approx(7e10)
    assert payload["scale"]["tokens"] == pytest.approx(1.4e12)
    assert payload["scale"]["flops"] == pytest.approx(5.88e23)
    step = 1 / (1 + math.exp(-1.5 * (math.log10(7e10) - 10)))
    assert payload["values"]["reasoning_step"] == pytest.approx(step)
    assert payload["values"]["ten_step_problem"] == pytest.approx(step**10)


def test_at_other_unit():
    by_flops = json.loads(run("at", TEN, "5.88e23", "--unit", "flops", "--json").stdout)
    assert by_flops["scale"]["params"] == pytest.approx(7e10)


def test_usage_errors_exit_2():
    assert run("at", TEN, "7Q", code=2).exit_code == 2
    assert "not a number" in run("at", TEN, "7Q", code=2).output
    run("at", TEN, "7B", "--unit", "parsecs", code=2)
    run("predict", code=2)
    run("frobnicate", code=2)


def test_show_tree_and_json():
    out = run("show", "graphs/fix_unfamiliar_bug.yaml").output
    # k of n reads as in the graph: "8 of 10" (the shared wording)
    assert "fix_bug_pass_at_5" in out and "8 of 10" in out and "read_function ×5" in out
    payload = json.loads(run("show", TEN, "--json").stdout)
    nodes = {n["name"]: n for n in payload["nodes"]}
    assert nodes["ten_step_problem"]["requires"] == {"reasoning_step": 10.0}
    assert nodes["reasoning_step"]["kind"] == "skill"


def test_schema_is_json():
    schema = json.loads(run("schema").stdout)
    assert schema["title"] == "capgraph capability map"
    assert "skills" in schema["required"]


def test_warnings_do_not_fail(write_map):
    path = write_map("""
        scale: {range: [1e6, 1e14]}
        skills:
          s: {curve: {points: [[1e8, 0.1], [1e10, 0.6]]}, threshold: 0.5}
        """)
    result = run("check", path)
    assert "warning: 's' extrapolates" in result.output
    col = path.read_text().splitlines()[2].index("[[") + 1
    assert f"{path}:3:{col}: warning:" in result.output


def test_console_script_exit_codes(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("skills: [\n")
    cmd = [sys.executable, "-m", "capgraph"]
    done = subprocess.run([*cmd, "predict", str(bad)], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith(f"{bad}:2:1: YAML syntax error")
    assert "Traceback" not in done.stderr
    done = subprocess.run([*cmd, "predict"], capture_output=True, text=True)
    assert done.returncode == 2
    done = subprocess.run([*cmd, "predict", TEN, "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)["axis"] == "params"


def test_negative_seed_is_a_usage_error():
    result = run("predict", "graphs/uncertain_reasoning.yaml", "--seed", "-1", code=2)
    assert "--seed" in result.output


def test_a_size_given_to_a_loss_axis_map_is_refused():
    assert "under one parameter" in invoke("at", "graphs/frontier_outlook.yaml", "70B", code=2).flat
    assert json.loads(run("at", "graphs/frontier_outlook.yaml", "70B", "--unit", "params", "--json").stdout)


def test_check_summary_counts_in_the_singular():
    assert run("check", "graphs/arithmetic_lenses.yaml").output.strip() == "ok: 1 map, 1 skill, 3 capabilities"
