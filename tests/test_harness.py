"""Harness outputs in: both lm-evaluation-harness layouts, Every Eval Ever records, the models join,
groups, expressions, stderr weights, bad and foreign files, `capgraph results`, maps fitted from
result files."""

import csv
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.core.errors import MapError
from capgraph.evidence import harness
from capgraph.evidence.data import read_table
from capgraph.evidence.expr import ExpressionError, derive, parse
from capgraph.evidence.fitmap import fit_file
from capgraph.kernels import curves

from .conftest import ROOT, shared_data

runner = CliRunner()


def run(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


# --- small files of both layouts -----------------------------------------------------------------

SIZES = [7e7, 1.6e8, 4.1e8, 1e9, 2.8e9, 6.9e9, 1.2e10]
TOKENS = 3e11


def true_acc(params):
    return float(curves.logistic(math.log10(6 * params * TOKENS), 21.0, 0.8))


def older_file(path, name, acc, ppl=10.0, shots=0, args="pretrained={name},revision=step143000"):
    """The older layout: results.<task>.<metric> beside <metric>_stderr, config.num_fewshot."""
    data = {
        "results": {
            "lambada_openai": {"ppl": ppl, "ppl_stderr": 0.5, "acc": acc, "acc_stderr": 0.01},
            "hendrycksTest-anatomy": {"acc": 0.25, "acc_stderr": 0.04, "acc_norm": 0.3, "acc_norm_stderr": 0.04},
            "hendrycksTest-virology": {"acc": 0.35, "acc_stderr": 0.03, "acc_norm": 0.2, "acc_norm_stderr": 0.03},
        },
        "versions": {"lambada_openai": 0},
        "config": {"model": "hf-causal", "model_args": args.format(name=name), "num_fewshot": shots},
    }
    path.write_text(json.dumps(data, indent=2))
    return path


def current_file(path, name, acc, model_args=None, revision=None):
    """The current layout, as the harness's documentation describes it: "<metric>,<filter>" keys."""
    if model_args is None:
        model_args = f"revision={revision},pretrained={name},dtype=float16" if revision else f"pretrained={name}"
    data = {
        "results": {
            "lambada_openai": {"alias": "lambada_openai", "acc,none": acc, "acc_stderr,none": 0.01,
                               "perplexity,none": 5.0, "perplexity_stderr,none": "N/A"},
            "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.1, "exact_match_stderr,strict-match": 0.02,
                      "exact_match,flexible-extract": 0.15, "exact_match_stderr,flexible-extract": 0.02},
        },
        "groups": {},
        "configs": {"lambada_openai": {"task": "lambada_openai"}},
        "versions": {"lambada_openai": 1.0, "gsm8k": 3.0},
        "n-shot": {"lambada_openai": 0, "gsm8k": 5},
        "config": {"model": "hf", "model_args": model_args, "batch_size": 1},
        "model_name": name,
        "git_hash": "abc123",
    }
    path.write_text(json.dumps(data, indent=2))
    return path


def test_older_layout_rows(tmp_path):
    f = older_file(tmp_path / "a.json", "org/m-70m", 0.3, shots=5,
                   args="use_accelerate=True,pretrained={name},revision=step3000")
    rows, digest = harness.read_file(f)
    lam = [r for r in rows if r["task"] == "lambada_openai"]
    assert lam == [
        {"model": "org/m-70m", "revision": "step3000", "task": "lambada_openai", "metric": "ppl", "filter": "",
         "n_shot": 5, "value": 10.0, "stderr": 0.5, "source": str(f)},
        {"model": "org/m-70m", "revision": "step3000", "task": "lambada_openai", "metric": "acc", "filter": "",
         "n_shot": 5, "value": 0.3, "stderr": 0.01, "source": str(f)},
    ]
    assert len(rows) == 6 and len(digest) == 64


def test_current_layout_rows_with_filters_and_shots_per_task(tmp_path):
    f = current_file(tmp_path / "b.json", "org/m-1b", 0.6, revision="main")
    rows, _ = harness.read_file(f)
    got = {(r["task"], r["metric"], r["filter"]): (r["value"], r["stderr"], r["n_shot"]) for r in rows}
    assert got == {
        ("lambada_openai", "acc", "none"): (0.6, 0.01, 0),
        ("lambada_openai", "perplexity", "none"): (5.0, None, 0),  # "N/A" is no standard error
        ("gsm8k", "exact_match", "strict-match"): (0.1, 0.02, 5),
        ("gsm8k", "exact_match", "flexible-extract"): (0.15, 0.02, 5),
    }
    assert {(r["model"], r["revision"]) for r in rows} == {("org/m-1b", "main")}


@pytest.mark.parametrize("args, model, revision", [
    ({"pretrained": "org/dict-model", "revision": "v2"}, "org/dict-model", "v2"),
    ("dtype=bfloat16,revision=r1,pretrained=org/str-model", "org/str-model", "r1"),
    ("", "org/from-model-name", ""),  # no pretrained= : model_name
])
def test_model_args_as_string_in_any_order_or_dict(tmp_path, args, model, revision):
    f = current_file(tmp_path / "c.json", "org/from-model-name", 0.5, model_args=args)
    rows, _ = harness.read_file(f)
    assert {(r["model"], r["revision"]) for r in rows} == {(model, revision)}


def test_every_eval_ever_record(tmp_path):
    record = {
        "schema_version": "0.2.1", "evaluation_id": "x/org/m/1", "retrieved_timestamp": "1700000000",
        "source_metadata": {"source_type": "evaluation_run", "source_organization_name": "me",
                            "evaluator_relationship": "third_party"},
        "eval_library": {"name": "inspect_ai", "version": "0.3"},
        "model_info": {"name": "m", "id": "org/m"},
        "evaluation_results": [
            {"evaluation_name": "gpqa", "source_data": {}, "metric_config": {"lower_is_better": False},
             "score_details": {"score": 0.4, "uncertainty": {"standard_error": {"value": 0.02}}}},
            {"evaluation_name": "mmlu", "source_data": {}, "metric_config": {"lower_is_better": False},
             "score_details": {"score": 0.7}},
        ],
    }
    f = tmp_path / "eee.json"
    f.write_text(json.dumps(record))
    rows, _ = harness.read_file(f)
    assert [(r["model"], r["task"], r["metric"], r["value"], r["stderr"]) for r in rows] == [
        ("org/m", "gpqa", "score", 0.4, 0.02), ("org/m", "mmlu", "score", 0.7, None)]


# --- bad and foreign files -------------------------------------------------------------------------


@pytest.mark.parametrize("text, line, col, message", [
    ('{\n  "results": {\n    "a": {"acc": 0.5,}\n  }\n}', 3, 22, "invalid JSON"),
    ('{\n  "name": "a capability map",\n  "skills": {}\n}', 1, 1, "not an evaluation-harness results file"),
    ('[1, 2, 3]', 1, 1, "not an evaluation-harness results file: a JSON list"),
    ('{\n  "results": {\n    "a": 0.5\n  },\n  "config": {"model_args": "pretrained=m"}\n}', 3, 10,
     "results of task 'a' must be an object"),
    ('{\n  "results": {"a": {"acc": 0.5}},\n  "config": {"model_args": "dtype=float16"}\n}', 3, 13,
     "no model name"),
    ('{"results": {"a": {"alias": "a"}}, "config": {"model_args": "pretrained=m"}}', 1, 13, "no scores"),
    ("", 1, 1, "empty file"),
])
def test_bad_and_foreign_files_are_located(tmp_path, text, line, col, message):
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(MapError) as exc:
        harness.read_file(f)
    (p,) = exc.value.problems
    assert (p.path, p.line, p.col) == (str(f), line, col)
    assert message in p.message


def test_results_cli_reports_every_bad_file_and_writes_nothing(tmp_path):
    older_file(tmp_path / "good.json", "m", 0.4)
    (tmp_path / "map.json").write_text('{"skills": {}}')
    (tmp_path / "broken.json").write_text('{"results": ')
    out = tmp_path / "rows.csv"
    result = run("results", tmp_path, "--output", out, code=1)
    assert f"{tmp_path / 'broken.json'}:1:13: invalid JSON" in result.output
    assert f"{tmp_path / 'map.json'}:1:1: not an evaluation-harness results file" in result.output
    assert not out.exists()
    assert "Traceback" not in result.output


def test_paths_that_match_nothing(tmp_path):
    result = run("results", tmp_path / "none.json", str(tmp_path / "runs" / "*.json"), code=1)
    assert f"no such file ({tmp_path / 'none.json'})" in result.output
    assert "no file matches this pattern" in result.output
    assert run("results", tmp_path, code=1).output.strip().endswith("no *.json files in this folder")


def test_output_needs_a_known_ending(tmp_path):
    older_file(tmp_path / "a.json", "m", 0.4)
    assert "must end in .csv, .jsonl" in run("results", tmp_path, "-o", tmp_path / "rows.txt", code=2).output


# --- messages at the edges ------------------------------------------------------------------------


def test_json_document_where_json_lines_expected_says_so(tmp_path):
    f = older_file(tmp_path / "pythia-70m.json", "m", 0.4)
    with pytest.raises(MapError) as exc:
        read_table(f)
    (p,) = exc.value.problems
    assert (p.line, p.col) == (1, 2)
    assert "one JSON document" in p.message and "JSON Lines" in p.message
    assert "capgraph results" in p.message
    f2 = tmp_path / "plain.json"
    f2.write_text('{\n  "a": 1\n}\n')
    with pytest.raises(MapError, match="one JSON document, but a results table in JSON Lines") as exc:
        read_table(f2)
    assert "capgraph results" not in str(exc.value)
    one_line = tmp_path / "one.jsonl"
    one_line.write_text(json.dumps(json.loads(f.read_text())) + "\n")
    with pytest.raises(MapError, match="capgraph results"):
        read_table(one_line)


def test_missing_data_file_shows_its_resolved_path(tmp_path, write_map):
    path = write_map("""
        skills:
          s: {curve: {fit: {data: results/missing.csv, x: params, y: acc}}}
    """)
    with pytest.raises(MapError) as exc:
        capgraph.load(path)
    (p,) = exc.value.problems
    assert str((tmp_path / "results" / "missing.csv").resolve()) in p.message
    assert (p.line, p.col) == (2, 27)


# --- the join, groups ------------------------------------------------------------------------------


def write_models(path, rows, header=("model", "revision", "params", "tokens", "family")):
    with open(path, "w", newline="") as h:
        writer = csv.writer(h)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_models_join_on_model_and_revision_with_flops_derived(tmp_path):
    older_file(tmp_path / "a.json", "m-small", 0.3, args="pretrained={name},revision=step1")
    older_file(tmp_path / "b.json", "m-small", 0.4, args="pretrained={name},revision=step2")
    older_file(tmp_path / "c.json", "m-other", 0.5)
    models = write_models(tmp_path / "models.csv", [
        ("m-small", "step1", "70M", "1e9", "pythia"), ("m-small", "step2", "70000000", "2e9", "pythia")])
    got = harness.read_results([tmp_path], models=models)
    assert got.columns[:9] == harness.COLUMNS and got.columns[9:] == ("params", "tokens", "family", "flops")
    acc = {(r["model"], r["revision"]): r for r in got.to_records() if r["metric"] == "acc"
           and r["task"] == "lambada_openai"}
    assert acc[("m-small", "step1")]["flops"] == pytest.approx(6 * 7e7 * 1e9)
    assert acc[("m-small", "step2")]["params"] == 70000000 and acc[("m-small", "step2")]["family"] == "pythia"
    assert acc[("m-other", "step143000")]["flops"] is None
    assert got.unmatched == ("m-other",)
    assert "m-other" in harness.unmatched_message(got)


def test_models_join_on_model_only_and_given_flops(tmp_path):
    older_file(tmp_path / "a.json", "m", 0.3)
    models = tmp_path / "models.jsonl"
    models.write_text('{"model": "m", "params": 1e9, "tokens": 2e10, "flops": 5e19}\n')
    (row,) = [r for r in harness.read_results([tmp_path / "a.json"], models=models).rows
              if r["metric"] == "acc" and r["task"] == "lambada_openai"]
    assert row["flops"] == 5e19  # given, not 6·N·D


def test_models_table_problems(tmp_path):
    older_file(tmp_path / "a.json", "m", 0.3)
    dup = write_models(tmp_path / "dup.csv", [("m", "r", 1, 1, "x"), ("m", "r", 2, 2, "x")])
    with pytest.raises(MapError, match=r"dup.csv:3:1: model 'm' at revision 'r' appears twice \(first on line 2\)"):
        harness.read_results([tmp_path / "a.json"], models=dup)
    clash = write_models(tmp_path / "clash.csv", [("m", 1)], header=("model", "value"))
    with pytest.raises(MapError, match="column 'value' of the models table is also a results column"):
        harness.read_results([tmp_path / "a.json"], models=clash)


def test_groups_average_subtasks(tmp_path):
    older_file(tmp_path / "a.json", "m", 0.3)
    got = harness.read_results([tmp_path], groups=harness.parse_groups(["mmlu=hendrycksTest-*"]))
    means = {r["metric"]: r for r in got.rows if r["task"] == "mmlu"}
    assert means["acc"]["value"] == pytest.approx(0.3) and means["acc"]["n_tasks"] == 2
    assert means["acc"]["stderr"] == pytest.approx(math.sqrt(0.04**2 + 0.03**2) / 2)
    assert means["acc_norm"]["value"] == pytest.approx(0.25)


def test_results_cli_json_csv_and_jsonl(tmp_path):
    older_file(tmp_path / "a.json", "m", 0.3)
    current_file(tmp_path / "b.json", "n", 0.6)
    payload = json.loads(run("results", tmp_path / "a.json", tmp_path / "b.json", "--json").output)
    assert payload["n_files"] == 2 and len(payload["rows"]) == 10
    assert list(payload["rows"][0]) == list(harness.COLUMNS)
    run("results", str(tmp_path / "*.json"), "-o", tmp_path / "rows.csv")
    table = read_table(tmp_path / "rows.csv")
    assert len(table) == 10 and table.columns == harness.COLUMNS
    run("results", tmp_path, "-o", tmp_path / "rows.jsonl")
    lines = (tmp_path / "rows.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == payload["rows"]
    summary = run("results", tmp_path).output
    assert "10 rows from 2 file(s)" in summary and "gsm8k" in summary


# --- expressions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, row, value", [
    ("1 / ppl", {"ppl": 4.0}, 0.25),
    ("exp(-loss)", {"loss": math.log(2)}, 0.5),
    ("2 ^ 3 ^ 2", {}, 512.0),  # power is right-associative, and binds tighter than unary minus
    ("-x^2", {"x": 3.0}, -9.0),
    ("(a + b) × 2 ÷ 4 − 1", {"a": 1.0, "b": 3.0}, 1.0),
    ("log10(6 * params * tokens)", {"params": 1e9, "tokens": 2e10}, math.log10(1.2e20)),
    ("sqrt(x) + log(1)", {"x": 16.0}, 4.0),
    ("1 / x", {"x": 0.0}, None),  # no finite answer: the row is skipped
    ("log(x)", {"x": -1.0}, None),
    ("exp(x)", {"x": 1e6}, None),
])
def test_expressions(text, row, value):
    got = parse(text)(row)
    assert got == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "is not a function here"),
    ("__import__('os')", "'__import__' is not a function here"),
    ("params.real", "attribute access is not allowed"),
    ("x.__class__", "attribute access is not allowed"),
    ("open('f')", "'open' is not a function here"),
    ("[1][0]", "is not allowed"),
    ("x[0]", "is not allowed"),
    ("'text'", "only numbers"),
    ("x if y else z", "is not allowed"),
    ("lambda: 1", "is not allowed"),
    ("exp(x, y)", "takes exactly one argument"),
    ("exp(x=1)", "takes exactly one argument"),
    ("1 +", "not an arithmetic expression"),
    ("x < 1", "is not allowed"),
    ("-" * 100 + "1", "nested"),
    ("1" + "+1" * 400, "longer than"),
])
def test_expressions_outside_the_whitelist_are_refused(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text)


def test_derived_column_over_a_table(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("model,ppl\na,4\nb,0\nc,\n")
    table, name = derive(read_table(f), "1 / ppl")
    assert name == "1 / ppl" and [r[name] for r in table.rows] == [0.25, None, None]
    assert derive(table, "ppl")[1] == "ppl"  # a plain column stays itself
    with pytest.raises(MapError, match="no column 'loss'"):
        derive(table, "exp(-loss)")
    with pytest.raises(MapError, match="attribute access"):
        derive(table, "ppl.real")


# --- fits from result files ------------------------------------------------------------------------


def synthetic_runs(tmp_path, layout="older"):
    """Result files of seven models exactly on a logistic in FLOPs, a models table, the same as CSV."""
    runs = tmp_path / "runs"
    runs.mkdir()
    rows = []
    for i, n in enumerate(SIZES):
        name = f"org/m{i}"
        acc = true_acc(n)
        if layout == "older":
            older_file(runs / f"m{i}.json", name, acc, ppl=1 / (0.5 * acc + 0.01))
        else:
            current_file(runs / f"m{i}.json", name, acc, revision="main")
        rows.append((name, "main" if layout != "older" else "step143000", n, TOKENS, "toy"))
    models = write_models(tmp_path / "models.csv", rows)
    table = tmp_path / "table.csv"
    with open(table, "w", newline="") as h:
        writer = csv.writer(h)
        writer.writerow(["model", "flops", "acc", "acc_stderr"])
        for name, _, n, d, _ in rows:
            writer.writerow([name, repr(6 * n * d), repr(true_acc(n)), "0.01"])
    return runs, models, table


@pytest.mark.parametrize("layout", ["older", "current"])
def test_fit_from_result_files_equals_fit_from_a_table(tmp_path, layout):
    runs, models, table = synthetic_runs(tmp_path, layout)
    metric = {"task": "lambada_openai", "metric": "acc"}
    from_files = fit_file(runs, "flops", "value", where=metric, models=models, n_bootstrap=50)
    from_table = fit_file(table, "flops", "acc", n_bootstrap=50)
    assert from_files.to_json() == from_table.to_json()
    assert from_files.weights == "stderr"
    assert math.log10(from_files.fit.params["midpoint"]) == pytest.approx(21.0, abs=1e-6)


def test_map_fitted_from_result_files_agrees_with_the_csv_map(tmp_path, write_map):
    runs, models, table = synthetic_runs(tmp_path)
    files_map = write_map("""
        scale: {axis: flops, range: [1e18, 1e26]}
        skills:
          acc:
            curve: {fit: {data: "runs/*.json", models: models.csv, x: flops, y: value,
                          where: {task: lambada_openai, metric: acc, n_shot: 0}}}
            threshold: 0.5
          word:
            curve: {fit: {data: runs, models: models.csv, x: flops, y: 1 / value,
                          where: {task: lambada_openai, metric: ppl}}}
    """, "files.yaml")
    csv_map = write_map("""
        scale: {axis: flops, range: [1e18, 1e26]}
        skills:
          acc:
            curve: {fit: {data: table.csv, x: flops, y: acc}}
            threshold: 0.5
    """, "csv.yaml")
    a, b = capgraph.load(files_map), capgraph.load(csv_map)
    assert a.spec.skills["acc"].curve == b.spec.skills["acc"].curve
    assert a.predict()[0].crossing == b.predict()[0].crossing
    assert a.predict()[0].crossing.flops == pytest.approx(1e21, rel=1e-6)
    # 1 / ppl = 0.5·acc + 0.01 rises through 0.26 at 1e21 FLOPs; the derived column is fitted there
    assert a.at("1e21").values["word"] == pytest.approx(0.26, abs=0.02)


def test_fit_cache_keys_on_every_files_content(tmp_path, write_map):
    runs, models, _ = synthetic_runs(tmp_path)
    path = write_map("""
        scale: {axis: flops}
        skills:
          acc:
            curve: {fit: {data: runs, models: models.csv, x: flops, y: value,
                          where: {task: lambada_openai, metric: acc}}}
    """)
    first = capgraph.load(path).spec.skills["acc"].curve.logistic
    data = json.loads((runs / "m3.json").read_text())
    data["results"]["lambada_openai"]["acc"] += 0.05  # one file of seven changes
    (runs / "m3.json").write_text(json.dumps(data))
    second = capgraph.load(path).spec.skills["acc"].curve.logistic
    assert second != first
    rows = list(csv.reader(open(models)))
    rows[4][3] = str(float(rows[4][3]) * 2)  # the models table changes
    write_models(models, rows[1:], header=rows[0])
    assert capgraph.load(path).spec.skills["acc"].curve.logistic != second


def test_fit_problems_in_maps_are_located(tmp_path, write_map):
    runs, models, _ = synthetic_runs(tmp_path)
    path = write_map("""
        skills:
          acc:
            curve:
              fit:
                data: runs
                models: models.csv
                x: flops
                y: 1 / vlaue
                where: {task: lambada_openai, metirc: acc}
    """)
    with pytest.raises(MapError) as exc:
        capgraph.load(path)
    (p,) = exc.value.problems
    assert (p.line, p.col) == (8, 12) and "no column 'vlaue' (did you mean 'value'?)" in p.message


def test_weights_stderr_insists_and_auto_falls_back(tmp_path):
    f = tmp_path / "t.csv"
    lines = ["params,acc,acc_stderr"]
    for i, lx in enumerate(np.linspace(8, 12, 9)):
        lines.append(f"{10**lx:.6g},{float(curves.logistic(lx, 10.0, 1.5)):.9f},{'' if i == 3 else 0.01}")
    f.write_text("\n".join(lines) + "\n")
    assert fit_file(f, "params", "acc", n_bootstrap=0).weights == "none"  # one row lacks a stderr
    with pytest.raises(MapError, match="1 of the 9 usable rows have no standard error"):
        fit_file(f, "params", "acc", n_bootstrap=0, weights="stderr")
    with pytest.raises(MapError, match="no column 'lookup_stderr'"):
        fit_file(logistic_table(tmp_path), "params", "lookup", n_bootstrap=0, weights="stderr")


def logistic_table(tmp_path):
    f = tmp_path / "plain.csv"
    rows = [f"{10**lx:.6g},{float(curves.logistic(lx, 10.0, 1.5)):.9f}" for lx in np.linspace(8, 12, 9)]
    f.write_text("params,lookup\n" + "\n".join(rows) + "\n")
    return f


def test_weights_change_the_fit_toward_precise_rows(tmp_path):
    lx = np.linspace(8, 12, 9)
    y = curves.logistic(lx, 10.0, 1.5)
    y[-1] -= 0.2  # one bad point ...
    se = np.full(9, 0.01)
    se[-1] = 1.0  # ... that says it is imprecise
    f = tmp_path / "t.csv"
    f.write_text("params,acc,acc_stderr\n" + "".join(f"{10**a:.9g},{b:.9f},{c}\n" for a, b, c in zip(lx, y, se, strict=True)))
    weighted = fit_file(f, "params", "acc", n_bootstrap=0)
    plain = fit_file(f, "params", "acc", n_bootstrap=0, weights="none")
    assert weighted.weights == "stderr" and plain.weights == "none"
    assert abs(math.log10(weighted.fit.params["midpoint"]) - 10) < abs(math.log10(plain.fit.params["midpoint"]) - 10)


def test_fit_cli_from_result_files_says_which_weights(tmp_path):
    runs, models, _ = synthetic_runs(tmp_path)
    out = run("fit", runs, "--models", models, "--x", "flops", "--y", "value", "--where", "task=lambada_openai",
              "--where", "metric=acc", "--bootstrap", "20").output
    assert "weighted by 1/stderr²" in out and "7 rows used" in out
    out = run("fit", runs, "--models", models, "--x", "flops", "--y", "1/value", "--where", "metric=ppl",
              "--bootstrap", "0").output
    assert "unweighted" in out
    assert "must be one of" in run("fit", runs, "--x", "a", "--y", "b", "--weights", "some", code=2).output


# --- the shipped subset and the shared real data ---------------------------------------------------


def test_shipped_pythia_subset_runs_from_a_fresh_clone():
    data = ROOT / "graphs" / "data"
    got = harness.read_results([data / "pythia_harness"], models=data / "pythia_models.csv")
    assert len(got.files) == 40 and not got.unmatched
    cmap = capgraph.load(ROOT / "graphs" / "pythia_harness.yaml")
    p = {x.name: x for x in cmap.predict()}
    assert 5e20 < p["lambada_accuracy"].crossing.flops < 2e21
    assert p["lambada_word_probability"].crossing.flops > 50 * p["lambada_accuracy"].crossing.flops


def test_real_harness_files_match_the_collected_csv():
    folder = shared_data("lm_eval_pythia")
    table = shared_data("pythia_zero_shot_evals.csv")
    got = harness.read_results([folder], groups={"mmlu": "hendrycksTest-*"})
    assert len(got.files) == 48
    by_key = {}
    for r in got.rows:
        if r["n_shot"] == 0 and r["filter"] == "":
            by_key[(r["model"], r["revision"], r["task"], r["metric"])] = r["value"]
    checked = 0
    for row in read_table(table).rows:
        key = (row["hf_revision_model_args"].split("pretrained=")[1].split(",")[0],
               "step" + row["step"])
        if row["deduped"] != "0" or (*key, "lambada_openai", "acc") not in by_key:
            continue
        assert by_key[(*key, "lambada_openai", "acc")] == pytest.approx(float(row["lambada_openai_acc"]))
        assert by_key[(*key, "lambada_openai", "ppl")] == pytest.approx(float(row["lambada_openai_ppl"]))
        assert by_key[(*key, "mmlu", "acc")] == pytest.approx(float(row["mmlu_mean_acc_over_subjects"]))
        checked += 1
    assert checked == 40


def test_help_mentions_results():
    assert "results" in run("--help").output
    assert "--models" in run("results", "--help").output


def test_fitting_guide_shows_what_fit_prints_on_the_shipped_files():
    from .conftest import ROOT as root

    guide = (root / "docs" / "fitting.md").read_text()
    shown = guide.split("fit in one line:", 1)[1].split("```\n", 3)[2]
    data = root / "graphs" / "data"
    printed = run("fit", data / "pythia_harness", "--models", data / "pythia_models.csv", "--x", "flops",
                  "--y", "value", "--where", "task=lambada_openai", "--where", "metric=acc",
                  "--bootstrap", "200").output
    assert printed == shown


def test_a_group_that_matches_nothing_says_so(tmp_path):
    older_file(tmp_path / "a.json", "m", 0.3)
    with pytest.raises(MapError, match=r"group 'mmlu' matches no task \(hendrycks-\*\)"):
        harness.read_results([tmp_path], groups={"mmlu": "hendrycks-*"})


def test_odd_every_eval_ever_results_are_located(tmp_path):
    f = tmp_path / "eee.json"
    f.write_text(json.dumps({"model_info": {"id": "m"}, "evaluation_results": [
        {"evaluation_name": "a", "score_details": [0.5]},
        {"evaluation_name": "b", "score_details": {"score": 0.5, "uncertainty": ["x"]}}]}, indent=1))
    with pytest.raises(MapError) as exc:
        harness.read_file(f)
    (p,) = exc.value.problems
    assert (p.line, p.col) == (6, 3) and "numeric 'score_details.score'" in p.message


def test_results_cli_names_models_the_table_lacks(tmp_path):
    older_file(tmp_path / "a.json", "org/known", 0.3)
    older_file(tmp_path / "b.json", "org/unknown", 0.3)
    models = write_models(tmp_path / "models.csv", [("org/known", "step143000", 1e9, 2e10, "x")])
    result = run("results", tmp_path, "--models", models, "--json")
    assert "1 model(s) not in the models table (their facts are left blank): org/unknown" in result.output
    assert "--group" in run("results", tmp_path, "--group", "nonsense", code=2).output


def test_tables_among_harness_files_are_named(tmp_path):
    older_file(tmp_path / "a.json", "m", 0.3)
    (tmp_path / "t.csv").write_text("params,acc\n1,0.5\n")
    result = run("fit", tmp_path / "a.json", tmp_path / "t.csv", "--x", "params", "--y", "value", code=1)
    assert f"{tmp_path / 't.csv'}:1:1: a results table, not an evaluation-harness file" in result.output
