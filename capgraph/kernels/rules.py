"""Composition rules as pure numpy kernels: a parent's success probability from its children's.

Each kernel takes a list of child value arrays (all the same shape) and a matching list of counts
or weights, and returns an array of that shape. Nothing here knows about graphs or files.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from capgraph.kernels.kinds import Registry, Rule

Values = Sequence[np.ndarray]
Weights = Sequence[float]


def all_of(values: Values, counts: Weights) -> np.ndarray:
    """Π p_i^c_i: every child must succeed, a count c meaning c independent repeats (a chain).

    >>> float(all_of([np.array(0.9)], [10]))  # doctest: +ELLIPSIS
    0.3486784401...
    """
    out = np.ones_like(values[0])
    for p, c in zip(values, counts, strict=True):
        out = out * (p if c == 1 else np.power(p, c))
    return out


def any_of(values: Values, counts: Weights) -> np.ndarray:
    """1 − Π (1 − p_i)^c_i: at least one of the attempts succeeds."""
    return 1.0 - all_of([1.0 - p for p in values], counts)


def k_of_n(values: Values, counts: Weights, k: int) -> np.ndarray:
    """P(at least k successes) over independent trials, child i counting as c_i trials.

    The Poisson-binomial tail by dynamic programming: ``state[j]`` is P(exactly j successes so
    far) for j < k, and ``state[k]`` absorbs P(k or more).

    >>> round(float(k_of_n([np.array(0.5)], [3], 2)), 6)  # 3 fair coins, at least 2 heads
    0.5
    """
    state = [np.ones_like(values[0])] + [np.zeros_like(values[0]) for _ in range(k)]
    for p, c in zip(values, counts, strict=True):
        q = 1.0 - p
        for _ in range(int(c)):
            state[k] = state[k] + state[k - 1] * p
            for j in range(k - 1, 0, -1):
                state[j] = state[j] * q + state[j - 1] * p
            state[0] = state[0] * q
    return state[k]


def k_of_n_padded(trials: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """:func:`k_of_n` for many nodes at once.

    ``trials`` is (T, nodes, ...): each node's per-trial success probabilities, padded with zeros
    up to T (a trial that never succeeds changes nothing); ``ks`` (nodes,) the k of each node. The
    dynamic programme runs once over all nodes, tracking P(exactly j) for j below the largest k.

    >>> trials = np.array([[0.5, 0.9], [0.5, 0.9], [0.5, 0.0]])  # 3 coins; 2 trials at 0.9
    >>> np.round(k_of_n_padded(trials, np.array([2, 2])), 6).tolist()
    [0.5, 0.81]
    """
    k_max = int(ks.max())
    state = np.zeros((k_max + 1, *trials.shape[1:]), dtype=trials.dtype)
    state[0] = 1.0
    for p in trials:
        q = 1.0 - p
        state[k_max] += state[k_max - 1] * p
        for j in range(k_max - 1, 0, -1):
            state[j] = state[j] * q + state[j - 1] * p
        state[0] *= q
    out = np.empty_like(state[0])
    for k in np.unique(ks):  # P(at least k) summed over the tail, without cancellation
        chosen = ks == k
        out[chosen] = state[k:, chosen].sum(axis=0)
    return out


def mean(values: Values, weights: Weights) -> np.ndarray:
    """Weighted arithmetic mean: a benchmark average."""
    total = sum(weights)
    return sum(w * p for p, w in zip(values, weights, strict=True)) / total


def minimum(values: Values, weights: Weights) -> np.ndarray:
    """The weakest child (weights are ignored)."""
    return np.minimum.reduce(list(values))


def geomean(values: Values, weights: Weights) -> np.ndarray:
    """Weighted geometric mean: Π p_i^(w_i / Σw)."""
    total = sum(weights)
    return all_of(values, [w / total for w in weights])


def min_padded(trials: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
    """:func:`minimum` for many nodes at once over children padded with 1 (which never lowers a min)."""
    return trials.min(axis=0)


RULES: Registry[Rule] = Registry("composition rule", {
    "all": Rule("all", "Every child must succeed; a count c is a chain of c independent steps.",
                all_of, "product", space="log", label="all of"),
    "any": Rule("any", "Any one attempt suffices.", any_of, "product", space="log1m", label="any of"),
    "k_of_n": Rule("k_of_n", "At least k successes, child i counting as c_i independent trials.",
                   k_of_n, "padded", pad=0.0, per_trial=True, padded=k_of_n_padded, param="k",
                   label="{k} of {n:g}"),
    "mean": Rule("mean", "Weighted arithmetic mean: a benchmark average.", mean, "product",
                 space="linear", normalised=True),
    "min": Rule("min", "The weakest child decides.", minimum, "padded", pad=1.0, padded=min_padded,
                kink=True),
    "geomean": Rule("geomean", "Weighted geometric mean.", geomean, "product", space="log",
                    normalised=True),
})


def combine(rule: str, values: Values, weights: Weights, k: int | None = None) -> np.ndarray:
    """Apply the named rule; ``k`` only for ``k_of_n`` (where it is required)."""
    record = RULES[rule]
    if record.param is None:
        return record.kernel(values, weights)
    if k is None:
        raise ValueError(f"{rule} needs {record.param}")
    return record.kernel(values, weights, int(k))
