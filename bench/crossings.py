"""CPU time of reading crossings and sharpness off Monte Carlo slices, two ways side by side.

    python bench/crossings.py                 # the 1,000-node ranged map of bench/run.py, 3 rounds
    python bench/crossings.py MAP --rounds 5 --samples 2000 --slice 41

Each slice of samples is evaluated once (not timed), then its curves are read by both ways in
turn, alternating which goes first, ``rounds`` times each; CPU times (``time.process_time``) are
summed over the slices per round and their medians reported, with the largest differences between
the two answers: per draw, and in the per-node medians and percentiles that ``predict`` reports.

- ``precise``: the per-level path a slice took before (``first_crossing`` for the threshold and
  ``sharpness`` with 8 Newton steps, each level bracketed and refined on its own; the point
  estimates still take it);
- ``fused``: :func:`capgraph.engine.predict._read_slice` (all levels at once,
  :mod:`capgraph.engine.mc_crossings`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from generate import generate, write  # noqa: E402

import capgraph  # noqa: E402
from capgraph.engine.plan import evaluate  # noqa: E402
from capgraph.engine.predict import (  # noqa: E402
    BATCH_ROWS,
    MC_GRID_PER_DECADE,
    _read_slice,
    first_crossing,
    grid,
    sharpness,
    thresholded,
)


def precise(log_x, values, thresholds, nodes, s0, out, extras):
    """The batch loop of a Monte Carlo slice before the fused reading (commit 9ad61d0)."""
    width = values.shape[1]
    per_batch = max(1, BATCH_ROWS // width)
    for n0 in range(0, len(nodes), per_batch):
        batch = nodes[n0:n0 + per_batch]
        rows = values[batch].reshape(len(batch) * width, -1)
        level = np.repeat(thresholds[batch], width)
        found = first_crossing(log_x, rows, level, steps=8).log_x
        cells = (slice(n0, n0 + len(batch)), slice(s0, s0 + width))
        shape = (len(batch), width)
        out[cells] = found.reshape(shape)
        extras["start"][cells] = rows[:, 0].reshape(shape)
        extras["end"][cells] = rows[:, -1].reshape(shape)
        extras["top"][cells] = rows.max(axis=1).reshape(shape)
        extras["sharp"][cells] = sharpness(log_x, rows, steps=8).reshape(shape)


WAYS = {"precise": precise, "fused": _read_slice}


def worst(x: np.ndarray, y: np.ndarray) -> float:
    """The largest difference between two arrays (inf if they disagree on which entries are nan)."""
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        return float("inf")
    return float(np.nanmax(np.abs(x - y), initial=0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("map", nargs="?", help="a ranged map (default: bench/out/ranged_1000.json)")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--slice", type=int, default=41, help="samples a slice (a 1,000-node pass uses 41)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = args.map
    if path is None:
        path = HERE / "out" / "ranged_1000.json"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            write(generate(1000, ranges=True), path)
    cmap = capgraph.load(path)
    plan = cmap.sampled_plan(args.samples, 0)
    log_x = grid(*cmap.log_range, MC_GRID_PER_DECADE)
    nodes = thresholded(plan)
    shape = (len(nodes), plan.samples)
    keys = ("start", "end", "top", "sharp")
    results = {way: (np.full(shape, np.nan), {k: np.full(shape, np.nan) for k in keys}) for way in WAYS}
    cpu = {way: [0.0] * args.rounds for way in WAYS}
    for s0 in range(0, plan.samples, args.slice):
        s1 = min(plan.samples, s0 + args.slice)
        values = evaluate(plan, log_x, slice(s0, s1), dtype=np.float32)
        for r in range(args.rounds):
            for way in (WAYS if r % 2 == 0 else reversed(WAYS)):
                out, extras = results[way]
                start = time.process_time()
                WAYS[way](log_x, values, plan.thresholds, nodes, s0, out, extras)
                cpu[way][r] += time.process_time() - start
    print(f"{path}: {len(nodes)} thresholded nodes × {plan.samples} samples, {log_x.size} grid points, "
          f"slices of {args.slice}")
    for way, times in cpu.items():
        rounds = ", ".join(f"{t:.3f}" for t in times)
        print(f"  {way:8} CPU {statistics.median(times):.3f} s (rounds: {rounds})")
    print(f"  ratio {statistics.median(cpu['precise']) / statistics.median(cpu['fused']):.2f}x")
    (a, ea), (b, eb) = results.values()
    values_gap = max(worst(ea[k], eb[k]) for k in ("start", "end", "top"))
    print(f"  largest difference of a draw: crossing {worst(a, b):.2e}, sharpness "
          f"{worst(ea['sharp'], eb['sharp']):.2e} decades; start, end and largest values {values_gap:.1e}")
    # the Monte Carlo summaries `predict` reports: percentiles with never as beyond the range, and
    # the median sharpness of the draws that rise
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nodes none of whose draws rise
        quantiles = [np.percentile(np.where(np.isnan(x), np.inf, x), [5, 50, 95], axis=1) for x in (a, b)]
        gap = np.abs(quantiles[0] - quantiles[1])
        medians = [np.nanmedian(e["sharp"], axis=1) for e in (ea, eb)]
    gap[np.isnan(gap)] = 0.0  # both beyond the range
    print(f"  largest difference of a node's p5, p50 or p95 crossing: {gap.max():.2e} decades; "
          f"of its median sharpness: {worst(*medians):.2e}")


if __name__ == "__main__":
    main()
