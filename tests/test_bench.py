"""The benchmark's map generator and its naive baseline: an independent check of the engine."""

import sys
from collections import defaultdict

import numpy as np
import pytest

import capgraph
from capgraph.engine.plan import evaluate
from capgraph.engine.predict import MC_GRID_PER_DECADE, crossing_samples, grid

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from generate import generate, write  # noqa: E402
from profile_evaluate import clocked  # noqa: E402
from run import naive_crossings  # noqa: E402


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_generated_maps_are_valid_and_reproducible(tmp_path, suffix):
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    write(generate(300, seed=4, ranges=True), a)
    write(generate(300, seed=4, ranges=True), b)
    assert a.read_bytes() == b.read_bytes()
    cmap = capgraph.load(a)
    assert len(cmap.nodes) == 300 and cmap.uncertain
    assert cmap.predict(samples=50)


def test_naive_recursion_and_brentq_agree_with_the_engine(tmp_path):
    path = tmp_path / "m.json"
    write(generate(120, seed=1, ranges=True), path)
    cmap = capgraph.load(path)
    naive = naive_crossings(cmap, 200, 0, 3)
    ours = crossing_samples(cmap.sampled_plan(200, 0), grid(*cmap.log_range, MC_GRID_PER_DECADE), 200)[:, :3]
    assert np.array_equal(np.isnan(naive), np.isnan(ours))
    both = ~np.isnan(naive)
    assert np.max(np.abs(naive[both] - ours[both])) < 5e-3  # decades, on the Monte Carlo grid


def test_the_profilers_clocked_loop_is_evaluates():
    cmap = capgraph.loads(generate(300, seed=5, ranges=True))
    plan = cmap.sampled_plan(20, 0)
    log_x = grid(*cmap.log_range, MC_GRID_PER_DECADE)
    times, counts = defaultdict(float), defaultdict(int)
    out = np.empty((len(plan), 7, log_x.size), dtype=np.float32)
    clocked(plan, log_x, slice(3, 10), np.float32, out, times, counts)
    expected = evaluate(plan, log_x, slice(3, 10), dtype=np.float32)
    assert out.tobytes() == expected.tobytes()
    assert {"k_of_n", "lens exact_match", "logistic"} <= set(times)
