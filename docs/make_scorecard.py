"""Write docs/scorecard.md: capgraph's forecasts back-tested on public base models.

``python docs/make_scorecard.py [DATA_FOLDER]`` (default: ../shared/data beside the project) reads
the ObsScaling tables (Ruan, Maddison & Hashimoto 2024) in place, trains on the models with at most
8.4e22 training FLOPs (Llama-2-7B and smaller), predicts the larger ones, and scores three
forecasts on ten tasks: compute alone, compute with shrunk family offsets, and the capability axis
(first principal component of the other standard benchmarks). A test recomputes part of it and
checks that the committed page is what this script writes today.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from capgraph.core.files import write_atomic
from capgraph.evidence import bands
from capgraph.evidence.data import Table, read_table
from capgraph.evidence.fit import FitOptions
from capgraph.evidence.forecast import fit_forecast, read_rows

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
BASE = "obsscaling_base_llm_benchmark_eval.csv"
BOARD = "obsscaling_leaderboard_v2_eval.csv"
X, FAMILY = "FLOPs (1E21)", "Model Family"
CUTOFF = 84.0  # 8.4e22 FLOPs in the column's units of 1e21
STANDARD = ("MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K", "XWinograd", "HumanEval")
#: Task column → (name shown, chance floor). Multiple choice floors at 1/options; the rest at 0.
TASKS = {
    "GSM8K": ("GSM8K", 0.0), "HumanEval": ("HumanEval", 0.0), "MMLU": ("MMLU", 0.25),
    "TruthfulQA": ("TruthfulQA", 0.0), "leaderboard_bbh": ("BBH", 0.0),
    "leaderboard_gpqa": ("GPQA", 0.25), "leaderboard_ifeval": ("IFEval", 0.0),
    "leaderboard_math_hard": ("MATH-hard", 0.0), "leaderboard_mmlu_pro": ("MMLU-Pro", 0.1),
    "leaderboard_musr": ("MuSR", 0.0),
}
METHODS = ("compute", "family", "capability")
BOOTSTRAP, SEED = 200, 0
#: A method counts as worse than compute alone when its MAE is higher by more than this.
_TIE = 5e-4


def joined(folder: Path) -> Table:
    """The base table with each model's Leaderboard-v2 scores joined on ``Model`` (blank if none)."""
    base, board = read_table(folder / BASE), read_table(folder / BOARD)
    extra = [c for c in board.columns if c != "Model"]
    scores = {row["Model"]: row for row in board.rows}
    rows = tuple({**row, **{c: scores.get(row["Model"], {}).get(c, "") for c in extra}}
                 for row in base.rows)
    return Table(base.path, base.columns + tuple(extra), rows, base.lines, base.digest + board.digest)


def score_task(table: Table, task: str, floor: float, methods=METHODS,
               n_bootstrap: int = BOOTSTRAP) -> dict[str, dict]:
    """{method: {"mae", "coverage", "n_train", "n_test", "inside", "at_bound"}} for one task."""
    columns = tuple(c for c in STANDARD if c != task)
    rows = read_rows(table, X, task, capability_columns=columns, family_column=FAMILY)
    train_mask = rows.log_x <= np.log10(CUTOFF)
    train, test = rows.take(train_mask), rows.take(~train_mask)
    out = {}
    for method in methods:
        forecast = fit_forecast(train, FitOptions("logistic", floor, None),
                                use_capability=method == "capability", use_family=method == "family",
                                n_bootstrap=n_bootstrap, seed=SEED, strict=False)
        lo, hi = forecast.band(test)
        inside = bands.inside(test.y, lo, hi)
        out[method] = {"mae": float(np.mean(np.abs(forecast.predict(test) - test.y))),
                       "coverage": float(inside.mean()), "inside": int(inside.sum()),
                       "n_train": len(train), "n_test": len(test), "at_bound": forecast.fit.at_bound}
    return out


def scorecard(folder: Path = DATA, n_bootstrap: int = BOOTSTRAP) -> dict[str, dict]:
    table = joined(Path(folder))
    return {task: score_task(table, task, floor, n_bootstrap=n_bootstrap)
            for task, (_, floor) in TASKS.items()}


def summary(results: dict[str, dict]) -> dict[str, dict[str, float]]:
    """Per method: mean MAE over tasks, mean coverage over tasks, coverage pooled over all models."""
    out = {}
    for m in METHODS:
        per = [results[t][m] for t in TASKS]
        out[m] = {"mae": float(np.mean([r["mae"] for r in per])),
                  "coverage": float(np.mean([r["coverage"] for r in per])),
                  "pooled": sum(r["inside"] for r in per) / sum(r["n_test"] for r in per)}
    return out


def render(results: dict[str, dict]) -> str:
    s = summary(results)
    gain = 1 - s["capability"]["mae"] / s["compute"]["mae"]
    lines = [
        "# Forecasting scorecard",
        "",
        "Written by `python docs/make_scorecard.py` (a test checks this page is current). Data: the",
        "ObsScaling tables in `../shared/data` (Ruan, Maddison & Hashimoto 2024; 123 base models with",
        "known training FLOPs, 39 families). Split: train on models with at most 8.4e22 FLOPs,",
        "predict every larger one. Each task is a logistic with its floor fixed at chance (0.25 for",
        "MMLU and GPQA, 0.1 for MMLU-Pro, 0 otherwise) and its ceiling fitted, against:",
        "",
        "- **compute**: log10 training FLOPs;",
        "- **family**: log10 FLOPs plus each family's shrunk efficiency offset (`--family`);",
        "- **capability**: the first principal component of the standard benchmarks other than the",
        "  task itself (`--capability`), fitted on the training models.",
        "",
        f"Bands are the 90% bands for new models of `docs/fitting.md` ({BOOTSTRAP} bootstrap refits,",
        "seed 0, whole families left out for the scatter). A fit whose parameter sits on a bound is",
        "kept for the score and marked *bound*. MAE is in score points (0 to 1).",
        "",
        "| task | train / test | compute MAE | in band | family MAE | in band | capability MAE | in band |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, (name, _) in TASKS.items():
        r = results[task]
        cells = []
        for m in METHODS:
            mark = " *bound*" if r[m]["at_bound"] else ""
            cells.append(f"{r[m]['mae']:.3f}{mark} | {r[m]['coverage']:.0%}")
        lines.append(f"| {name} | {r['compute']['n_train']} / {r['compute']['n_test']} | "
                     + " | ".join(cells) + " |")
    lines += [
        f"| **mean over tasks** | | **{s['compute']['mae']:.3f}** | **{s['compute']['coverage']:.0%}** "
        f"| **{s['family']['mae']:.3f}** | **{s['family']['coverage']:.0%}** "
        f"| **{s['capability']['mae']:.3f}** | **{s['capability']['coverage']:.0%}** |",
        f"| all held-out models pooled | | | {s['compute']['pooled']:.0%} | | {s['family']['pooled']:.0%} "
        f"| | {s['capability']['pooled']:.0%} |",
        "",
        "## Targets",
        "",
        f"- Capability axis at least 25% below compute-only mean MAE: {gain:.0%} below "
        f"({s['capability']['mae']:.3f} vs {s['compute']['mae']:.3f}): "
        f"**{'met' if gain >= 0.25 else 'missed'}**.",
    ]
    for m in ("compute", "capability"):
        c = s[m]["coverage"]
        lines.append(f"- 90% bands cover 80–95% of held-out models ({m}): {c:.0%} mean over tasks, "
                     f"{s[m]['pooled']:.0%} pooled: **{'met' if 0.80 <= c <= 0.95 else 'missed'}**.")
    lines += ["", "## What failed", ""]
    lines += _failures(results, s)
    return "\n".join(lines) + "\n"


def _failures(results: dict[str, dict], s: dict) -> list[str]:
    out = []
    for task, (name, _) in TASKS.items():
        r = results[task]
        low = [m for m in METHODS if r[m]["coverage"] < 0.8]
        if low:
            out.append(f"- {name}: bands too narrow for " + ", ".join(
                f"{m} ({r[m]['coverage']:.0%})" for m in low) + ".")
        if r["capability"]["mae"] > r["compute"]["mae"] + _TIE:
            out.append(f"- {name}: the capability axis is worse than compute alone "
                       f"({r['capability']['mae']:.3f} vs {r['compute']['mae']:.3f}).")
        if r["family"]["mae"] > r["compute"]["mae"] + _TIE:
            out.append(f"- {name}: family offsets are worse than compute alone "
                       f"({r['family']['mae']:.3f} vs {r['compute']['mae']:.3f}).")
    if s["family"]["mae"] > s["compute"]["mae"]:
        out.append(f"- Family offsets estimated from the task's own scores raise the mean MAE "
                   f"({s['family']['mae']:.3f} vs {s['compute']['mae']:.3f}): offsets read from a "
                   "task's own small-model scores do not carry over to the family's larger models "
                   "here. The capability axis, which reads a family's standing from other "
                   "benchmarks, is the better default.")
    return out or ["- Nothing missed its target on this split."]


def main(folder: str | Path = DATA, out: str | Path = ROOT / "docs" / "scorecard.md") -> Path:
    return write_atomic(Path(out), render(scorecard(Path(folder))).encode())


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))
