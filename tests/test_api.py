"""The Python API a notebook uses: load(dict), to_records/to_frame, raw draws, with_changes."""

import copy
import importlib.util
import math

import numpy as np
import pytest

import capgraph
from capgraph.core.errors import MapError
from capgraph.core.records import flatten, records
from capgraph.engine.predict import QUANTILES
from capgraph.evidence import harness
from capgraph.evidence.fit import fit_with_intervals
from capgraph.kernels import curves

from .conftest import ROOT

HAS_PANDAS = importlib.util.find_spec("pandas") is not None
needs_pandas = pytest.mark.skipif(not HAS_PANDAS, reason="pandas is an optional extra, not installed here")

CHAIN = {
    "name": "chain",
    "scale": {"axis": "params", "range": [1e8, 1e14]},
    "skills": {"step": {"curve": {"logistic": {"midpoint": 1e10, "slope": 1.5}}, "threshold": 0.5}},
    "capabilities": {"ten": {"requires": {"step": 10}, "threshold": 0.5}},
    "scenarios": {"sharp": {"skills": {"step": {"curve": {"logistic": {"slope": 3}}}}}},
}


def crossing_of_chain(n, mid=10.0, slope=1.5, level=0.5):
    """log10 scale where step^n = level for a logistic step: the closed form."""
    p = level ** (1 / n)
    return mid + math.log(p / (1 - p)) / slope


# --- load a dict ---------------------------------------------------------------------------------


def test_load_and_loads_take_a_dict_without_changing_it():
    given = copy.deepcopy(CHAIN)
    m = capgraph.load(given)
    assert given == CHAIN
    p = {x.name: x for x in m.predict()}
    assert math.log10(p["ten"].crossing.params) == pytest.approx(crossing_of_chain(10), abs=1e-3)
    assert capgraph.loads(CHAIN).predict()[1].crossing == p["ten"].crossing
    assert m.name == "chain"


def test_a_bad_dict_lists_every_problem():
    with pytest.raises(MapError) as exc:
        capgraph.loads({"skills": {"a": {"curve": {"logistic": {"midpoint": "7Q", "slope": 1}}},
                                   "b": {"curve": {"logistic": {"midpoint": 1e9, "slop": 1}}}}})
    text = str(exc.value)
    assert "<map>:1:1:" in text and "7Q" in text and "slop" in text


# --- records -------------------------------------------------------------------------------------


def test_flatten_and_records_keep_stable_keys():
    assert flatten({"a": {"b": {"c": 1}}, "d": [1, 2]}) == {"a_b_c": 1, "d": [1, 2]}
    rows = records([{"n": "x", "crossing": None}, {"n": "y", "crossing": {"params": 1.0, "flops": 2.0}}])
    assert rows == [{"n": "x", "crossing_params": None, "crossing_flops": None},
                    {"n": "y", "crossing_params": 1.0, "crossing_flops": 2.0}]


def test_prediction_records_are_flat():
    m = capgraph.load(ROOT / "graphs" / "uncertain_reasoning.yaml")
    preds = m.predict(samples=200)
    rows = preds.to_records()
    assert [r["name"] for r in rows] == [p.name for p in preds]
    keys = list(rows[0])
    assert all(list(r) == keys for r in rows)
    assert not any(isinstance(v, dict) for r in rows for v in r.values())
    for key in ("crossing_params", "crossing_flops", "quantiles_p5_params", "quantiles_p95_flops",
                "p_never", "sharpness_decades", "date"):
        assert key in keys
    first = preds[0]
    assert rows[0]["crossing_params"] == first.crossing.params
    assert rows[0]["quantiles_p5_tokens"] == first.quantiles["p5"].tokens


def test_snapshot_and_compare_records():
    m = capgraph.load(CHAIN)
    snap = m.at("1e10").to_records()
    assert {r["node"] for r in snap} == {"step", "ten"}
    step = next(r for r in snap if r["node"] == "step")
    assert step["value"] == pytest.approx(0.5) and step["p50"] == pytest.approx(0.5)
    assert step["params"] == pytest.approx(1e10) and set(step) >= {"p5", "p95", "tokens", "flops"}
    cmp = m.compare()
    assert cmp["map"] == "chain"  # still the dict `capgraph compare --json` prints
    rows = cmp.to_records()
    assert {(r["name"], r["scenario"]) for r in rows} == {(n, s) for n in ("step", "ten")
                                                          for s in ("baseline", "sharp")}
    sharp = next(r for r in rows if r["name"] == "ten" and r["scenario"] == "sharp")
    assert math.log10(sharp["crossing_params"]) == pytest.approx(crossing_of_chain(10, slope=3), abs=1e-3)


def test_fit_and_results_records(tmp_path):
    lx = np.linspace(8, 12, 9)
    result = fit_with_intervals(lx, curves.logistic(lx, 10.0, 1.5), n_bootstrap=20)
    (row,) = result.to_records()
    assert row["curve"] == "logistic" and row["midpoint"] == pytest.approx(1e10)
    assert row["midpoint_p5"] <= row["midpoint"] <= row["midpoint_p95"] and row["weights"] == "none"
    data = ROOT / "graphs" / "data"
    rows = harness.read_results([data / "pythia_harness" / "pythia-70m_zero-shot_step3000.json"],
                                models=data / "pythia_models.csv").to_records()
    assert len(rows) == 11 and rows[0]["params"] == 70426624
    assert rows[0]["flops"] == pytest.approx(6 * 70426624 * 3000 * 2097152)


@needs_pandas
def test_to_frame_gives_plain_columns(tmp_path):
    m = capgraph.load(ROOT / "graphs" / "uncertain_reasoning.yaml")
    preds = m.predict(samples=100)
    frame = preds.to_frame()
    assert len(frame) == len(preds)
    assert frame["crossing_flops"].dtype == float
    assert frame["quantiles_p95_params"].notna().all()
    assert m.at("1e10").to_frame().set_index("node").loc["reasoning_step", "p5"] < 0.5
    assert list(m.compare().to_frame().columns[:3]) == ["name", "kind", "scenario"]
    draws = m.draws(samples=50)
    assert len(draws.to_frame()) == 50 * len(draws.names)


def test_to_frame_without_pandas_says_how_to_get_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match=r"pip install 'capgraph\[pandas\]'"):
        capgraph.load(CHAIN).at("1e10").to_frame()


# --- draws -----------------------------------------------------------------------------------------


def test_draws_are_what_predict_summarises():
    m = capgraph.load(ROOT / "graphs" / "uncertain_reasoning.yaml")
    draws = m.draws(samples=300, seed=4)
    preds = {p.name: p for p in m.predict(samples=300, seed=4)}
    assert set(draws.names) == set(preds) and draws.samples == 300
    for name, p in preds.items():
        values = draws.crossings(name, "params")
        crossed = values[~np.isnan(values)]
        assert 1 - crossed.size / values.size == pytest.approx(p.p_never)
        qs = np.quantile(np.log10(crossed), list(QUANTILES.values()))
        for q, key in zip(qs, QUANTILES, strict=True):
            assert q == pytest.approx(math.log10(p.quantiles[key].params), abs=1e-9)
    tokens = draws.crossings("reasoning_step", "tokens")
    assert np.allclose(tokens, 20 * draws.crossings("reasoning_step", "params"), equal_nan=True)
    rows = draws.to_records()
    assert len(rows) == 300 * len(draws.names) and set(rows[0]) == {"node", "sample", "crossed", "params",
                                                                   "tokens", "flops"}


def test_draws_of_a_map_without_ranges_is_its_point_estimate():
    d = capgraph.load(CHAIN).draws()
    assert d.samples == 1
    assert math.log10(d.crossings("ten")[0]) == pytest.approx(crossing_of_chain(10), abs=2e-3)
    with pytest.raises(ValueError, match="unit must be one of"):
        d.crossings("ten", "loss")


# --- with_changes ------------------------------------------------------------------------------------


def test_with_changes_merges_like_a_scenario():
    m = capgraph.load(CHAIN)
    patch = {"skills": {"step": {"curve": {"logistic": {"slope": 3}}}}}
    changed = m.with_changes(patch)
    assert m.spec.skills["step"].curve.logistic.slope == 1.5  # the map itself is unchanged
    got = {p.name: p.crossing for p in changed.predict()}
    assert got == {p.name: p.crossing for p in m.scenario("sharp").predict()}
    assert math.log10(got["ten"].params) == pytest.approx(crossing_of_chain(10, slope=3), abs=1e-3)


def test_with_changes_deletes_with_none_and_checks_the_result(write_map):
    path = write_map("""
        skills:
          step: {curve: {logistic: {midpoint: 1e10, slope: 1.5}}, threshold: 0.5}
        capabilities:
          ten: {requires: {step: 10}, threshold: 0.5}
    """)
    m = capgraph.load(path)
    points = m.with_changes({"skills": {"step": {"curve": {"logistic": None,
                                                           "points": [[1e9, 0.1], [1e11, 0.9]]}}}})
    assert points.spec.skills["step"].curve.kind == "points"
    assert [p.name for p in m.with_changes({"capabilities": None}).predict()] == ["step"]
    with pytest.raises(MapError) as exc:
        m.with_changes({"capabilities": {"ten": {"requires": {"stpe": 10}}}})
    (p,) = exc.value.problems
    assert p.path == str(path) and "stpe" in p.message and "did you mean 'step'" in p.message
    assert p.line == 4  # located in the map file, at the block the patch changed


def test_with_changes_on_a_file_with_fits(tmp_path):
    m = capgraph.load(ROOT / "graphs" / "fitted_multistep.yaml")
    stricter = m.with_changes({"capabilities": {"answer": {"threshold": 0.8}}})
    before = {p.name: p for p in m.predict()}["answer"].crossing.params
    after = {p.name: p for p in stricter.predict()}["answer"].crossing.params
    assert after > before


def test_evidence_results_have_records(tmp_path):
    from capgraph.evidence.backtest import backtest
    from capgraph.evidence.mirage import lens

    lx = np.linspace(8, 12, 9)
    x, y = 10 ** lx, curves.logistic(lx, 10.0, 1.5)
    (b,) = backtest(x, y, 1e11, n_bootstrap=0).to_records()
    assert b["n_train"] == 7 and b["n_test"] == 2 and b["mae"] < 1e-6
    (m,) = lens(x, y**5, 5).to_records()
    assert m["observed_sharpness_decades"] < m["per_step_sharpness_decades"]
    assert not any(isinstance(v, dict) for v in {**b, **m}.values())
