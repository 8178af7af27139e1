"""Terminal text for results from evaluation data: fits, rule audits and loss-law fits (back-tests
and the metric mirage are laid out by :mod:`capgraph.outputs.forecasting`).

Each function takes the result object the library returned (its ``to_json()`` is the ``--json``
output) and gives the lines ``capgraph`` prints; nothing here computes a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from capgraph.outputs.wording import NONE, bootstrap_words

if TYPE_CHECKING:  # type names only; the results come from the evidence layer
    from capgraph.evidence.audit import Audit
    from capgraph.evidence.fit import FitResult
    from capgraph.evidence.lossfit import LossFit


def fit_text(result: FitResult, x: str, y: str, *, ranges: bool = True, seed: int = 0) -> str:
    """``capgraph fit``: the ``curve:`` block to paste into a map, then one comment line on its basis.

    The comment counts the bootstrap refits the ranges rest on, which is those that succeeded.
    """
    ranges = ranges and bool(result.intervals)
    basis = (f"90% ranges from {bootstrap_words(result.n_refits, result.n_failed)} (seed {seed})"
             if ranges else "point estimates")
    weighed = "weighted by 1/stderr²" if result.weights == "stderr" else "unweighted"
    return (result.yaml_snippet(ranges=ranges)
            + f"# {y} against {x}: {basis}; {weighed}; rmse {result.fit.rmse:.4g}, "
              f"{result.fit.n_used} rows used, {result.n_skipped} skipped\n"
            + (_large_table_text(result.large_table, ranges) if result.large_table else ""))


def _large_table_text(large: dict[str, int], ranges: bool) -> str:
    """How a table of many rows was fitted (see ``capgraph.evidence.fit.LARGE_TABLE``)."""
    rows, drawn, spread = large["rows"], large["bootstrap_rows"], large["scatter_rows"]
    parts = [f"large table: fitted through the mean score at each of its {large['scales']} scales "
             "(the same least-squares fit)"]
    if ranges and drawn < rows:
        parts.append(f"each bootstrap refit on {drawn} rows drawn from the {rows}, its spread scaled "
                     f"by sqrt({drawn}/{rows})")
    elif ranges:
        parts.append("bootstrap resamples drawn as counts of its distinct rows")
    if 0 < spread < rows:
        parts.append(f"scatter from {spread} rows spread over the scales")
    return "# " + "; ".join(parts) + "\n"


def audit_text(result: Audit) -> str:
    """``capgraph audit``: each capability's declared rule against the alternatives."""
    lines = []
    for c in result.capabilities:
        errors = ", ".join(f"{k} {v:.4f}" for k, v in sorted(c.rmse.items(), key=lambda kv: kv[1]))
        lines.append(f"{c.name} (declared {c.declared}, {c.n_rows} rows, {c.n_skipped} skipped): "
                     f"best {c.best}, {c.improvement:.4f} lower RMSE than declared; "
                     f"{c.verdict.replace('_', ' ')} than the naive product (mean gap {c.naive_gap:+.3f})")
        lines.append(f"  RMSE: {errors}")
        if c.exponents:
            lines.append("  fitted exponents: " + ", ".join(f"{k} {v:.3g}" for k, v in c.exponents.items()))
    for name, why in result.skipped.items():
        lines.append(f"{name}: not audited ({why})")
    return "".join(line + "\n" for line in lines)


def loss_fit_table(fit: LossFit) -> Table:
    """``capgraph fit-loss``: each constant with its bootstrap interval."""
    table = Table(title="L(N, D) = E + A/N^α + B/D^β", title_justify="left")
    table.add_column("constant")
    table.add_column("estimate", justify="right")
    table.add_column("5%", justify="right")
    table.add_column("95%", justify="right")
    for name, value in fit.law.as_dict().items():
        lo, hi = fit.intervals.get(name, (None, None))
        table.add_row(name, f"{value:.4g}", NONE if lo is None else f"{lo:.4g}",
                      NONE if hi is None else f"{hi:.4g}")
    return table


def loss_fit_summary(fit: LossFit) -> str:
    """One line under the fit table: runs used, runs dropped (file lines), bootstrap."""
    dropped = ", ".join(str(line) for line in fit.dropped) or "none"
    return (f"{fit.n_used} runs fitted; dropped (file lines): {dropped}; "
            f"{fit.resamples} bootstrap resamples, seed {fit.seed}")
