"""Fitting the success probability behind a metric: ``capgraph fit --lens KIND:VALUE``.

A four-option benchmark scores 0.25 with no skill at all, and an exact-match score is p^L of a
per-step p. A map composes probabilities (``requires`` multiplies them), so the curve a skill
should carry is p, with the metric written as the node's ``metric:`` lens. ``--lens`` fits p so that
the lens applied to it matches the scores (least squares in score units, through the lens kernels of
:mod:`capgraph.kernels.lenses`), rather than fitting the scores and calling them p.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from capgraph.core.errors import MapError, Problem
from capgraph.evidence.fit import DEFAULT_BOOTSTRAP, DEFAULT_SEED, FitResult, fit_with_intervals, min_rows
from capgraph.kernels.lenses import LENSES


@dataclass(frozen=True)
class LensSpec:
    """A lens as ``--lens`` writes it: its kind and its one parameter (None for identity)."""

    kind: str
    value: float | None = None

    @property
    def function(self) -> Callable[[np.ndarray], np.ndarray]:
        lens = LENSES[self.kind]
        if lens.param is None:
            return lens.kernel
        return lambda p: lens.kernel(p, **{lens.param: self.value})

    def metric(self) -> dict[str, Any]:
        """The node's ``metric:`` value for this lens."""
        lens = LENSES[self.kind]
        if lens.param is None:
            return {self.kind: {}}
        value = int(self.value) if lens.integer else self.value
        return {self.kind: {lens.param: value}}

    def metric_yaml(self) -> str:
        (kind, params), = self.metric().items()
        inner = ", ".join(f"{k}: {v:g}" for k, v in params.items())
        return f"metric: {{{kind}: {{{inner}}}}}"


def parse_lens(text: str) -> LensSpec:
    """``exact_match:10`` → LensSpec("exact_match", 10.0); raises ValueError naming the known kinds.

    >>> parse_lens("multiple_choice:4")
    LensSpec(kind='multiple_choice', value=4.0)
    """
    kind, _, raw = text.strip().partition(":")
    if kind not in LENSES:
        raise ValueError(f"unknown lens {kind!r}; use one of {', '.join(LENSES)}")
    lens = LENSES[kind]
    if lens.param is None:
        if raw:
            raise ValueError(f"the {kind} lens takes no value")
        return LensSpec(kind)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"write {kind}:{lens.param.upper()} ({lens.param_description})") from None
    if lens.integer and (value != int(value) or value < lens.low):
        raise ValueError(f"{kind}: {lens.param} must be a whole number ≥ {lens.low:g}")
    if not lens.integer and not value > lens.low:
        raise ValueError(f"{kind}: {lens.param} must be above {lens.low:g}")
    return LensSpec(kind, value)


def fit_through_table(table, x: str, y: str, opts, spec: LensSpec, *, where=None,
                      n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED) -> FitResult:
    """Fit p against log10 ``x`` so that the lens applied to p matches the scores ``y``.

    Data problems raise :class:`MapError` naming the file; a failed fit raises ``FitError``.
    """
    cols = table.where(where or {}).numeric(x, y, positive=[x])
    cols.require_fraction(y)
    if cols.n_used < min_rows(opts):
        raise MapError([Problem(table.path, 1, 1, f"only {cols.n_used} usable row(s) ({cols.n_skipped} "
                                f"skipped); a {opts.curve} fit needs at least {min_rows(opts)}")])
    return fit_with_intervals(np.log10(cols[x]), cols[y], opts, n_bootstrap=n_bootstrap, seed=seed,
                              n_skipped=cols.n_skipped, through=spec.function)
