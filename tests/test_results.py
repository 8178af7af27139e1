"""From results to curves: tables, back-tests by hand, the lens, the audit, the cache, fit: in maps, the CLI."""

import json
import math
import os
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.core.errors import MapError
from capgraph.evidence import fitcache, fitmap
from capgraph.evidence.audit import audit, audit_one
from capgraph.evidence.backtest import backtest
from capgraph.evidence.data import read_table
from capgraph.evidence.fit import FitOptions
from capgraph.evidence.mirage import lens
from capgraph.kernels import curves, rules

runner = CliRunner()


def run(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def logistic_csv(tmp_path, name="results.csv", mid=10.0, slope=1.5, extra_rows=""):
    """Rows exactly on a logistic at 9 scales (and a task column), plus any extra rows."""
    lines = ["model,params,task,acc"]
    for i, lx in enumerate(np.linspace(8, 12, 9)):
        lines.append(f"m{i},{10**lx:.6g},qa,{float(curves.logistic(lx, mid, slope)):.9f}")
    return write(tmp_path, name, "\n".join(lines) + "\n" + extra_rows)


# --- data files -----------------------------------------------------------------------------------


def test_rows_with_gaps_are_skipped_and_counted(tmp_path):
    path = write(tmp_path, "r.csv", """
        params,acc,task
        1e8,0.1,a
        0,0.0,a
        2e8,,a
        3e8,n/a,a
        -5,0.3,a
        1e9,0.5,a
        1e9,0.9,b
    """)
    cols = read_table(path).where({"task": "a"}).numeric("params", "acc", positive=["params"])
    assert cols.n_used == 2 and cols.n_skipped == 4  # zero scale, empty, text, negative scale
    assert cols.lines == (2, 7)
    assert list(cols["acc"]) == [0.1, 0.5]


def test_jsonl_is_read_and_numbers_compare_as_numbers(tmp_path):
    path = write(tmp_path, "r.jsonl", """
        {"params": 1e8, "acc": 0.1, "deduped": 0}
        {"params": 2e8, "acc": 0.2, "deduped": 1}

        {"params": 3e8, "acc": null, "deduped": 0.0}
    """)
    table = read_table(path)
    assert table.columns == ("params", "acc", "deduped")
    cols = table.where({"deduped": "0"}).numeric("params", "acc")
    assert cols.n_used == 1 and cols.n_skipped == 1 and cols.lines == (1,)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("r.jsonl", '{"a": 1}\n{"a": 2,}\n', ":2:9: invalid JSON"),
        ("r.jsonl", '{"a": 1}\n[1, 2]\n', ":2:1: each line must be a JSON object"),
        ("r.csv", "a,b\n1,2\n3\n", ":3:1: 1 fields, but the header has 2"),
        ("r.csv", "a,a\n1,2\n", ":1:1: column 'a' appears twice"),
        ("r.csv", "", ":1:1: empty data file"),
    ],
)
def test_bad_data_files_are_located(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(MapError) as exc:
        read_table(path)
    assert str(exc.value.problems[0]).startswith(f"{path}{expected}")


def test_unknown_column_says_did_you_mean(tmp_path):
    table = read_table(logistic_csv(tmp_path))
    with pytest.raises(MapError, match=r"no column 'acc_' \(did you mean 'acc'\?\)"):
        table.numeric("params", "acc_")


# --- back-tests, checked by hand ------------------------------------------------------------------


def hand_table():
    """Training rows exactly on σ(2·(log10 x − 9)); held-out rows on it, 0.05 above and 0.1 below."""
    train_lx = np.array([7.0, 7.5, 8.0, 8.5, 9.0])
    x = 10.0 ** np.array([*train_lx, 10.0, 10.5, 11.0])
    y = np.array([*curves.logistic(train_lx, 9.0, 2.0),
                  1 / (1 + math.exp(-2)) + 0.05,   # 0.930797
                  1 / (1 + math.exp(-3)),          # 0.952574, on the curve
                  1 / (1 + math.exp(-4)) - 0.1])   # 0.882014
    return x, y


def test_backtest_numbers_by_hand():
    x, y = hand_table()
    b = backtest(x, y, 1e9, threshold=0.9, n_bootstrap=200)
    assert (b.n_train, b.n_test) == (5, 3)
    assert b.mae == pytest.approx((0.05 + 0.0 + 0.1) / 3, abs=1e-7)
    # noiseless training rows: every resample refits the same curve, so the band is the curve
    # itself and only the held-out row on it is inside
    assert b.coverage == pytest.approx(1 / 3)
    # predicted: 9 + logit(0.9)/2 = 9 + ln(9)/2; observed: the first held-out score ≥ 0.9 is at 1e10
    assert math.log10(b.crossing_predicted) == pytest.approx(9 + math.log(9) / 2, abs=1e-6)
    assert b.crossing_observed == pytest.approx(1e10)
    assert b.crossing_error_decades == pytest.approx(9 + math.log(9) / 2 - 10, abs=1e-6)
    assert list(b.to_json()) == ["mae", "coverage", "n_train", "n_test", "crossing_predicted",
                                 "crossing_observed", "crossing_error_decades"]


def test_backtest_without_threshold_and_never_reached():
    x, y = hand_table()
    assert backtest(x, y, 1e9, n_bootstrap=0).to_json()["crossing_error_decades"] is None
    b = backtest(x, y, 1e9, threshold=0.99, n_bootstrap=0)
    assert b.crossing_observed is None and b.crossing_error_decades is None
    assert math.log10(b.crossing_predicted) == pytest.approx(9 + math.log(99) / 2, abs=1e-6)


def test_backtest_needs_rows_on_both_sides():
    x, y = hand_table()
    with pytest.raises(ValueError, match="no rows above the cutoff"):
        backtest(x, y, 1e12)
    with pytest.raises(ValueError, match="at or below the cutoff"):
        backtest(x, y, 2e7)


def test_backtest_band_covers_noisy_held_out_scores_sometimes():
    rng = np.random.default_rng(2)
    lx = np.linspace(8, 12, 40)
    y = curves.logistic(lx, 10.0, 1.5) + rng.normal(0, 0.02, lx.size)
    b = backtest(10**lx, y, 1e11, n_bootstrap=200)
    assert 0 < b.coverage < 1  # a band of the curve, not of the noise: honest, and narrower
    assert b.mae == pytest.approx(0.02, abs=0.015)


# --- the lens -------------------------------------------------------------------------------------


def test_lens_on_a_per_token_power_law_smooth_per_token_sharp_exact_match():
    lx = np.linspace(7, 12, 21)
    p = curves.power_law(lx, 6.0, 0.3)  # per token: 0.61 at 1e7, 0.98 at 1e12
    m = lens(10**lx, p**20, 20)
    assert m.sharpness_ratio > 1.3  # the mirage: exact match (p^20) sharper than per token
    assert math.log10(m.exact_match.half_scale) > math.log10(m.per_step.half_scale) + 2
    j = m.to_json()
    assert list(j) == ["observed", "per_step", "exact_match"]
    assert list(j["observed"]) == ["curve", "sharpness_decades", "half_scale", "rmse"]
    assert list(j["exact_match"]) == ["of_per_step", "sharpness_decades", "half_scale", "rmse"]


def test_lens_with_power_laws_shifts_but_does_not_sharpen():
    """p^L = exp(−L·(x/c)^−a) is the same power law at c·L^(1/a): same sharpness, later by log10(L)/a."""
    lx = np.linspace(7, 12, 21)
    p = curves.power_law(lx, 8.0, 0.5)
    m = lens(10**lx, p**10, 10, FitOptions("power_law"))
    assert m.observed.fit.params["exponent"] == pytest.approx(0.5, rel=1e-6)
    assert m.observed.sharpness_decades == pytest.approx(m.per_step.sharpness_decades, rel=1e-6)
    shift = math.log10(m.observed.half_scale) - math.log10(m.per_step.half_scale)
    assert shift == pytest.approx(math.log10(10) / 0.5, abs=1e-6)


def test_lens_leaves_zero_scores_out_of_the_per_step_fit():
    lx = np.linspace(7, 12, 21)
    em = curves.power_law(lx, 6.0, 0.3) ** 20
    em[:3] = 0.0
    m = lens(10**lx, em, 20)
    assert m.n_zero == 3 and m.n_used == 21


# --- the audit ------------------------------------------------------------------------------------


AUDIT_MAP = """
skills:
  a: {{curve: {{logistic: {{midpoint: 1e9, slope: 1.2}}}}}}
  b: {{curve: {{logistic: {{midpoint: 1e10, slope: 2.5}}}}, column: b_score}}
capabilities:
  task: {{requires: {{a: 2, b: 1}}, combine: {rule}}}
"""


def audit_data(tmp_path, rule, noise=0.004):
    rng = np.random.default_rng(5)
    lx = np.linspace(8, 12, 30)
    a, b = curves.logistic(lx, 9.0, 1.2), curves.logistic(lx, 10.0, 2.5)
    task = rules.combine(rule, [a, b], [2, 1]) + rng.normal(0, noise, lx.size)
    rows = ["params,a,b_score,task"] + [f"{10**v:.6g},{p:.6f},{q:.6f},{float(np.clip(t, 0, 1)):.6f}"
                                          for v, p, q, t in zip(lx, a, b, task, strict=True)]
    return write(tmp_path, f"audit_{rule}.csv", "\n".join(rows) + "\n")


@pytest.mark.parametrize(("truth", "declared", "best"), [
    ("all", "mean", "all_fitted"),
    ("any", "all", "any"),
    ("mean", "min", "mean"),
    ("min", "mean", "min"),
    ("mean", "mean", "declared"),
])
def test_audit_picks_the_rule_that_made_the_data(tmp_path, truth, declared, best):
    cmap = capgraph.loads(AUDIT_MAP.format(rule=declared))
    result = audit(cmap, read_table(audit_data(tmp_path, truth)), "params")
    (task,) = result.capabilities
    assert task.best == best
    assert task.rmse[best] < 0.006  # about the noise
    if best != "declared":
        assert task.improvement > 0.01
    if truth == "all":
        assert task.exponents["a"] == pytest.approx(2, abs=0.1)
        assert task.exponents["b"] == pytest.approx(1, abs=0.1)
        assert task.verdict == "as_predicted"


def test_audit_says_harder_or_easier_than_the_naive_product():
    lx = np.linspace(8, 12, 30)
    a, b = curves.logistic(lx, 9.0, 1.2), curves.logistic(lx, 10.0, 2.5)
    naive = a**2 * b
    harder = audit_one("t", "all", ["a", "b"], [a, b], [2, 1], naive * curves.logistic(lx, 10.5, 1.5))
    easier = audit_one("t", "all", ["a", "b"], [a, b], [2, 1], naive**0.6)
    assert harder.verdict == "harder" and harder.naive_gap < -0.01
    assert easier.verdict == "easier" and easier.naive_gap > 0.01
    assert sum(harder.exponents.values()) > 3 > sum(easier.exponents.values())


def test_audit_skips_capabilities_without_columns(tmp_path):
    cmap = capgraph.loads(AUDIT_MAP.format(rule="all").replace("column: b_score", "column: bb"))
    result = audit(cmap, read_table(audit_data(tmp_path, "all")), "params")
    assert result.capabilities == () and result.skipped == {"task": "no column 'bb'"}


# --- the cache ------------------------------------------------------------------------------------


def counting(monkeypatch):
    calls = []
    real = fitmap.fit_table
    monkeypatch.setattr(fitmap, "fit_table", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_cache_hits_and_invalidation(tmp_path, monkeypatch):
    calls = counting(monkeypatch)
    path = logistic_csv(tmp_path)
    first = fitmap.fit_file(path, "params", "acc", n_bootstrap=50)
    second = fitmap.fit_file(path, "params", "acc", n_bootstrap=50)
    assert len(calls) == 1 and first.to_json() == second.to_json()
    fitmap.fit_file(path, "params", "acc", n_bootstrap=50, seed=1)  # other options: a miss
    assert len(calls) == 2
    logistic_csv(tmp_path, mid=10.5)  # the data change: refit
    third = fitmap.fit_file(path, "params", "acc", n_bootstrap=50)
    assert len(calls) == 3
    assert third.fit.params["midpoint"] == pytest.approx(10**10.5, rel=1e-6)
    assert not [p for p in os.listdir(fitcache.cache_dir()) if p.startswith(".tmp")]


def test_corrupt_cache_entries_are_ignored_and_rewritten(tmp_path, monkeypatch):
    calls = counting(monkeypatch)
    path = logistic_csv(tmp_path)
    fitmap.fit_file(path, "params", "acc", n_bootstrap=0)
    (entry,) = fitcache.cache_dir().glob("*.json")
    for junk in ("{not json", '{"key": "other", "value": {}}', json.dumps({"key": entry.stem, "value": {}})):
        entry.write_text(junk)
        result = fitmap.fit_file(path, "params", "acc", n_bootstrap=0)
        assert result.fit.params["midpoint"] == pytest.approx(1e10, rel=1e-6)
    assert len(calls) == 4
    fitmap.fit_file(path, "params", "acc", n_bootstrap=0)
    assert len(calls) == 4  # rewritten whole: a hit again


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("CAPGRAPH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fitcache.cache_dir() == tmp_path / "xdg" / "capgraph"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert fitcache.cache_dir() == tmp_path / "home" / ".cache" / "capgraph"


# --- fit: curves in maps --------------------------------------------------------------------------


def test_fit_curve_in_a_map_resolves_to_the_fitted_logistic(tmp_path, monkeypatch):
    calls = counting(monkeypatch)
    logistic_csv(tmp_path, extra_rows="x,1e10,other,0.99\n")
    path = write(tmp_path, "map.yaml", """
        skills:
          s:
            curve: {fit: {data: results.csv, x: params, y: acc, where: {task: qa}}}
            threshold: 0.5
    """)
    monkeypatch.chdir("/")  # the data path is relative to the map, not the working folder
    cmap = capgraph.load(path)
    logistic = cmap.spec.skills["s"].curve.logistic
    assert logistic.midpoint == pytest.approx(1e10, rel=1e-6) and logistic.slope == pytest.approx(1.5, rel=1e-6)
    assert cmap.predict()[0].crossing.params == pytest.approx(1e10, rel=1e-4)
    capgraph.load(path)
    assert len(calls) == 1  # the second load reads the cache


@pytest.mark.parametrize(
    ("fit", "data", "where"),
    [
        ("{data: nothere.csv, x: params, y: acc}", None, "4:19: data file nothere.csv: no such data file"),
        ("{data: results.csv, x: params, y: accc}", None, "4:46: results.csv has no column 'accc' (did you mean 'acc'?)"),
        ("{data: results.csv, x: params, y: acc, where: {tsk: qa}}", None, "4:59: results.csv has no column 'tsk' (did you mean 'task'?)"),
        ("{data: results.csv, x: params, y: acc, where: {task: none}}", None, "4:7: results.csv: only 0 usable row(s) matching task=none"),
        ("{data: results.csv, x: params, y: acc}", "params,acc\n1e8,0.3\n1e9,0.3\n1e10,0.3\n1e11,0.3\n", "4:7: fitting acc against params in results.csv: the logistic fit did not converge"),
        ("{data: results.csv, x: params, y: acc}", "params,acc\n1e8,0.3\n1e9,3\n", "4:7: results.csv: line 3: 'acc' must be a score in [0, 1]"),
    ],
)
def test_fit_block_problems_are_located_in_the_map(tmp_path, fit, data, where):
    if data is None:
        logistic_csv(tmp_path)
    else:
        write(tmp_path, "results.csv", data)
    path = write(tmp_path, "map.yaml", f"""
        skills:
          s:
            curve:
              fit: {fit}
    """)
    with pytest.raises(MapError) as exc:
        capgraph.load(path)
    assert str(exc.value.problems[0]).startswith(f"{path}:{where}")


def test_fit_block_options_are_validated(tmp_path):
    path = write(tmp_path, "map.yaml", """
        skills:
          s: {curve: {fit: {data: r.csv, x: p, y: a, curve: power_law, floor: 0.25}}}
    """)
    result = run("check", path, code=1)
    assert "floor and ceiling apply to curve: logistic only" in result.output


# --- the commands ---------------------------------------------------------------------------------


def test_cli_fit_json_and_snippet(tmp_path):
    path = logistic_csv(tmp_path, extra_rows="m9,0,qa,0.0\nm10,,qa,0.4\n")
    j = json.loads(run("fit", path, "--x", "params", "--y", "acc", "--bootstrap", "50", "--json").output)
    assert j["curve"]["logistic"]["midpoint"] == pytest.approx(1e10, rel=1e-6)
    assert (j["n_used"], j["n_skipped"]) == (9, 2)
    text = run("fit", path, "--x", "params", "--y", "acc", "--bootstrap", "50", "--point").output
    assert text.startswith("curve:\n  logistic:\n    midpoint: 1e10\n    slope: 1.5\n")


def test_cli_fit_is_byte_identical_across_runs(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    lx = np.linspace(8, 12, 15)
    y = curves.logistic(lx, 10.0, 1.5) + rng.normal(0, 0.02, lx.size)
    noisy = write(tmp_path, "noisy.csv", "params,acc\n" + "".join(f"{10**a:.6g},{b:.6f}\n" for a, b in zip(lx, y, strict=True)))
    args = ("fit", noisy, "--x", "params", "--y", "acc", "--json")
    first = run(*args).output
    monkeypatch.setenv("CAPGRAPH_CACHE_DIR", str(tmp_path / "other-cache"))  # a miss this time
    assert run(*args).output == first


def test_cli_data_errors_exit_1_and_bad_options_exit_2(tmp_path):
    path = logistic_csv(tmp_path)
    result = run("fit", path, "--x", "params", "--y", "nope", code=1)
    assert f"{path}:1:1: no column 'nope'" in result.output
    result = run("fit", tmp_path / "missing.csv", "--x", "params", "--y", "acc", code=1)
    assert "missing.csv:1:1: no such data file" in result.output
    run("fit", path, "--x", "params", "--y", "acc", "--where", "task", code=2)
    run("fit", path, "--x", "params", "--y", "acc", "--ceiling", "high", code=2)
    run("fit", path, "--x", "params", "--y", "acc", "--curve", "power_law", "--floor", "0.25", code=2)
    run("backtest", path, "--x", "params", "--y", "acc", "--cutoff", "lots", code=2)
    flat = write(tmp_path, "flat.csv", "params,acc\n1e8,0.3\n1e9,0.3\n1e10,0.3\n1e11,0.3\n")
    result = run("fit", flat, "--x", "params", "--y", "acc", code=1)
    assert "did not converge" in result.output


def test_cli_backtest_lens_audit(tmp_path):
    x, y = hand_table()
    rows = "params,acc\n" + "".join(f"{a:.10g},{b:.9f}\n" for a, b in zip(x, y, strict=True))
    data = write(tmp_path, "bt.csv", rows)
    j = json.loads(run("backtest", data, "--x", "params", "--y", "acc", "--cutoff", "1B",
                       "--threshold", "0.9", "--json").output)
    assert j["mae"] == pytest.approx(0.05, abs=1e-6) and (j["n_train"], j["n_test"]) == (5, 3)
    assert j["crossing_error_decades"] == pytest.approx(9 + math.log(9) / 2 - 10, abs=1e-6)
    text = run("backtest", data, "--x", "params", "--y", "acc", "--cutoff", "1B", "--threshold", "0.9").output
    assert "off by +0.10 decades" in text

    lx = np.linspace(7, 12, 21)
    em = curves.power_law(lx, 6.0, 0.3) ** 20
    data = write(tmp_path, "em.csv", "params,em\n" + "".join(f"{10**a:.10g},{b:.12f}\n" for a, b in zip(lx, em, strict=True)))
    j = json.loads(run("lens", data, "--x", "params", "--y", "em", "--length", "20", "--json").output)
    assert j["observed"]["sharpness_decades"] < j["per_step"]["sharpness_decades"] / 1.4

    cmap = write(tmp_path, "map.yaml", AUDIT_MAP.format(rule="mean"))
    j = json.loads(run("audit", cmap, "--data", audit_data(tmp_path, "all"), "--x", "params", "--json").output)
    assert j["capabilities"][0]["best"] == "all_fitted"
    text = run("audit", cmap, "--data", audit_data(tmp_path, "all"), "--x", "params").output
    assert text.startswith("task (declared mean, 30 rows, 0 skipped): best all_fitted")


def test_where_compares_booleans_numbers_and_text(tmp_path):
    path = write(tmp_path, "r.csv", """
        params,acc,flag,n
        1e8,0.1,True,1
        1e9,0.2,false,1.0
        1e10,0.3,yes,2
    """)
    table = read_table(path)
    assert len(table.where({"flag": True})) == 1 and len(table.where({"flag": False})) == 1
    assert len(table.where({"n": 1})) == 2 and len(table.where({"flag": "yes"})) == 1


def test_fit_in_a_map_read_from_text_is_relative_to_the_working_folder(tmp_path, monkeypatch):
    logistic_csv(tmp_path)
    monkeypatch.chdir(tmp_path)
    cmap = capgraph.loads("skills: {s: {curve: {fit: {data: results.csv, x: params, y: acc}}, threshold: 0.5}}")
    assert cmap.predict()[0].crossing.params == pytest.approx(1e10, rel=1e-4)


def test_fit_json_from_the_cli_matches_the_library(tmp_path):
    path = logistic_csv(tmp_path)
    j = json.loads(run("fit", path, "--x", "params", "--y", "acc", "--bootstrap", "20", "--json").output)
    assert j == fitmap.fit_table(read_table(path), "params", "acc", n_bootstrap=20).to_json()


# --- the shipped example data ---------------------------------------------------------------------


def test_shipped_results_are_what_the_script_makes():
    import importlib.util

    from .conftest import ROOT

    spec = importlib.util.spec_from_file_location("make_results", ROOT / "docs" / "examples" / "make_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = read_table(ROOT / "graphs" / "data" / "synthetic_results.csv")
    assert [dict(r) for r in shipped.rows] == module.make()


def test_fitted_example_map_recovers_its_truth_and_fails_its_audit():
    from .conftest import ROOT

    cmap = capgraph.load(ROOT / "graphs" / "fitted_multistep.yaml")
    lookup = cmap.spec.skills["lookup"].curve.logistic
    step = cmap.spec.skills["reason_step"].curve.power_law
    # the truth in docs/examples/make_results.py: logistic(3e9, 1.2) and power law (1e9, 0.4)
    assert math.log10(lookup.midpoint) == pytest.approx(math.log10(3e9), abs=0.05)
    assert lookup.slope == pytest.approx(1.2, rel=0.05)
    assert math.log10(step.scale) == pytest.approx(9.0, abs=0.1)
    assert step.exponent == pytest.approx(0.4, rel=0.05)
    result = audit(cmap, read_table(ROOT / "graphs" / "data" / "synthetic_results.csv"), "params")
    (answer,) = result.capabilities
    assert answer.best == "all_fitted" and answer.verdict == "harder"


def test_map_fits_gives_the_intervals_behind_a_maps_point_estimates(tmp_path):
    logistic_csv(tmp_path)
    path = write(tmp_path, "map.yaml", """
        skills:
          s: {curve: {fit: {data: results.csv, x: params, y: acc}}, threshold: 0.5}
    """)
    fits = fitmap.map_fits(path, n_bootstrap=30)
    assert list(fits) == ["s"] and set(fits["s"].intervals) == {"midpoint", "slope"}
    logistic = capgraph.load(path).spec.skills["s"].curve.logistic
    assert fits["s"].fit.params["midpoint"] == logistic.midpoint
    assert fits["s"].fit.params["slope"] == logistic.slope


def test_fit_curve_with_ranges_carries_the_bootstrap_into_the_map(tmp_path):
    rng = np.random.default_rng(3)
    rows = [f"m{i},{10**lx:.6g},qa,{min(1, max(0, float(curves.logistic(lx, 10.0, 1.5)) + rng.normal(0, 0.04))):.6f}"
            for i, lx in enumerate(np.linspace(8, 12, 25))]
    write(tmp_path, "results.csv", "model,params,task,acc\n" + "\n".join(rows) + "\n")
    path = write(tmp_path, "map.yaml", """
        skills:
          s:
            curve: {fit: {data: results.csv, x: params, y: acc, where: {task: qa}, ranges: true}}
            threshold: 0.5
    """)
    cmap = capgraph.load(path)
    midpoint = cmap.spec.skills["s"].curve.logistic.midpoint
    assert cmap.uncertain and midpoint.p5 < 1e10 < midpoint.p95
    (fits,) = fitmap.map_fits(path).values()
    assert (midpoint.p5, midpoint.p95) == pytest.approx(fits.intervals["midpoint"])
    (p,) = cmap.predict(samples=300)
    assert p.quantiles["p5"].params < 1e10 < p.quantiles["p95"].params
