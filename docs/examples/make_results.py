"""Make graphs/data/synthetic_results.csv: evaluation results generated from known curves.

The project ships no real results of its own, so its data-backed example map
(graphs/fitted_multistep.yaml) and the tests that must always run use data made here, from curves
whose parameters we know, with binomial noise (each score is the share of 400 items right), seeded
so that every run writes the same bytes. Run from the repository root:

    python docs/examples/make_results.py

The truth behind the numbers:

- ``lookup``: logistic, midpoint 3e9 params, slope 1.2 logits a decade.
- ``reason_step``: power law, scale 1e9, exponent 0.4 (per-step success).
- ``answer``: lookup · reason_step^3 · check, where ``check`` (logistic, midpoint 2e10, slope 1.5)
  is a sub-skill the map leaves out; so the answer is harder than the naive product the map
  declares, which ``capgraph audit`` detects.
- ``token``: per-token accuracy of a long answer, power law, scale 1e6, exponent 0.3: already
  above 0.6 at the smallest model and rising gently.
- ``answer_em``: exact match of that 20-token answer, token^20: near zero, then a jump
  (``capgraph lens --y answer_em --length 20`` measures the difference).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from capgraph.kernels.curves import logistic, power_law

ITEMS = 400
SEED = 20240501
OUT = Path(__file__).resolve().parents[2] / "graphs" / "data" / "synthetic_results.csv"


def make(seed: int = SEED) -> list[dict[str, str]]:
    """The rows, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    log_params = np.arange(7.5, 12.01, 0.25)
    truth = {
        "lookup": logistic(log_params, np.log10(3e9), 1.2),
        "reason_step": power_law(log_params, 9.0, 0.4),
    }
    check = logistic(log_params, np.log10(2e10), 1.5)
    truth["answer"] = truth["lookup"] * truth["reason_step"] ** 3 * check
    truth["token"] = power_law(log_params, 6.0, 0.3)
    truth["answer_em"] = truth["token"] ** 20
    rows = []
    for i, lp in enumerate(log_params):
        params = 10.0**lp
        row = {"model": f"m{i:02d}", "params": f"{params:.4g}", "flops": f"{6 * params * 20 * params:.4g}"}
        for name, p in truth.items():
            row[name] = f"{rng.binomial(ITEMS, p[i]) / ITEMS:.4f}"
        rows.append(row)
    return rows


def main(path: Path = OUT) -> None:
    rows = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    sys.stdout.write(f"wrote {len(rows)} rows to {path}\n")


if __name__ == "__main__":
    main()
