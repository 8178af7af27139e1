"""Back-tests of large tables (issue 14): the band computed once per held-out scale by counting is the
band of every row, the fast path recovers a closed-form curve with honest coverage, and
``capgraph backtest`` on 200,000 rows is quick and says how it was computed."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from capgraph.evidence import bands
from capgraph.evidence import fit as fitmod
from capgraph.evidence.backtest import backtest
from capgraph.evidence.bigbands import BAND_POINTS, band_rows, counted_band
from capgraph.evidence.fit import Fit, FitOptions, held_out_scatter
from capgraph.kernels import curves
from capgraph.outputs.forecasting import large_backtest_line
from tests.conftest import invoke

MID, SLOPE = 10.0, 1.5  # log10 midpoint, logits per decade


def out_of_20(lx: np.ndarray, seed: int) -> np.ndarray:
    """Scores out of 20 items of models on the closed-form logistic."""
    return np.random.default_rng(seed).binomial(20, curves.logistic(lx, MID, SLOPE)) / 20


def per_scale_table(rows: int, scales: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    lx = np.repeat(np.linspace(8.0, 12.0, scales), -(-rows // scales))[:rows]
    return lx, out_of_20(lx, seed)


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "tied"])
def test_counted_band_is_the_sorted_band(ties):
    rng = np.random.default_rng(1)
    values = rng.uniform(0.05, 0.95, (300, 7))
    residuals = rng.normal(0, 1.2, 500)
    if ties:  # scores of a few items: residuals and curve values repeat
        residuals, values = residuals.round(1), values.round(2)
    values[:, 0] = 0.5  # a point where every draw agrees
    for floor in (0.0, 0.25):
        scatter = bands.Scatter(residuals, "leave-one-out", floor)
        v = floor + (1 - floor) * values
        np.testing.assert_allclose(counted_band(v, scatter), bands.predictive_band(v, scatter),
                                   rtol=0, atol=1e-12)
    np.testing.assert_allclose(counted_band(values, None), bands.predictive_band(values, None))


def test_band_rows_are_the_distinct_scales_or_an_even_subsample():
    lx = np.repeat([10.5, 10.0, 11.0], [3, 5, 2])
    b = band_rows(lx)
    assert not b.sampled and b.scales.tolist() == [10.0, 10.5, 11.0]
    np.testing.assert_array_equal(b.scales[b.inverse], lx)
    spread = band_rows(np.linspace(10, 12, 10_001))
    assert spread.sampled and spread.rows.size == BAND_POINTS == spread.scales.size
    assert spread.scales[0] == 10 and spread.scales[-1] == 12  # every part of the range


def test_large_backtest_recovers_the_curve_and_its_band_is_every_rows_band():
    lx, y = per_scale_table(200_000, 40)
    result = backtest(10**lx, y, 1e10, n_bootstrap=100)
    assert math.log10(result.fit.params["midpoint"]) == pytest.approx(MID, abs=0.02)
    assert result.fit.params["slope"] == pytest.approx(SLOPE, rel=0.03)
    train, test = lx <= 10, lx > 10
    assert (result.n_train, result.n_test) == (train.sum(), test.sum())
    assert result.mae == pytest.approx(np.abs(result.fit(lx[test]) - y[test]).mean(), rel=1e-12)
    assert result.large_table == {"rows": 200_000, "bootstrap_rows": int(train.sum()),
                                  "scatter_rows": fitmod.RESAMPLE_ROWS, "band_rows": int(test.sum()),
                                  "band_scales": 20}
    # scores out of 20 items around the right curve: the band holds most held-out rows, a little
    # under 90% because a binomial score scatters more in logits near 1 than the training rows did
    assert 0.75 <= result.coverage <= 0.97
    # the same coverage, row by row through the sorting kernel, on the same curves and scatter
    boot = fitmod.bootstrap(lx[train], y[train], result.fit, FitOptions(), 100)
    scatter = held_out_scatter(lx[train], y[train], result.fit, FitOptions())
    assert scatter.method == f"200-fold on {fitmod.RESAMPLE_ROWS} of {int(train.sum())} rows"
    rows = np.flatnonzero(test)[::50]  # every 50th held-out row: 2,000 rows
    values = np.array([Fit("logistic", s, (), 0.0, 0)(lx[rows]) for s in boot.samples])
    lo, hi = bands.predictive_band(values, scatter)
    inside = bands.inside(y[rows], lo, hi)
    scales = np.unique(lx[test])
    lo_s, hi_s = counted_band(np.array([Fit("logistic", s, (), 0.0, 0)(scales) for s in boot.samples]),
                              scatter)
    at = np.searchsorted(scales, lx[rows])
    np.testing.assert_allclose(lo_s[at], lo, atol=1e-12)
    np.testing.assert_allclose(hi_s[at], hi, atol=1e-12)
    of_row = np.searchsorted(scales, lx[test])
    every = bands.inside(y[test], lo_s[of_row], hi_s[of_row])
    assert result.coverage == every.mean() and abs(inside.mean() - every.mean()) < 0.03


def test_large_backtest_of_distinct_scales_scores_an_even_subsample():
    lx = np.sort(np.random.default_rng(6).uniform(8.0, 12.0, 100_000))
    ticks = []
    result = backtest(10**lx, out_of_20(lx, 7), 1e10, n_bootstrap=50, progress=ticks.append)
    assert ticks == [1] * 50
    assert result.large_table["band_rows"] == result.large_table["band_scales"] == BAND_POINTS
    assert result.large_table["bootstrap_rows"] == fitmod.RESAMPLE_ROWS  # m-out-of-n, as `fit` does it
    assert math.log10(result.fit.params["midpoint"]) == pytest.approx(MID, abs=0.03)
    assert 0.8 <= result.coverage <= 1.0


def test_a_small_table_takes_the_row_by_row_path():
    lx = np.linspace(8, 12, 60)
    result = backtest(10**lx, out_of_20(lx, 8), 1e10, n_bootstrap=20)
    assert result.large_table is None and "large_table" not in result.to_json()


def test_cli_backtest_of_a_large_table(tmp_path):
    lx, y = per_scale_table(200_000, 40)
    data = tmp_path / "items.csv"
    data.write_text("flops,score\n" + "\n".join(f"{10 ** a:.6g},{b:g}" for a, b in zip(lx, y, strict=True)) + "\n")
    args = ["backtest", data, "--x", "flops", "--y", "score", "--cutoff", "1e10", "--bootstrap", "100"]
    got = json.loads(invoke(*args, "--json").output)
    assert got["n_train"] + got["n_test"] == 200_000 and 0.75 <= got["coverage"] <= 0.97
    assert got["large_table"]["band_scales"] == 20
    text = invoke(*args, "--threshold", "0.5").output
    assert f"tested on {got['n_test']} rows above" in text
    assert "# large table: 200000 rows, fitted through the mean score at each training scale" in text
    assert "band at each of the 20 held-out scales" in text


def test_a_large_table_cut_low_fits_its_training_rows_one_by_one():
    lx, y = per_scale_table(20_000, 40)
    result = backtest(10**lx, y, 10**8.5, n_bootstrap=20)
    assert result.n_train == 2_500 and result.large_table == {  # five scales of 500 rows
        "rows": 20_000, "bootstrap_rows": 2_500, "scatter_rows": 2_500, "band_rows": 17_500,
        "band_scales": 35}
    assert large_backtest_line(result) == "# large table: 20000 rows; band at each of the 35 held-out scales"
