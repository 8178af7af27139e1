"""Start-up: what `capgraph --help` and a small `predict` import (timings live in bench/startup.py)."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from capgraph.engine.weights import SMALL_BLOCK, RowSums, weight_matrix

from .conftest import ROOT

PROBE = """
import sys
from capgraph.cli.app import app, main
sys.argv = ["capgraph", *{args!r}]
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in ("numpy", "scipy", "matplotlib", "pygraphviz", "pydantic", "networkx",
                           "capgraph.engine.plan", "capgraph.format.schema", "rich.progress")
               if m in sys.modules)
print("heavy:" + ",".join(heavy), file=sys.stderr)
"""


def imported(*args: str) -> list[str]:
    """The heavy modules a command has imported when it finishes."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=list(args))], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("heavy:"), done.stderr
    return [m for m in line.removeprefix("heavy:").split(",") if m]


def test_help_imports_nothing_heavy():
    assert imported("--help") == []


def test_a_small_predict_needs_neither_scipy_nor_the_pictures():
    heavy = imported("predict", "graphs/ten_step_reasoning.yaml")
    assert "scipy" not in heavy and "matplotlib" not in heavy and "pygraphviz" not in heavy
    assert "rich.progress" not in heavy  # only a slow run on a terminal shows a bar
    assert {"numpy", "pydantic", "capgraph.engine.plan"} <= set(heavy)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_sums_match_scipy(dtype):
    rng = np.random.default_rng(3)
    parents, kids = 40, 60
    rows = np.repeat(np.arange(parents), 3)
    cols = np.concatenate([rng.choice(kids, 3, replace=False) for _ in range(parents)])
    weights = rng.uniform(0.1, 10, rows.size)
    x = rng.uniform(0, 1, (kids, 500)).astype(dtype)
    x[5] = 0.0  # log 0 = −inf: a dense matrix would make 0·(−inf) = nan in every other row
    with np.errstate(divide="ignore"):
        logs = np.log(x)
    ours = RowSums(rows, cols, weights, (parents, kids)).astype(dtype) @ logs
    theirs = sp.csr_matrix((weights, (rows, cols)), shape=(parents, kids)).astype(dtype) @ logs
    assert ours.dtype == theirs.dtype
    # the same sums in the same order; scipy's compiled loop may fuse multiply and add (FMA)
    np.testing.assert_allclose(ours, theirs, rtol=4 * np.finfo(dtype).eps)
    assert np.isneginf(ours[np.isneginf(theirs)]).all() and not np.isnan(ours).any()


def test_one_edge_per_row_is_exactly_the_summed_path():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (6, 300)).astype(np.float32)
    chain = RowSums(np.array([2, 0, 1]), np.array([4, 0, 5]), np.array([1.0, 0.5, 2.0]), (3, 6))
    assert chain.one_each
    summed = chain.astype(np.float32)
    summed.one_each = False  # force the reduceat path
    assert np.array_equal(chain.astype(np.float32) @ x, summed @ x)
    assert not RowSums(np.array([0, 0]), np.array([0, 1]), np.ones(2), (2, 2)).one_each


def test_large_blocks_use_scipy():
    n = SMALL_BLOCK + 1
    big = weight_matrix(list(range(n)), list(range(n)), [1.0] * n, (n, n))
    assert sp.issparse(big)
    small = weight_matrix([1, 0], [0, 1], [2.0, 3.0], (2, 2))
    assert isinstance(small, RowSums)
    coo, reference = small.tocoo(), sp.coo_matrix(([2.0, 3.0], ([1, 0], [0, 1])), shape=(2, 2))
    edges = sorted(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    assert edges == sorted(zip(reference.row.tolist(), reference.col.tolist(), reference.data.tolist(),
                               strict=True))
