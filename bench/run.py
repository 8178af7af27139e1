"""Benchmarks for `capgraph predict`: wall time and peak memory, and the naive approach side by side.

    python bench/run.py            # everything, a few minutes on a 2-core machine
    python bench/run.py --quick    # one run of each case
    python bench/run.py --yaml     # also the 100,000-node map as YAML

Cases (maps made by bench/generate.py into bench/out/, from fixed seeds):

1. 1,000 nodes, every curve family, rule and lens in equal shares, every skill parameter that can
   be a 90% range a range, 2,000 Monte Carlo samples.
2. 100,000 such nodes with point parameters, as JSON (the fast path), and with ``--yaml`` as YAML.
3. k-of-n at scale: "750 of 1,000" on a point map (one child; four children with the same
   curve), checked against the closed form; "15,000 of 20,000" with ranges and 2,000 samples (one
   child: the binomial tail; four children drawn apart: the refined normal approximation).
4. A 10,000-step chain over one ranged skill (issue 14: deep, narrow maps pay Python per level).
5. The straightforward approach on map 1, side by side: for each sample, evaluate each node by
   recursion over its children and find each crossing with scipy's ``brentq``, using capgraph's
   own parameter draws so both compute the same thing. It is run on a few samples and scaled to
   2,000 (its cost is linear in samples); its crossings are checked against capgraph's.

Times are medians of repeated runs of the real command line in a fresh process (start-up
included); memory is the peak resident set of that process (``wait4``'s ru_maxrss).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq
from scipy.special import betaincinv

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from generate import generate, write  # noqa: E402

import capgraph  # noqa: E402
from capgraph.engine.predict import MC_GRID_PER_DECADE, crossing_samples, grid, thresholded  # noqa: E402

OUT = HERE / "out"


#: Runs one command and reports it. A child's peak RSS counts the memory of the process it was
#: forked from (Linux keeps the larger at exec), so commands are started from this small process,
#: not from the benchmark, which holds the generated maps.
RUNNER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
      os.waitstatus_to_exitcode(status))
"""


def command(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Run ``capgraph ARGS`` in a fresh process: (wall seconds, CPU seconds, peak RSS in MiB).

    CPU time (user + system) is given beside wall time because on a shared machine a process
    also waits for a core: wall time then measures the neighbours as much as capgraph.
    """
    out = subprocess.run([sys.executable, "-c", RUNNER, sys.executable, "-m", "capgraph", *args],
                         capture_output=True, text=True, check=True,
                         env=None if env is None else {**os.environ, **env}).stdout.split()
    wall, cpu, rss, code = float(out[0]), float(out[1]), float(out[2]), int(out[3])
    if code != 0:
        raise SystemExit(f"capgraph {' '.join(args)} failed")
    return wall, cpu, rss / 1024


def measure(label: str, args: list[str], repeats: int, env: dict[str, str] | None = None) -> dict:
    runs = [command(args, env) for _ in range(repeats)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    rss = max(r[2] for r in runs)
    print(f"{label:48} median {wall:6.2f} s wall, {cpu:6.2f} s CPU  (wall: "
          f"{', '.join(f'{r[0]:.2f}' for r in runs)}; CPU: {', '.join(f'{r[1]:.2f}' for r in runs)})"
          f"  peak {rss:6.0f} MiB  (load average {os.getloadavg()[0]:.1f})", flush=True)
    return {"wall": wall, "cpu": cpu, "rss": rss}


# --- the straightforward approach --------------------------------------------------------------


def naive_crossings(cmap: capgraph.CapabilityMap, samples: int, seed: int, count: int) -> np.ndarray:
    """Per sample: recursive evaluation of every node and brentq for every crossing.

    The straightforward program: a node's value at a scale is its curve's (a skill) or its rule
    over its children's values, found by recursion (no caching), then its lens; each crossing is
    scipy's ``brentq`` on that function. Uses the sampled plan's parameter draws so that the
    answers can be compared one to one with the engine's.
    """
    plan = cmap.sampled_plan(samples, seed)
    params: dict[int, tuple[str, dict[str, np.ndarray]]] = {}
    for block in plan.levels[0].skills:
        for row, node in enumerate(block.nodes):
            params[int(node)] = (block.kind, {k: v[row] for k, v in block.params.items()})
    interpolants = {pts.node: PchipInterpolator(pts.log_xs, pts.ys, extrapolate=False)
                    for pts in plan.levels[0].points}
    bounds = {pts.node: (pts.log_xs[0], pts.log_xs[-1]) for pts in plan.levels[0].points}
    spec = cmap.spec
    lo, hi = cmap.log_range
    targets = thresholded(plan)
    out = np.full((len(targets), count), np.nan)
    for s in range(count):

        def value(node: int, log_x: float, s: int = s) -> float:
            name = plan.names[node]
            if node in params:
                kind, q = params[node]
                if kind == "logistic":
                    z = q["slope"][s] * (log_x - q["log_midpoint"][s])
                    p = q["floor"][s] + (q["ceiling"][s] - q["floor"][s]) / (1 + math.exp(-z))
                else:
                    p = math.exp(-(10 ** (-q["exponent"][s] * (log_x - q["log_scale"][s]))))
                metric = spec.skills[name].metric
            elif node in interpolants:
                p = float(interpolants[node](min(max(log_x, bounds[node][0]), bounds[node][1])))
                metric = spec.skills[name].metric
            else:
                cap = spec.capabilities[name]
                kids = [(value(plan.index[c], log_x), w) for c, w in sorted(cap.requires.items())]
                p = min(1.0, max(0.0, _combine(cap.combine, kids, cap.k)))
                metric = cap.metric
            return _lens(metric, p)

        for row, node in enumerate(targets):
            tau = plan.thresholds[node]

            def f(x: float, node: int = int(node), tau: float = tau) -> float:
                return value(node, x) - tau

            if f(lo) >= 0:
                out[row, s] = lo
            elif f(hi) >= 0:
                out[row, s] = brentq(f, lo, hi, xtol=1e-4)
    return out


def _lens(metric, p: float) -> float:
    if metric is None or metric.kind == "identity":
        return p
    if metric.kind == "exact_match":
        return p ** metric.exact_match.length
    if metric.kind == "multiple_choice":
        n = metric.multiple_choice.options
        return 1 / n + (1 - 1 / n) * p
    return 1 - (1 - p) ** metric.pass_at.k


def _combine(rule: str, kids: list[tuple[float, float]], k: int | None) -> float:
    if rule == "all":
        return math.prod(p**w for p, w in kids)
    if rule == "any":
        return 1 - math.prod((1 - p) ** w for p, w in kids)
    if rule == "mean":
        return sum(p * w for p, w in kids) / sum(w for _, w in kids)
    if rule == "geomean":
        total = sum(w for _, w in kids)
        return math.prod(p ** (w / total) for p, w in kids)
    if rule == "min":
        return min(p for p, _ in kids)
    trials = [p for p, w in kids for _ in range(int(w))]  # k_of_n by dynamic programming
    dist = [1.0] + [0.0] * len(trials)
    for p in trials:
        dist = [dist[j] * (1 - p) + (dist[j - 1] * p if j else 0.0) for j in range(len(dist))]
    return sum(dist[int(k or 1):])


def kofn_map(requires: dict[str, int], k: int, ranges: bool) -> dict:
    """A map of test cases: skills a–d (logistic, the same curve) and "at least k of them pass"."""
    midpoint = "3e9 to 3e10" if ranges else 1e10
    slope = "1.2 to 1.8" if ranges else 1.5
    return {
        "name": f"{k} of {sum(requires.values())}",
        "scale": {"axis": "params", "range": [1e6, 1e16]},
        "skills": {name: {"curve": {"logistic": {"midpoint": midpoint, "slope": slope}}} for name in "abcd"},
        "capabilities": {"cases": {"requires": requires, "combine": "k_of_n", "k": k, "threshold": 0.5}},
    }


def chain_map(steps: int) -> dict:
    """A chain of ``steps`` capabilities over one ranged skill, each needing the one below (issue 14)."""
    caps = {f"c{i}": {"requires": [f"c{i - 1}" if i > 1 else "s0"], "combine": "all"}
            for i in range(1, steps)}
    return {"name": f"{steps}-step chain", "scale": {"range": [1e6, 1e16]}, "threshold": 0.5,
            "skills": {"s0": {"curve": {"logistic": {"midpoint": {"p5": 1e9, "p95": 1e11},
                                                     "slope": {"p5": 1, "p95": 2}}}}},
            "capabilities": caps}


def kofn_error(path: Path) -> float:
    """Decades between capgraph's crossing of "750 of 1,000" and the closed form's."""
    (p,) = [p for p in capgraph.load(path).predict() if p.name == "cases"]
    u = float(betaincinv(750, 251, 0.5))  # the per-case rate where I_u(750, 251) = 1/2
    return abs(math.log10(p.crossing.params) - (10 + math.log(u / (1 - u)) / 1.5))


def main() -> None:
    parser = argparse.ArgumentParser(description="capgraph predict benchmarks")
    parser.add_argument("--quick", action="store_true", help="one run each instead of five")
    parser.add_argument("--naive-samples", type=int, default=5)
    parser.add_argument("--yaml", action="store_true", help="also the 100,000 nodes as YAML")
    args = parser.parse_args()
    repeats = 1 if args.quick else 5

    OUT.mkdir(exist_ok=True)
    small, big_json, big_yaml = OUT / "ranged_1k.json", OUT / "points_100k.json", OUT / "points_100k.yaml"
    write(generate(1000, seed=0, ranges=True), small)
    big = generate(100_000, seed=0)
    write(big, big_json)
    if args.yaml:
        write(big, big_yaml)
    kofn = {
        "750 of 1,000 (one child), points": (OUT / "k750.json", kofn_map({"a": 1000}, 750, False)),
        "750 of 1,000 (4 children, same curve), points":
            (OUT / "k750_4.json", kofn_map(dict.fromkeys("abcd", 250), 750, False)),
        "15,000 of 20,000 (one child), ranges": (OUT / "k15k.json", kofn_map({"a": 20000}, 15000, True)),
        "15,000 of 20,000 (4 children), ranges":
            (OUT / "k15k_4.json", kofn_map(dict.fromkeys("abcd", 5000), 15000, True)),
    }
    for path, data in kofn.values():
        write(data, path)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores", flush=True)

    mc = measure("1k nodes, ranges, 2000 samples (predict --json)",
                 ["predict", str(small), "--json", "--samples", "2000"], repeats)
    measure("  the same on one thread (CAPGRAPH_THREADS=1)",
            ["predict", str(small), "--json", "--samples", "2000"], repeats, {"CAPGRAPH_THREADS": "1"})
    measure("100k nodes, points, JSON (predict --json)", ["predict", str(big_json), "--json"], repeats)
    if args.yaml:
        measure("100k nodes, points, YAML (predict --json)", ["predict", str(big_yaml), "--json"],
                max(1, repeats // 2))
    for label, (path, _) in kofn.items():
        measure(label, ["predict", str(path), "--json", "--samples", "2000"], repeats)
    chain = OUT / "chain_10k.json"
    write(chain_map(10_000), chain)
    measure("10,000-step chain, ranges, 2000 samples", ["predict", str(chain), "--json"],
            max(1, repeats // 2))
    for label in list(kofn)[:2]:
        print(f"  {label}: crossing {kofn_error(kofn[label][0]):.1e} decades from the closed form")

    cmap = capgraph.load(small)
    count = args.naive_samples
    start, start_cpu = time.perf_counter(), time.process_time()
    naive = naive_crossings(cmap, 2000, 0, count)
    per_sample = (time.perf_counter() - start) / count
    per_sample_cpu = (time.process_time() - start_cpu) / count
    plan = cmap.sampled_plan(2000, 0)
    ours = crossing_samples(plan, grid(*cmap.log_range, MC_GRID_PER_DECADE), 2000)[:, :count]
    both = ~np.isnan(naive) & ~np.isnan(ours)
    agree = np.nanmax(np.abs(naive[both] - ours[both])) if both.any() else float("nan")
    same_never = bool(np.array_equal(np.isnan(naive), np.isnan(ours)))
    print(f"naive recursion + brentq: {per_sample:.2f} s wall, {per_sample_cpu:.2f} s CPU a sample over "
          f"{count} samples → {per_sample * 2000:.0f} s wall, {per_sample_cpu * 2000:.0f} s CPU for 2000 "
          f"(linear in samples)")
    print(f"  largest difference from capgraph's crossings: {agree:.4f} decades; "
          f"same never-crossing samples: {same_never}")
    print(f"speed-up of capgraph predict (whole command) over the naive approach: "
          f"{per_sample * 2000 / mc['wall']:.0f}x in wall time, "
          f"{per_sample_cpu * 2000 / mc['cpu']:.0f}x in CPU time")


if __name__ == "__main__":
    main()
