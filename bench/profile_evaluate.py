"""CPU time of each block kind in the evaluation of Monte Carlo slices, as ``predict`` runs them.

    python bench/generate.py 1000 --ranges -o /tmp/m1k.json
    python bench/profile_evaluate.py /tmp/m1k.json            # 2,000 samples, slices of 41
    python bench/profile_evaluate.py /tmp/m1k.json --json t.json

The map is compiled with ``--samples`` draws and evaluated in float32, slice by slice, on the
Monte Carlo grid, as :func:`capgraph.engine.predict.crossing_samples` does on one thread. The loop
below is a copy of :func:`capgraph.engine.plan.evaluate`'s with a clock around each block, so
it has to follow that function when it changes: its output is checked against ``evaluate``'s,
value for value. Each kind's CPU time (``time.process_time``) is summed over the slices, with
the nanoseconds per value it writes; ``evaluate`` itself, unclocked, is timed on the same slices.
Medians over ``--rounds``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import capgraph
from capgraph.engine import lensing
from capgraph.engine import plan as engine
from capgraph.engine.predict import CACHE_FLOATS, GRID_PER_DECADE, MC_GRID_PER_DECADE, MIN_SLICE, grid
from capgraph.kernels.curves import FAMILIES


def clocked(plan, log_x, rows, dtype, out, times, counts):
    """:func:`evaluate`'s loop, adding each block's CPU time to ``times[kind]``."""
    clock = time.process_time
    shape = out.shape
    values = out
    at = plan.coord(log_x) if plan.coord else log_x
    x = at.astype(dtype)[None, None, :]
    per_node = shape[1] * shape[2]
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        for level in plan.levels:
            for block in level.skills:
                t = clock()
                q = {k: v[:, rows, None].astype(dtype, copy=False) for k, v in block.params.items()}
                values[block.nodes] = FAMILIES[block.kind].kernel(x, **q)
                times[block.kind] += clock() - t
                counts[block.kind] += len(block.nodes) * per_node
            for kind, nodes, log_xs, ys in level.tables:
                t = clock()
                values[nodes] = FAMILIES[kind].kernel(at, log_xs, ys)[:, None, :].astype(dtype, copy=False)
                times[kind] += clock() - t
                counts[kind] += len(nodes) * per_node
            for block in level.rules:
                t = clock()
                if block.copies is not None:
                    values[block.nodes] = values[block.copies]
                    times["copies"] += clock() - t
                    counts["copies"] += len(block.nodes) * per_node
                    continue
                result = engine._apply_rule(block, values)
                np.minimum(result, 1.0, out=result)
                values[block.nodes] = np.maximum(result, 0.0, out=result)
                times[block.rule] += clock() - t
                counts[block.rule] += len(block.nodes) * per_node
            for lens in level.lenses:
                t = clock()
                lensing.apply(lens.kind, values, lens.nodes, lens.param[:, 0, 0])
                times["lens " + lens.kind] += clock() - t
                counts["lens " + lens.kind] += len(lens.nodes) * per_node
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("map", type=Path)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--point", action="store_true",
                        help="the point-estimate pass instead: float64, one sample, the fine grid")
    parser.add_argument("--json", type=Path, help="write the medians here as JSON")
    args = parser.parse_args()

    cmap = capgraph.load(args.map)
    if args.point:  # as point_estimates evaluates
        plan, dtype = cmap.plan, np.dtype(np.float64)
        log_x = grid(*cmap.log_range, GRID_PER_DECADE)
        step = 1
    else:
        plan, dtype = cmap.sampled_plan(args.samples, args.seed), np.dtype(np.float32)
        log_x = grid(*cmap.log_range, MC_GRID_PER_DECADE)
        step = max(MIN_SLICE, CACHE_FLOATS // (len(plan) * log_x.size))  # as crossing_samples slices
    slices = [slice(s0, min(plan.samples, s0 + step)) for s0 in range(0, plan.samples, step)]
    buffer = np.empty(len(plan) * step * log_x.size, dtype=dtype)
    check = np.empty_like(buffer)

    rounds: list[dict[str, float]] = []
    counts: dict[str, int] = defaultdict(int)
    for r in range(args.rounds):
        times: dict[str, float] = defaultdict(float)
        counts.clear()
        total = 0.0
        for rows in slices:
            shape = (len(plan), rows.stop - rows.start, log_x.size)
            out = buffer[:np.prod(shape)].reshape(shape)
            clocked(plan, log_x, rows, dtype, out, times, counts)
            t = time.process_time()
            real = engine.evaluate(plan, log_x, rows, dtype=dtype, out=check)
            total += time.process_time() - t
            if r == 0 and not np.array_equal(real, out, equal_nan=True):
                raise SystemExit(f"the clocked copy differs from evaluate on samples {rows}: update it")
        times["evaluate"] = total
        rounds.append(dict(times))
    medians = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    counts["evaluate"] = len(plan) * plan.samples * log_x.size
    print(f"{args.map.name}: {len(plan)} nodes, {plan.samples} samples in slices of {step}, "
          f"{log_x.size} points, medians of {args.rounds} rounds")
    print(f"{'kind':<22}{'CPU s':>8}{'ns/value':>10}")
    for kind, t in sorted(medians.items(), key=lambda kv: -kv[1]):
        print(f"{kind:<22}{t:8.3f}{1e9 * t / max(1, counts[kind]):10.2f}")
    print(f"{'sum of blocks':<22}{sum(t for k, t in medians.items() if k != 'evaluate'):8.3f}")
    if args.json:
        args.json.write_text(json.dumps({"seconds": medians, "values": dict(counts)}, indent=1))


if __name__ == "__main__":
    main()
