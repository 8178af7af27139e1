"""Make capability maps of any size from a seed, for benchmarks.

    python bench/generate.py 1000 --ranges -o bench/out/map1k.json
    python bench/generate.py 100000 -o bench/out/map100k.json

Every kind the format has appears in equal shares, so no kernel is favoured:

- skills (40% of the nodes): the three curve families (``logistic``, ``power_law``, ``points``) in
  turn, spread over the range; with ``--ranges`` every parameter that can be a range is a 90%
  interval (a logistic's midpoint, slope, floor and ceiling; a power law's scale and exponent;
  observed points stay points), and the map has ``correlation: 0.3``;
- capabilities: spread evenly over ``levels − 1`` levels above the skills, each needing 2–4 nodes
  from below (at least one from the level just below, so every level is really that deep), counts
  1, 2 and 3 in equal shares, the six rules (``all``, ``any``, ``k_of_n``, ``mean``, ``min``,
  ``geomean``) in turn, and for ``k_of_n`` a k drawn evenly from 1 to the number of trials;
- lenses: ``identity``, ``exact_match``, ``multiple_choice`` and ``pass_at`` in turn over every
  node (skills included); every node has a threshold.

Kinds are assigned in rotation (then shuffled) rather than drawn, so the shares are exact. The
output format follows the file's extension (.json or .yaml).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

CURVES = ["logistic", "power_law", "points"]
RULES = ["all", "any", "k_of_n", "mean", "min", "geomean"]
LENSES = ["identity", "exact_match", "multiple_choice", "pass_at"]


def _rotation(kinds: list[str], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` kinds in equal shares (to within one), in a random order."""
    return [kinds[i] for i in rng.permutation(np.arange(n) % len(kinds))]


def generate(nodes: int, *, seed: int = 0, levels: int = 5, ranges: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    n_skills = max(1, int(nodes * 0.4))
    n_caps = nodes - n_skills
    lenses = _rotation(LENSES, nodes, rng)
    skills = {}
    for i, kind in enumerate(_rotation(CURVES, n_skills, rng)):
        node = {"curve": _curve(kind, rng, ranges)}
        _lens(node, lenses[i], rng)
        skills[f"s{i:06d}"] = node
    below = [list(skills)]  # the names on each level so far
    capabilities = {}
    rules = _rotation(RULES, n_caps, rng)
    per_level = np.array_split(np.arange(n_caps), max(1, levels - 1))
    for level, members in enumerate(per_level, start=1):
        pool = [name for names in below for name in names]
        previous = below[-1]
        made = []
        for j in members:
            name = f"c{level}_{j:06d}"
            want = min(len(pool), int(rng.integers(2, 5)))
            picks = {previous[int(rng.integers(len(previous)))]}  # one from the level just below
            while len(picks) < want:
                picks.add(pool[int(rng.integers(len(pool)))])
            rule = rules[j]
            node: dict = {"requires": {c: int(rng.integers(1, 4)) for c in sorted(picks)}, "combine": rule}
            if rule == "k_of_n":
                node["k"] = int(rng.integers(1, sum(node["requires"].values()) + 1))
            _lens(node, lenses[n_skills + j], rng)
            capabilities[name] = node
            made.append(name)
        if made:
            below.append(made)
    return {
        "name": f"generated map of {nodes} nodes (seed {seed})",
        "scale": {"axis": "params", "range": [1e8, 1e14]},
        "threshold": 0.5,
        "correlation": 0.3 if ranges else 0.0,
        "skills": skills,
        "capabilities": capabilities,
    }


def _curve(kind: str, rng: np.random.Generator, ranges: bool) -> dict:
    mid = 10 ** rng.uniform(8.5, 12.5)
    if kind == "logistic":
        slope = float(rng.uniform(0.8, 2.5))
        floor = float(rng.choice([0.0, 0.0, 0.1, 0.25]))
        ceiling = float(rng.choice([1.0, 1.0, 0.95, 0.9]))
        if not ranges:
            body = {"midpoint": float(f"{mid:.4g}"), "slope": round(slope, 3)}
            if floor:
                body["floor"] = floor
            if ceiling < 1:
                body["ceiling"] = ceiling
            return {"logistic": body}
        return {"logistic": {
            "midpoint": _range(mid, 3.0, True),
            "slope": _range(slope, 1.25, False),
            "floor": f"{floor:.3g} to {floor + 0.05:.3g}",  # stays below every ceiling draw
            "ceiling": f"{ceiling - 0.05:.3g} to {min(ceiling + 0.04, 0.999):.3g}",
        }}
    if kind == "power_law":
        exponent = float(rng.uniform(0.2, 0.6))
        if not ranges:
            return {"power_law": {"scale": float(f"{mid / 30:.4g}"), "exponent": round(exponent, 3)}}
        return {"power_law": {"scale": _range(mid / 30, 3.0, True),
                              "exponent": _range(exponent, 1.25, False)}}
    # points: five observations of a logistic-like rise across the whole range (so none is held
    # flat beyond its data), the inner three at random scales
    log_mid, slope = np.log10(mid), rng.uniform(0.8, 2.5)
    log_xs = np.concatenate([[8.0], np.sort(rng.uniform(8.5, 13.5, 3)) + [0.0, 0.01, 0.02], [14.0]])
    ys = np.maximum.accumulate(np.round(1.0 / (1.0 + np.exp(-slope * (log_xs - log_mid))), 4))
    return {"points": [[float(f"{10 ** x:.5g}"), float(y)] for x, y in zip(log_xs, ys, strict=True)]}


def _lens(node: dict, kind: str, rng: np.random.Generator) -> None:
    if kind == "identity":
        node["metric"] = {"identity": {}}
    elif kind == "exact_match":
        node["metric"] = {"exact_match": {"length": int(rng.integers(2, 8))}}
    elif kind == "multiple_choice":
        node["metric"] = {"multiple_choice": {"options": int(rng.integers(2, 6))}}
    else:
        node["metric"] = {"pass_at": {"k": int(rng.integers(2, 11))}}
    node["threshold"] = 0.5 if kind != "multiple_choice" else 0.7  # above any chance level


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
    parser.add_argument("--ranges", action="store_true", help="every skill parameter a 90%% interval")
    args = parser.parse_args()
    write(generate(args.nodes, seed=args.seed, levels=args.levels, ranges=args.ranges), args.output)


if __name__ == "__main__":
    main()
