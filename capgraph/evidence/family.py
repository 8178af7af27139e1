"""Family efficiency: how many decades of effective compute each model family is ahead or behind.

Models of equal FLOPs differ by family (data, tokenizer, recipe). Each family gets an offset
``e_f`` in decades, so its models sit on the pooled curve at ``log10 C + e_f``; ``10^e_f`` is the
same multiplier on compute as a scenario's ``efficiency``.

A family seen through one or two models cannot pin its own offset down, so raw offsets are shrunk
toward the pooled fit (offset 0) by empirical Bayes: with ``n_f`` rows, a within-family variance
``σ²`` and a between-family variance ``τ²`` (method of moments), the offset kept is
``raw_f · τ² / (τ² + σ²/n_f)``. A family with many models keeps nearly all of its raw offset; a
single model keeps little of it unless families clearly differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Offsets:
    """Shrunk per-family offsets (decades), their raw values and counts, and the variances used."""

    offsets: dict[str, float]
    raw: dict[str, float]
    counts: dict[str, int]
    tau: float  # between-family standard deviation of offsets (decades)
    sigma: float  # within-family standard deviation of a single model's offset (decades)

    def of(self, labels) -> np.ndarray:
        """Each row's offset; a family the fit has not seen gets 0 (the pooled curve)."""
        return np.array([self.offsets.get(str(label), 0.0) for label in labels], dtype=float)

    def to_json(self) -> dict[str, Any]:
        """``{"tau", "sigma", "families": {name: {"n", "raw", "offset", "efficiency"}}}``."""
        return {
            "tau": self.tau, "sigma": self.sigma,
            "families": {name: {"n": self.counts[name], "raw": self.raw[name],
                                "offset": self.offsets[name],
                                "efficiency": float(10.0 ** self.offsets[name])}
                         for name in sorted(self.offsets)},
        }


def shrink(values: np.ndarray, labels: np.ndarray, centre: float = 0.0) -> Offsets:
    """Empirical-Bayes family means of ``values`` (one a row), shrunk toward ``centre``.

    >>> o = shrink(np.array([1.0, 1.2, 0.8, -1.0, -1.2, -0.8]), np.array(list("aaabbb")))
    >>> round(o.raw["a"], 6), 0.9 < o.offsets["a"] < 1.0
    (1.0, True)
    """
    values = np.asarray(values, dtype=float) - centre
    labels = np.asarray([str(v) for v in labels])
    names = sorted(set(labels.tolist()))
    means = {n: float(values[labels == n].mean()) for n in names}
    counts = {n: int((labels == n).sum()) for n in names}
    within = [values[labels == n] - means[n] for n in names if counts[n] > 1]
    dof = sum(w.size - 1 for w in within)
    sigma2 = float(sum((w ** 2).sum() for w in within) / dof) if dof > 0 else float(values.var())
    noise = np.array([sigma2 / counts[n] for n in names])
    m = np.array([means[n] for n in names])
    tau2 = max(0.0, float(np.mean(m ** 2) - np.mean(noise)))
    weight = tau2 / (tau2 + noise) if tau2 > 0 else np.zeros(len(names))
    return Offsets({n: float(w * mu) for n, w, mu in zip(names, weight, m, strict=True)},
                   means, counts, float(np.sqrt(tau2)), float(np.sqrt(sigma2)))
