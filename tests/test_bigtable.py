"""Large tables (issue 14): a fit through the mean score per scale gives the row-by-row answer, the
bootstraps give the spread theory predicts, and ``capgraph fit`` on 200,000 rows is quick, says how
it fitted, and a second run is a cache hit that does not parse the file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from capgraph.evidence import fit as fitmod
from capgraph.evidence.bigtable import Counted
from capgraph.evidence.fit import FitOptions, bootstrap, fit_curve, fit_with_intervals
from capgraph.kernels import curves
from tests.conftest import invoke

MID, SLOPE = 10.0, 1.5  # log10 midpoint, logits per decade


def per_item(rows: int, scales: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """0/1 outcomes of ``rows`` items spread over ``scales`` model sizes from 1e8 to 1e12."""
    rng = np.random.default_rng(seed)
    lx = np.repeat(np.linspace(8.0, 12.0, scales), -(-rows // scales))[:rows]
    return lx, (rng.random(rows) < curves.logistic(lx, MID, SLOPE)).astype(float)


def every_row_distinct(rows: int, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Scores out of 20 items at ``rows`` different scales."""
    rng = np.random.default_rng(seed)
    lx = rng.uniform(8.0, 12.0, rows)
    return lx, rng.binomial(20, curves.logistic(lx, MID, SLOPE)) / 20


def row_by_row(monkeypatch):
    monkeypatch.setattr(fitmod, "LARGE_TABLE", 10**12)


def sandwich_width(lx: np.ndarray, y: np.ndarray, fit) -> np.ndarray:
    """90% normal-theory widths of (log10 midpoint, slope): the sandwich covariance of least squares."""
    theta = fit.theta
    jac = curves.FAMILIES["logistic"].fit.jacobian(theta, lx, {"floor": 0.0, "ceiling": 1.0})
    r = y - fit(lx)
    bread = np.linalg.inv(jac.T @ jac)
    cov = bread @ (jac.T * r**2) @ jac @ bread
    return 2 * 1.6449 * np.sqrt(np.diag(cov))


def widths(result) -> np.ndarray:
    (m_lo, m_hi), (s_lo, s_hi) = result.intervals["midpoint"], result.intervals["slope"]
    return np.array([math.log10(m_hi) - math.log10(m_lo), s_hi - s_lo])


def test_counted_keeps_every_row():
    lx, y = per_item(1000, 7)
    table = Counted.of(lx, y)
    assert table.n_rows == 1000 and table.n_distinct <= 14
    np.testing.assert_array_equal(table.log_x[table.inverse], lx)
    np.testing.assert_array_equal(table.y[table.inverse], y)
    scales, means, weights = table.groups()
    assert scales.size == 7
    for s, m, w in zip(scales, means, weights, strict=True):
        assert m == pytest.approx(y[lx == s].mean()) and w**2 == (lx == s).sum()


@pytest.mark.parametrize("opts", [FitOptions(), FitOptions(ceiling=None)], ids=["fixed", "free-ceiling"])
def test_point_fit_is_the_row_by_row_fit(opts, monkeypatch):
    lx, y = per_item(6_000, 30)
    big = fit_curve(lx, y, opts)
    row_by_row(monkeypatch)
    rows = fit_curve(lx, y, opts)
    for name in rows.params:
        assert big.params[name] == pytest.approx(rows.params[name], rel=1e-7), name
    assert big.rmse == pytest.approx(rows.rmse, rel=1e-9) and big.n_used == rows.n_used == 6_000


def test_weighted_and_lens_fits_are_the_row_by_row_fits(monkeypatch):
    lx, y = per_item(6_000, 30)
    sigma = np.where(lx > 10, 0.5, 1.0)
    exact_match = lambda p: p**2  # noqa: E731 (a lens: two steps must both succeed)
    big = fit_curve(lx, y, sigma=sigma), fit_curve(lx, y, through=exact_match)
    row_by_row(monkeypatch)
    rows = fit_curve(lx, y, sigma=sigma), fit_curve(lx, y, through=exact_match)
    for b, r in zip(big, rows, strict=True):
        assert b.params["midpoint"] == pytest.approx(r.params["midpoint"], rel=1e-7)
        assert b.params["slope"] == pytest.approx(r.params["slope"], rel=1e-7)
        assert b.rmse == pytest.approx(r.rmse, rel=1e-9)


def test_bootstrap_over_counts_matches_the_row_bootstrap(monkeypatch):
    lx, y = per_item(6_000, 30)
    fit = fit_curve(lx, y)
    big = bootstrap(lx, y, fit, FitOptions(), n=300)
    assert big.resample == 0 and not big.n_failed  # counts of 60 distinct rows: the exact bootstrap
    row_by_row(monkeypatch)
    rows = bootstrap(lx, y, fit, FitOptions(), n=300)
    for name in ("midpoint", "slope"):
        (a, b), (c, d) = big.interval(name), rows.interval(name)
        assert (b - a) == pytest.approx(d - c, rel=0.25), name


def test_large_per_item_table_recovers_the_curve_and_its_spread():
    lx, y = per_item(200_000, 40)
    result = fit_with_intervals(lx, y, n_bootstrap=300, scatter=True)
    assert math.log10(result.fit.params["midpoint"]) == pytest.approx(MID, abs=0.01)
    assert result.fit.params["slope"] == pytest.approx(SLOPE, rel=0.02)
    assert result.large_table == {"rows": 200_000, "scales": 40, "bootstrap_rows": 200_000,
                                  "scatter_rows": fitmod.RESAMPLE_ROWS}
    expected = sandwich_width(lx, y, result.fit)
    np.testing.assert_allclose(widths(result), expected, rtol=0.2)
    error = np.abs(result.fit.theta - [MID, SLOPE])
    assert (error < 4 * expected / 3.29).all()  # within four standard errors of the truth
    assert result.scatter["method"] == f"200-fold on {fitmod.RESAMPLE_ROWS} of 200000 rows"


def test_m_out_of_n_bootstrap_is_scaled_to_the_whole_table():
    lx, y = every_row_distinct(200_000)
    result = fit_with_intervals(lx, y, n_bootstrap=300)
    assert math.log10(result.fit.params["midpoint"]) == pytest.approx(MID, abs=0.01)
    assert result.fit.params["slope"] == pytest.approx(SLOPE, rel=0.02)
    assert result.large_table["bootstrap_rows"] == fitmod.RESAMPLE_ROWS
    # a refit on 5,000 rows is 6.3 times as uncertain as one on 200,000; the scaling undoes that
    np.testing.assert_allclose(widths(result), sandwich_width(lx, y, result.fit), rtol=0.2)


def test_cli_fit_of_a_large_table_then_a_cache_hit_without_parsing(tmp_path, monkeypatch):
    lx, y = per_item(200_000, 40)
    data = tmp_path / "items.csv"
    data.write_text("flops,correct\n" + "\n".join(f"{10 ** a:.6g},{b:g}" for a, b in zip(lx, y, strict=True)) + "\n")
    args = ["fit", data, "--x", "flops", "--y", "correct", "--bootstrap", "100"]
    first = invoke(*args)
    assert "200000 rows used" in first.output
    assert "# large table: fitted through the mean score at each of its 40 scales" in first.output
    assert "bootstrap resamples drawn as counts of its distinct rows" in first.output

    def no_parsing(*_args, **_kwargs):
        raise AssertionError("a cache hit parsed the data file")

    monkeypatch.setattr("capgraph.evidence.harness.read_table", no_parsing)
    assert invoke(*args).output == first.output
    hit = json.loads(invoke(*args, "--json").output)
    assert hit["large_table"] == {"rows": 200_000, "scales": 40, "bootstrap_rows": 200_000,
                                  "scatter_rows": fitmod.RESAMPLE_ROWS}
