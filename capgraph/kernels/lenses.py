"""Metric lenses as pure kernels: the score a benchmark reports for a success probability p.

The same p looks smooth or sudden depending on the lens (Schaeffer et al. 2023): exact match over
L tokens is p^L, a cliff for large L, while the per-token value rises gently.
"""

from __future__ import annotations

import numpy as np

from capgraph.kernels.kinds import Lens, Registry


def identity(p: np.ndarray) -> np.ndarray:
    return p


def exact_match(p: np.ndarray, length: float) -> np.ndarray:
    """All L tokens (steps) right: p^L."""
    return np.power(p, length)


def multiple_choice(p: np.ndarray, options: int) -> np.ndarray:
    """Right when the model knows (p) or guesses among n options: 1/n + (1 − 1/n)·p."""
    return 1.0 / options + (1.0 - 1.0 / options) * p


def pass_at(p: np.ndarray, k: int) -> np.ndarray:
    """At least one of k independent attempts right: 1 − (1 − p)^k."""
    return 1.0 - np.power(1.0 - p, k)


LENSES: Registry[Lens] = Registry("metric lens", {
    "identity": Lens("identity", "Score p (the default).", identity),
    "exact_match": Lens("exact_match", "All L tokens right: p^L.", exact_match, "length",
                        "Answer length L in tokens or steps: score p^L.", label="exact match L={length:g}"),
    "multiple_choice": Lens("multiple_choice", "Guessing floor 1/n.", multiple_choice, "options",
                            "Number of options n: score 1/n + (1 − 1/n)·p.", low=2, integer=True,
                            label="multiple choice n={options}"),
    "pass_at": Lens("pass_at", "Any of k attempts right.", pass_at, "k", "Attempts k: score 1 − (1 − p)^k.",
                    low=1, integer=True, label="pass@{k}"),
})


def apply(kind: str, p: np.ndarray, **params: float) -> np.ndarray:
    """Apply the lens named ``kind`` with its parameters (as in a map's ``metric:``)."""
    return LENSES[kind].kernel(p, **params)
