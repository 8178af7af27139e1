"""Start-up: what `capgraph --help` and a small `predict` import (timings live in bench/startup.py)."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from capgraph.engine.weights import MAX_SLOTS, Slots, weight_matrix

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
                           "capgraph.engine.plan", "capgraph.format.schema", "rich.progress",
                           "numpy.random", "numpy.ma")
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
    assert "numpy.random" not in heavy and "numpy.ma" not in heavy  # a point map draws nothing
    assert {"numpy", "pydantic", "capgraph.engine.plan"} <= set(heavy)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("degrees", ["three each", "mixed, unsorted", "beyond the slots"])
def test_slots_match_scipy(dtype, degrees):
    rng = np.random.default_rng(3)
    parents, kids = 40, 60
    per_row = {"three each": [3] * parents, "mixed, unsorted": rng.integers(1, 6, parents),
               "beyond the slots": [1] * (parents - 2) + [MAX_SLOTS + 5, 2 * MAX_SLOTS]}[degrees]
    rows = np.repeat(np.arange(parents), per_row)
    cols = np.concatenate([rng.choice(kids, d, replace=False) for d in per_row])
    weights = rng.uniform(0.1, 10, rows.size)
    x = rng.uniform(0, 1, (kids, 500)).astype(dtype)
    x[5] = 0.0  # log 0 = −inf: a dense matrix would make 0·(−inf) = nan in every other row
    with np.errstate(divide="ignore"):
        logs = np.log(x)
    ours = Slots(rows, cols, weights, (parents, kids)).astype(dtype) @ logs
    theirs = sp.csr_matrix((weights, (rows, cols)), shape=(parents, kids)).astype(dtype) @ logs
    assert ours.dtype == theirs.dtype
    # the same edges; the order of the additions may differ from scipy's in the last bits
    np.testing.assert_allclose(ours, theirs, rtol=64 * np.finfo(dtype).eps)
    assert np.isneginf(ours[np.isneginf(theirs)]).all() and not np.isnan(ours).any()


def test_slots_give_the_edges_and_skip_unit_weights():
    small = weight_matrix([1, 0], [0, 1], [2.0, 3.0], (2, 2))
    coo, reference = small.tocoo(), sp.coo_matrix(([2.0, 3.0], ([1, 0], [0, 1])), shape=(2, 2))
    edges = sorted(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    assert edges == sorted(zip(reference.row.tolist(), reference.col.tolist(), reference.data.tolist(),
                               strict=True))
    chain = Slots(np.array([0, 1, 2]), np.array([4, 0, 5]), np.ones(3), (3, 6))
    assert [w for _, w in chain.terms] == [None]  # counts of 1: a gather, no multiply
    x = np.arange(12.0).reshape(6, 2)
    assert (chain @ x).tolist() == x[[4, 0, 5]].tolist()
    with pytest.raises(ValueError, match="at least one edge"):
        Slots(np.array([0]), np.array([0]), np.ones(1), (2, 2))
