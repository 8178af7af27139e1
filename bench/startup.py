"""Start-up of the command line: `capgraph --help` and `predict` on a 3-node map, beside `python -c pass`.

Each case runs in a fresh process, ``--runs`` times (default 11), interleaved so that a busy moment
hits every case alike; the report gives the median wall time and the median CPU time (user + system,
which a shared machine disturbs less) of each case. Run from the repository root:

    python bench/startup.py            # or --runs 21 for steadier medians

``python -X importtime -m capgraph predict graphs/ten_step_reasoning.yaml`` shows where the rest goes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "graphs" / "ten_step_reasoning.yaml"  # three nodes: a step and two chains of it


def capgraph_command() -> list[str]:
    """The installed `capgraph` script beside this Python (what users run), else `python -m capgraph`."""
    script = Path(sys.executable).parent / "capgraph"
    if script.exists():
        return [str(script)]
    found = shutil.which("capgraph")
    return [found] if found else [sys.executable, "-m", "capgraph"]


def cases() -> dict[str, list[str]]:
    cli = capgraph_command()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "capgraph --help": [*cli, "--help"],
        f"capgraph predict {MAP.relative_to(ROOT)}": [*cli, "predict", str(MAP)],
    }


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` (output discarded; it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "COLUMNS": "120"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """``{case: (walls, cpus)}``; one warm-up run of each case first (file cache, .pyc files)."""
    commands = cases()
    for command in commands.values():
        run_once(command)
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            wall, cpu = run_once(command)
            times[name][0].append(wall)
            times[name][1].append(cpu)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each case (default 11)")
    args = parser.parse_args()
    times = measure(args.runs)
    print("| case | median wall time | median CPU time | runs |\n|---|---|---|---|")
    for name, (walls, cpus) in times.items():
        print(f"| `{name}` | {statistics.median(walls):.3f} s | {statistics.median(cpus):.3f} s "
              f"| {args.runs} |")


if __name__ == "__main__":
    main()
