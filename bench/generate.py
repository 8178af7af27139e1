"""Make capability maps of any size from a seed, for benchmarks.

    python bench/generate.py 1000 --ranges -o bench/out/map1k.json
    python bench/generate.py 100000 -o bench/out/map100k.json

The map has ``levels`` levels: 40% of the nodes are skills (logistic or power-law curves spread over
the range), the rest capabilities spread evenly over the levels above, each requiring 2–4 nodes from
the levels below with a mix of rules and lenses. With ``--ranges`` every skill parameter is a 90%
interval. The output format follows the file's extension (.json or .yaml).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

RULES = ["all", "all", "all", "any", "mean", "min", "geomean", "k_of_n"]


def generate(nodes: int, *, seed: int = 0, levels: int = 5, ranges: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    n_skills = max(1, int(nodes * 0.4))
    n_caps = nodes - n_skills
    skills = {}
    for i in range(n_skills):
        mid = 10 ** rng.uniform(8.5, 12.5)
        if rng.random() < 0.8:
            slope = float(rng.uniform(0.8, 2.5))
            curve = {"logistic": {
                "midpoint": _range(mid, 3.0, True) if ranges else float(f"{mid:.4g}"),
                "slope": _range(slope, 1.25, False) if ranges else round(slope, 3),
            }}
        else:
            exponent = float(rng.uniform(0.2, 0.6))
            curve = {"power_law": {
                "scale": _range(mid / 30, 3.0, True) if ranges else float(f"{mid / 30:.4g}"),
                "exponent": _range(exponent, 1.25, False) if ranges else round(exponent, 3),
            }}
        skills[f"s{i:06d}"] = {"curve": curve}
    below = list(skills)
    capabilities = {}
    per_level = np.array_split(np.arange(n_caps), max(1, levels - 1))
    for level, members in enumerate(per_level, start=1):
        made = []
        for j in members:
            name = f"c{level}_{j:06d}"
            picks = rng.choice(len(below), size=min(len(below), int(rng.integers(2, 5))), replace=False)
            children = [below[k] for k in sorted(picks)]
            rule = RULES[int(rng.integers(len(RULES)))]
            node: dict = {"requires": {c: int(rng.integers(1, 4)) for c in children}, "combine": rule}
            if rule == "k_of_n":
                node["k"] = max(1, sum(node["requires"].values()) // 2)
            if rng.random() < 0.15:
                node["metric"] = {"exact_match": {"length": int(rng.integers(2, 8))}}
            capabilities[name] = node
            made.append(name)
        below = below + made
    return {
        "name": f"generated map of {nodes} nodes (seed {seed})",
        "scale": {"axis": "params", "range": [1e8, 1e14]},
        "threshold": 0.5,
        "correlation": 0.3 if ranges else 0.0,
        "skills": skills,
        "capabilities": capabilities,
    }


def _range(center: float, factor: float, log: bool) -> str:
    """A 90% interval around ``center``: ×/÷ factor for scales, ± (factor − 1)·center otherwise."""
    if log:
        return f"{center / factor:.4g} to {center * factor:.4g}"
    half = (factor - 1) * center
    return f"{center - half:.4g} to {center + half:.4g}"


def write(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nodes", type=int)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--levels", type=int, default=5)
    parser.add_argument("--ranges", action="store_true", help="every skill parameter a 90% interval")
    args = parser.parse_args()
    write(generate(args.nodes, seed=args.seed, levels=args.levels, ranges=args.ranges), args.output)


if __name__ == "__main__":
    main()
