"""`capgraph fit` on a million-row CSV: a fresh fit and a cache hit, optionally beside another tree.

Two tables, written once to ``--dir`` from a fixed seed (a logistic with midpoint 1e10 and slope
3.45 logits a decade): ``per_item.csv`` has 1,000,000 rows at 50 scales, each a score out of 100
items; ``distinct.csv`` has 1,000,000 rows at scales drawn uniformly over four decades (about
820,000 distinct after rounding to six digits). Each case runs the real command line in a fresh
process with a fresh fit cache (the hit: the same command again), ``--runs`` times, interleaved
with ``--base`` (a checkout of another commit, put first on ``PYTHONPATH``) when given; the report
gives median wall and CPU time (user + system) and the largest peak resident memory. Run from the
repository root:

    python bench/fit_large.py --runs 3
    python bench/fit_large.py --runs 3 --base ../main-copy --bootstrap 20   # main refits every row
    python bench/fit_large.py --runs 3 --backtest    # capgraph backtest --cutoff 1e10 instead of fit

With ``--backtest`` each case is ``capgraph backtest TABLE --x flops --y score --cutoff 1e10`` (half
the rows on each side; no cache, so no cache hit).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ROWS = 1_000_000


def write_tables(folder: Path) -> dict[str, Path]:
    """The two tables (kept between runs: writing them takes a few seconds)."""
    rng = np.random.default_rng(1)
    shapes = {"per_item": np.repeat(np.linspace(8, 12, 50), ROWS // 50),
              "distinct": np.sort(rng.uniform(8, 12, ROWS))}
    paths = {}
    for name, lx in shapes.items():
        path = paths[name] = folder / f"{name}.csv"
        if path.exists():
            continue
        score = rng.binomial(100, 1 / (1 + np.exp(-3.4538776 * (lx - 10)))) / 100
        rows = (f"{10 ** a:.6g},{b:.2f}\n" for a, b in zip(lx, score, strict=True))
        path.write_text("flops,score\n" + "".join(rows))
    return paths


def run_once(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """Wall and CPU seconds and peak memory (MiB) of one run of ``command``, which must succeed.

    ``cwd`` must hold no ``capgraph`` folder: ``python -m`` looks there before ``PYTHONPATH``.
    """
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
    _, status, usage = os.wait4(child.pid, 0)  # this child's own usage, not every child's so far
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} exited {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss is in KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "capgraph-fit-bench")
    parser.add_argument("--base", type=Path, help="another checkout to time beside this one")
    parser.add_argument("--bootstrap", type=int, default=1000, help="refits (default 1000)")
    parser.add_argument("--backtest", action="store_true", help="time backtest --cutoff 1e10, not fit")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    tables = write_tables(args.dir)
    trees = {"this tree": ROOT, **({"base": args.base.resolve()} if args.base else {})}
    times: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for _ in range(args.runs):
        for table, path in tables.items():
            for tree, where in trees.items():
                cache = args.dir / "cache"
                shutil.rmtree(cache, ignore_errors=True)
                env = {**os.environ, "CAPGRAPH_CACHE_DIR": str(cache), "PYTHONPATH": str(where)}
                command = [sys.executable, "-m", "capgraph", "fit", str(path), "--x", "flops",
                           "--y", "score", "--bootstrap", str(args.bootstrap)]
                cases = ("fit", "cache hit")
                if args.backtest:
                    command[3:4], cases = ["backtest"], ("backtest",)
                    command += ["--cutoff", "1e10"]
                for case in cases:
                    times.setdefault((f"{table}, {case}", tree), []).append(run_once(command, env, args.dir))
    print("| case | tree | median wall | median CPU | peak memory | runs |\n|---|---|---|---|---|---|")
    for (case, tree), runs in times.items():
        walls, cpus, peaks = zip(*runs, strict=True)
        print(f"| {case} | {tree} | {statistics.median(walls):.2f} s | {statistics.median(cpus):.2f} s "
              f"| {max(peaks):.0f} MiB | {len(runs)} |")


if __name__ == "__main__":
    main()
