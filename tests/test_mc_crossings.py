"""The Monte Carlo reading of crossings and sharpness (engine/mc_crossings) against closed forms and
against the precise per-level path of engine/predict it replaces in a Monte Carlo pass."""

import math

import numpy as np
import pytest

import capgraph
from capgraph.engine import mc_crossings
from capgraph.engine.plan import evaluate
from capgraph.engine.predict import MC_GRID_PER_DECADE, _refine, first_crossing, grid, sharpness

PRECISION = 1e-3  # decades, the contract of `predict`


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def logit(p):
    return np.log(p / (1 - p))


def precise(log_x, rows, thresholds):
    """What a Monte Carlo slice computed before: each level bracketed and refined on its own."""
    return (first_crossing(log_x, rows, thresholds, steps=8).log_x, sharpness(log_x, rows, steps=8),
            rows[:, 0], rows[:, -1], rows.max(axis=1))


def test_logistic_curves_cross_where_the_closed_form_says():
    # in logit space a logistic is a straight line, so its crossing of any level is in closed form:
    # log10 x* = midpoint + logit(level) / slope, at the threshold and at 10% and 90% of the rise
    rng = np.random.default_rng(3)
    log_x = grid(4.0, 18.0, MC_GRID_PER_DECADE)
    mids, slopes = rng.uniform(7, 15, 500), rng.uniform(0.3, 8, 500)
    thresholds = rng.uniform(0.05, 0.95, 500)
    rows = sigmoid(slopes[:, None] * (log_x - mids[:, None])).astype(np.float32)
    read = mc_crossings.read_curves(log_x, rows, thresholds)
    start, end = rows[:, 0].astype(float), rows[:, -1].astype(float)
    inside = (thresholds > start) & (thresholds <= end)
    expected = mids + logit(thresholds) / slopes
    np.testing.assert_allclose(read.crossing[inside], expected[inside], atol=1e-5)
    assert np.isnan(read.crossing[thresholds > end]).all()
    np.testing.assert_array_equal(read.crossing[thresholds <= start], log_x[0])
    low, high = (logit(start + q * (end - start)) / slopes for q in (0.1, 0.9))
    np.testing.assert_allclose(read.sharp, high - low, atol=1e-5)
    wide = (start < 1e-6) & (end > 1 - 1e-6)  # the whole rise in range: 2·ln 9 / slope
    assert wide.sum() > 100
    np.testing.assert_allclose(read.sharp[wide], 2 * math.log(9) / slopes[wide], atol=1e-4)
    np.testing.assert_array_equal(read.top, end)
    np.testing.assert_array_equal(read.start, start)


def ranged_map():
    return capgraph.loads("""
scale: {range: [1e4, 1e18]}
correlation: 0.3
skills:
  a: {curve: {logistic: {midpoint: 3e9 to 3e11, slope: 0.8 to 3}}}
  b: {curve: {logistic: {midpoint: 1e10 to 1e12, slope: 0.5 to 2, ceiling: 0.8 to 0.95}}}
  c: {curve: {power_law: {scale: 1e8 to 1e10, exponent: 0.2 to 0.5}}}
capabilities:
  chain: {requires: {a: 8, b: 2}, threshold: 0.3}
  either: {requires: {a: 2, c: 3}, combine: any, metric: {exact_match: {length: 5}}, threshold: 0.6}
  floor: {requires: [a, b, c], combine: min, metric: {pass_at: {k: 4}}, threshold: 0.5}
  most: {requires: {a: 2, b: 2, c: 2}, combine: k_of_n, k: 4, threshold: 0.4}
  mean: {requires: [chain, either], combine: mean, metric: {multiple_choice: {options: 4}}, threshold: 0.7}
""")


def test_sampled_composites_read_as_the_precise_path_reads_them():
    m = ranged_map()
    plan = m.sampled_plan(400, 7)
    log_x = grid(*m.log_range, MC_GRID_PER_DECADE)
    values = evaluate(plan, log_x, dtype=np.float32)
    rows = values.reshape(-1, log_x.size)
    thresholds = np.repeat(np.nan_to_num(plan.thresholds, nan=0.5), plan.samples)
    read = mc_crossings.read_curves(log_x, rows, thresholds)
    crossing, sharp, start, end, top = precise(log_x, rows, thresholds)
    assert np.array_equal(np.isnan(read.crossing), np.isnan(crossing))
    assert np.isfinite(crossing).sum() > rows.shape[0] // 2
    np.testing.assert_allclose(read.crossing, crossing, atol=1e-4)
    np.testing.assert_allclose(read.sharp, sharp, atol=1e-4)
    for got, want in zip(read[2:], (start, end, top), strict=True):
        np.testing.assert_array_equal(got, want)
    # the medians a prediction reports agree far more closely than the contract asks
    by_node = (read.sharp.reshape(len(plan), -1), sharp.reshape(len(plan), -1))
    with np.errstate(all="ignore"):
        gap = np.abs(np.nanmedian(by_node[0], axis=1) - np.nanmedian(by_node[1], axis=1))
    assert np.nanmax(gap) < PRECISION / 100


def test_curves_that_fall_are_read_at_their_first_crossing():
    # a bump above the level before a dip and a second rise: the first crossing is on the bump,
    # which binary search over the curve would miss; so is the top, which is not at the end
    log_x = grid(0.0, 6.0, MC_GRID_PER_DECADE)
    bump = 0.6 * np.exp(-((log_x - 1.5) / 0.3) ** 2)
    rise = sigmoid(3 * (log_x - 4.5))
    rows = np.stack([np.maximum(bump, rise), rise, np.maximum(bump, rise)]).astype(np.float32)
    rows[2, 40] = np.nan  # nan is read as the precise path reads it: never at or above a level
    thresholds = np.array([0.5, 0.5, 0.5])
    read = mc_crossings.read_curves(log_x, rows, thresholds)
    crossing, sharp, _, _, top = precise(log_x, rows, thresholds)
    assert read.crossing[0] < 1.5 and read.crossing[1] > 4
    np.testing.assert_allclose(read.crossing, crossing, atol=1e-6)
    np.testing.assert_allclose(read.sharp, sharp, atol=1e-6)
    np.testing.assert_array_equal(read.top, top)


def test_refine_agrees_with_the_precise_refine_in_every_kind_of_cell():
    # random cells: nearly straight, bent (Newton cannot be trusted, bisection), at both ends of
    # the grid (one-sided slopes), flat at the clip
    rng = np.random.default_rng(11)
    count, n = 20_000, 12
    z = np.cumsum(rng.normal(0.4, 0.6, (count, n)), axis=1) - 3
    values = sigmoid(z).astype(np.float32)
    values[::50] = np.clip(values[::50], 0, 0.999)
    values[::97, -3:] = 1.0
    lo = rng.integers(0, n - 1, count)
    lo[:300] = 0
    lo[300:600] = n - 2
    rows = np.arange(count)
    a, b = values[rows, lo].astype(float), values[rows, lo + 1].astype(float)
    ok = b > a
    rows, lo, a, b = rows[ok], lo[ok], a[ok], b[ok]
    level = a + rng.uniform(0.01, 1, a.size) * (b - a)
    ours = mc_crossings.refine(values, rows * n + lo, lo, level)
    theirs = _refine(values, rows, lo, level, 32)
    rise = logit(np.clip(b, 1e-15, 1 - 1e-15)) - logit(np.clip(a, 1e-15, 1 - 1e-15))
    steep = rise > 1e-3  # where the float32 logits resolve the cell
    assert steep.mean() > 0.9
    np.testing.assert_allclose(ours[steep], theirs[steep], atol=1e-4)
    assert ((ours >= 0) & (ours <= 1)).all()


def test_newton_that_creeps_back_from_the_cell_end_is_finished_by_bisection():
    # the cell of test_predict's test of the same name: Newton gives up, bisection agrees with the
    # precise path, in float64 and in float32 (where the last point rounds to 1, a different cell)
    z = np.array([[-4.38466358, -4.29751443, 0.66419662, 34.25189392]])
    level = np.array([sigmoid(-4.025511547621496)])
    for values in (sigmoid(z), sigmoid(z).astype(np.float32)):
        t = mc_crossings.refine(values, np.array([1]), np.array([1]), level)
        assert float(t[0]) == pytest.approx(float(_refine(values, np.array([0]), np.array([1]), level, 32)[0]),
                                            abs=1e-6)
    assert float(mc_crossings.refine(sigmoid(z), np.array([1]), np.array([1]), level)[0]) == pytest.approx(
        0.41632, abs=1e-5)


def test_levels_between_float32_values_keep_their_place():
    # 10% and 90% of a rise of 1e-8 lie between float32 neighbours of 0.5: the levels stay float64
    log_x = np.linspace(0.0, 1.0, 17)
    rows = (0.5 + np.linspace(0, 4, 17)[None] * 2.0 ** -24).astype(np.float32)
    read = mc_crossings.read_curves(log_x, rows, np.array([0.5]))
    np.testing.assert_allclose(read.sharp, sharpness(log_x, rows), atol=1e-6)


@pytest.mark.parametrize("n", [2, 5, 16, 97, 2100])  # no coarse pass, the first with one, long grids
def test_grids_of_any_length_and_curves_of_any_shape(n):
    rng = np.random.default_rng(n)
    log_x = np.linspace(3, 3 + (n - 1) / MC_GRID_PER_DECADE, n)
    z = np.cumsum(rng.normal(0.3, 2.0, (300, n)), axis=1) - rng.uniform(0, 10, (300, 1))
    rows = sigmoid(z).astype(np.float32)  # most fall somewhere
    rows[::3] = np.maximum.accumulate(rows[::3], axis=1)  # these never do
    rows[::11] = rows[::11, :1]  # flat
    thresholds = rng.uniform(0.01, 0.99, 300)
    read = mc_crossings.read_curves(log_x, rows, thresholds)
    crossing, sharp, _, _, top = precise(log_x, rows, thresholds)
    np.testing.assert_allclose(read.crossing, crossing, atol=1e-4)
    np.testing.assert_allclose(read.sharp, sharp, atol=1e-4)
    np.testing.assert_array_equal(read.top, top)
    only = mc_crossings.crossings(log_x, rows, thresholds[None])[0]  # one level: the same answer
    np.testing.assert_array_equal(only, read.crossing)
