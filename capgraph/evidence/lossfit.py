"""Fitting a loss law L(N, D) = E + A/N^α + B/D^β to training runs, the way Besiroglu et al. 2024 did.

Their replication of Hoffmann et al. 2022's third approach: write the law in log space as a
log-sum-exp, log L̂ = LSE(a − α·log N, b − β·log D, e) with A = eᵃ, B = eᵇ, E = eᵉ, and minimise
the Huber loss (δ = 10⁻³) of log L̂ − log L with L-BFGS-B from a grid of starting points. The Huber
loss makes the fit robust to the few runs the law does not describe; the log-sum-exp form keeps
every constant positive and the problem well scaled. Intervals come from a bootstrap over runs.

Runs are read from a results table (:func:`capgraph.evidence.data.read_table`: CSV or JSON Lines),
with problems located as ``file:line:col``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax

from capgraph.core.defaults import DEFAULT_SEED, LOSS_RESAMPLES, MIN_TOKENS_PER_PARAM
from capgraph.core.errors import MapError, Problem
from capgraph.core.records import RecordsMixin, flatten
from capgraph.core.suggest import did_you_mean
from capgraph.evidence.data import read_table, to_float
from capgraph.world.allocation import LossLaw

HUBER_DELTA = 1e-3
NAMES = ("E", "A", "B", "alpha", "beta")
#: Hoffmann et al.'s grid of starting points, which Besiroglu et al. reuse: α, β, e, a, b.
START_GRID = (
    (0.0, 0.5, 1.0, 1.5, 2.0),
    (0.0, 0.5, 1.0, 1.5, 2.0),
    (-1.0, -0.5, 0.0, 0.5, 1.0),
    (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
)


# --- reading runs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Runs:
    """Training runs read from a table: parameters N, tokens D, final loss L, and their file lines."""

    params: np.ndarray
    tokens: np.ndarray
    loss: np.ndarray
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.loss)

    def subset(self, keep: np.ndarray) -> Runs:
        return Runs(self.params[keep], self.tokens[keep], self.loss[keep], self.lines[keep])


def check_roles(params: str, tokens: str, loss: str) -> None:
    """Three different columns for N, D and L, or a ``ValueError`` naming the one given twice."""
    roles = [params, tokens, loss]
    twice = sorted({c for c in roles if roles.count(c) > 1})
    if twice:
        raise ValueError(f"column '{twice[0]}' is given for more than one of --params, --tokens, --loss")


def read_runs(path: str | Path, params: str, tokens: str, loss: str) -> Runs:
    """Read three numeric columns of a results table (CSV or JSON Lines, as :func:`read_table`);
    raise :class:`MapError` with every problem located as ``file:line:col``, and ``ValueError``
    when one column is given for two roles (a usage error)."""
    check_roles(params, tokens, loss)
    table = read_table(path)
    problems = []
    for role, column in (("--params", params), ("--tokens", tokens), ("--loss", loss)):
        if column not in table.columns:
            problems.append(Problem(table.path, 1, 1, f"no column '{column}' ({role}); columns are "
                                    f"{', '.join(table.columns)}{did_you_mean(column, table.columns)}"))
    if problems:
        raise MapError(problems)
    values: dict[str, list[float]] = {params: [], tokens: [], loss: []}
    lines: list[int] = []
    for row, line in zip(table.rows, table.lines, strict=True):
        bad = False
        for column in (params, tokens, loss):
            cell = row.get(column)
            number = to_float(cell)
            text = "" if cell is None else str(cell).strip()
            if number is None:
                problems.append(Problem(table.path, line, table.column_of(row, column),
                                        f"{column}: {text!r} is not a number"))
                bad = True
            elif number <= 0:
                problems.append(Problem(table.path, line, table.column_of(row, column),
                                        f"{column}: must be a positive number, got {text}"))
                bad = True
            else:
                values[column].append(number)
        if not bad:
            lines.append(line)
    if problems:
        raise MapError(problems)
    if len(lines) < 6:
        raise MapError([Problem(table.path, 1, 1,
                                f"needs at least 6 runs to fit 5 constants, got {len(lines)}")])
    return Runs(np.array(values[params]), np.array(values[tokens]), np.array(values[loss]),
                np.array(lines))


def outliers(runs: Runs, min_tokens_per_param: float = MIN_TOKENS_PER_PARAM) -> np.ndarray:
    """Mask of runs trained on under ``min_tokens_per_param`` tokens a parameter.

    Far below one token a parameter a model has not seen its own size in data; such runs sit off
    the law (in Hoffmann et al.'s Figure 4 they are the five largest models of the smallest
    isoFLOP budget, with losses up to 5.0), and Besiroglu et al. likewise fit 240 of 245 runs.
    """
    return runs.tokens / runs.params < min_tokens_per_param


# --- the fit ---------------------------------------------------------------------------------------


def _objective(theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_l: np.ndarray,
               delta: float) -> tuple[float, np.ndarray]:
    """Huber loss of the log-sum-exp law and its gradient; theta = (a, b, e, α, β)."""
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    r = logsumexp(terms, axis=0) - log_l
    small = np.abs(r) <= delta
    value = np.where(small, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta)).sum()
    dr = np.where(small, r, delta * np.sign(r))  # d huber / d r
    w = softmax(terms, axis=0) * dr
    grad = np.array([w[0].sum(), w[1].sum(), w[2].sum(), -(w[0] * log_n).sum(), -(w[1] * log_d).sum()])
    return float(value), grad


def _grid_values(log_n, log_d, log_l, delta) -> tuple[np.ndarray, np.ndarray]:
    """Every grid start as (a, b, e, α, β) and its objective, computed in one vectorised pass."""
    alpha, beta, e, a, b = (np.array(v) for v in zip(*itertools.product(*START_GRID), strict=True))
    starts = np.stack([a, b, e, alpha, beta], axis=1)
    terms = np.stack([a[:, None] - alpha[:, None] * log_n, b[:, None] - beta[:, None] * log_d,
                      np.broadcast_to(e[:, None], (len(e), len(log_n)))])
    r = np.abs(logsumexp(terms, axis=0) - log_l)
    values = np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta)).sum(axis=1)
    return starts, values


def _theta_law(theta: np.ndarray) -> LossLaw:
    a, b, e, alpha, beta = (float(v) for v in theta)
    return LossLaw(E=math.exp(e), A=math.exp(a), B=math.exp(b), alpha=alpha, beta=beta)


def fit_law(params: np.ndarray, tokens: np.ndarray, loss: np.ndarray, *, delta: float = HUBER_DELTA,
            starts: int = 10, extra_starts: np.ndarray | None = None, gtol: float = 1e-12) -> LossLaw:
    """The law minimising the Huber loss of log residuals over runs (N, D, L).

    L-BFGS-B runs from the ``starts`` best points of the grid of starting points (ranked by their
    objective; running from all 4,500 gives the same optimum on the Chinchilla data, a hundred times
    slower), plus any ``extra_starts`` given as rows (a, b, e, α, β). ``gtol`` is L-BFGS-B's
    gradient tolerance: tight by default, since stopping early is what biased Hoffmann et al.'s fit.
    """
    log_n, log_d, log_l = np.log(params), np.log(tokens), np.log(loss)
    chosen = np.empty((0, 5))
    if starts:
        grid, values = _grid_values(log_n, log_d, log_l, delta)
        chosen = grid[np.argsort(values, kind="stable")[:starts]]
    if extra_starts is not None:
        chosen = np.vstack([extra_starts, chosen])
    best_value, best = math.inf, chosen[0]
    for x0 in chosen:
        result = minimize(_objective, x0, args=(log_n, log_d, log_l, delta), jac=True,
                          method="L-BFGS-B", options={"maxiter": 1000, "ftol": 1e-15, "gtol": gtol})
        if result.fun < best_value:
            best_value, best = float(result.fun), result.x
    return _theta_law(best)


def _theta(law: LossLaw) -> np.ndarray:
    return np.array([math.log(law.A), math.log(law.B), math.log(law.E), law.alpha, law.beta])


@dataclass(frozen=True)
class LossFit(RecordsMixin):
    """A fitted law with bootstrap intervals (the JSON object of ``capgraph fit-loss``)."""

    law: LossLaw
    intervals: dict[str, tuple[float, float]]
    n_used: int
    dropped: list[int] = field(default_factory=list)  # file lines of the runs left out
    resamples: int = 0
    seed: int = DEFAULT_SEED

    def to_json(self) -> dict[str, Any]:
        return {
            "law": self.law.as_dict(),
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "n_used": self.n_used,
            "dropped": self.dropped,
            "resamples": self.resamples,
            "seed": self.seed,
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record (nested keys joined by _); ``to_frame()`` gives a DataFrame."""
        return [flatten(self.to_json())]

    def yaml_snippet(self) -> str:
        """The law as a ``scale.allocation`` block to paste into a map."""
        law = self.law
        return ("scale:\n  allocation:\n    loss_law: "
                f"{{E: {law.E:.6g}, A: {law.A:.6g}, B: {law.B:.6g}, "
                f"alpha: {law.alpha:.6g}, beta: {law.beta:.6g}}}\n")


def fit_loss(runs: Runs, *, min_tokens_per_param: float = MIN_TOKENS_PER_PARAM,
             resamples: int = LOSS_RESAMPLES, seed: int = DEFAULT_SEED, level: float = 0.90,
             progress: Callable[[int], None] | None = None) -> LossFit:
    """Drop outliers, fit the law, and bootstrap ``level`` intervals (default 5th–95th percentile).

    ``progress(1)`` is called after the fit and after each of the ``resamples`` refits.

    Raises ``ValueError`` when the runs do not determine the law (an exponent fitted at zero).
    Each bootstrap resample refits from the full-data optimum (a resample's optimum lies close to
    it), which is what keeps a hundred refits to seconds.
    """
    drop = outliers(runs, min_tokens_per_param)
    used = runs.subset(~drop)
    if len(used) < 6:
        raise ValueError(f"--min-tokens-per-param {min_tokens_per_param:g} leaves {len(used)} runs; "
                         "at least 6 are needed")
    law = fit_law(used.params, used.tokens, used.loss)
    values = np.array(list(law.as_dict().values()))
    if not (np.all(np.isfinite(values)) and law.alpha > 1e-6 and law.beta > 1e-6):
        raise ValueError(f"the runs do not determine the law (fitted α = {law.alpha:.3g}, "
                         f"β = {law.beta:.3g}); it needs runs that vary both N and D")
    rng = np.random.default_rng(seed)
    draws = []
    if progress:
        progress(1)
    for _ in range(resamples):
        pick = rng.integers(0, len(used), len(used))
        draws.append(_theta(fit_law(used.params[pick], used.tokens[pick], used.loss[pick], starts=0,
                                    extra_starts=_theta(law)[None, :], gtol=1e-9)))
        if progress:
            progress(1)
    intervals: dict[str, tuple[float, float]] = {}
    if draws:
        laws = [_theta_law(t).as_dict() for t in draws]
        tail = (1 - level) / 2 * 100
        for name in NAMES:
            column = np.array([d[name] for d in laws])
            lo, hi = np.percentile(column, [tail, 100 - tail])
            intervals[name] = (float(lo), float(hi))
    return LossFit(law, intervals, len(used), [int(x) for x in runs.lines[drop]], resamples, seed)
