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


#: Largest per-value cost n·min(k, n − k + 1) that :func:`k_of_n` pays for the exact Poisson-binomial
#: tail; beyond it (and unless every trial has the same probability, which has a closed form) it
#: uses the refined normal approximation. At this size the approximation's worst error is a few
#: thousandths and falls like 1/n (docs/maths.md); the exact programme would cost thousands of
#: operations per value, minutes for a Monte Carlo pass.
EXACT_WORK = 2048


def k_of_n(values: Values, counts: Weights, k: int) -> np.ndarray:
    """P(at least k successes) over independent trials, child i counting as c_i trials.

    One child (or children with identical values): the binomial tail in closed form. Otherwise
    the Poisson-binomial tail, exactly by dynamic programming while that costs at most
    :data:`EXACT_WORK` operations a value, else by the refined normal approximation.

    >>> round(float(k_of_n([np.array(0.5)], [3], 2)), 6)  # 3 fair coins, at least 2 heads
    0.5
    """
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]))
    shape = stacked.shape[1:]
    flat = stacked.reshape(len(stacked), -1)
    counts_ = np.array([int(c) for c in counts])
    n, ks = int(counts_.sum()), np.array([int(k)])
    if all(np.array_equal(flat[0], row) for row in flat[1:]):
        return binomial_tail(flat[0], n, k).reshape(shape)
    groups = np.arange(len(flat))[:, None]
    method = k_of_n_exact if n * min(k, n - k + 1) <= EXACT_WORK else k_of_n_normal
    return method(flat, groups, counts_[:, None], ks)[0].reshape(shape)


def binomial_tail(p: np.ndarray, n: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
    """P(X ≥ k) for X ~ Binomial(n, p) in closed form: the regularised incomplete beta I_p(k, n − k + 1).

    Keeps the dtype of ``p`` (float32 in Monte Carlo passes); 1 for k ≤ 0, 0 for k > n.

    >>> round(float(binomial_tail(np.array(0.5), 3, 2)), 6)
    0.5
    """
    from scipy.special import betainc  # deferred: only k-of-n maps need it; saves start-up

    p = np.asarray(p)
    dtype = p.dtype if p.dtype.kind == "f" else np.dtype(float)
    n, k = np.asarray(n), np.asarray(k)
    a = np.maximum(k, 1).astype(dtype)
    b = np.maximum(n - k + 1, 1).astype(dtype)
    out = np.asarray(betainc(a, b, p.astype(dtype, copy=False)))
    return np.where(k <= 0, dtype.type(1), np.where(k > n, dtype.type(0), out))


def k_of_n_exact(values: np.ndarray, groups: np.ndarray, counts: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """The Poisson-binomial tail P(at least k successes), exactly, for many nodes at once.

    ``values`` is (children, m): each child's success probability at m points; ``groups`` (G,
    nodes) the children of each node (−1 pads), ``counts`` (G, nodes) each one's number of trials
    (0 for pads) and ``ks`` (nodes,). Returns (nodes, m).

    Dynamic programming over trials on P(exactly j events so far), the last state absorbing "at
    least S". An event is a success while k ≤ n − k + 1 and a failure otherwise (P(at least k
    successes) = P(at most n − k failures)), so the state has min(k, n − k + 1) + 1 entries and the
    cost is n·min(k, n − k + 1) per value: 3 of 1,000 trials is 3 states, not 998.

    >>> groups, counts = np.array([[0, 1], [-1, -1]]), np.array([[3, 2], [0, 0]])  # 3 coins; 2 at 0.9
    >>> np.round(k_of_n_exact(np.array([[0.5], [0.9]]), groups, counts, np.array([2, 2])), 6).tolist()
    [[0.5], [0.81]]
    """
    n = counts.sum(axis=0)
    flip = ks > n - ks + 1  # count failures: fewer states
    target = np.where(flip, n - ks + 1, ks)  # events that decide the node
    size = int(max(1, target.max(initial=1)))
    one = values.dtype.type(1)
    state = np.zeros((size + 1, groups.shape[1], values.shape[1]), dtype=values.dtype)
    state[0] = one
    moved = np.empty_like(state[:size])
    done = 0  # trials so far, the most of any node: states above it are still zero
    for row, count in zip(groups, counts, strict=True):
        event = values[np.maximum(row, 0)]  # a copy: (nodes, m)
        if flip.any():
            event[flip] = one - event[flip]
        stay = one - event
        for rep in range(int(count.max(initial=0))):
            active = rep < count  # nodes with fewer trials of this child sit this one out
            e, q = (event, stay) if active.all() else (event * active[:, None], None)
            if q is None:
                q = one - e
            live = min(done + 1, size)
            done += 1
            np.multiply(state[:live], e, out=moved[:live])
            state[:live] *= q
            state[1:live + 1] += moved[:live]
    out = np.empty(state.shape[1:], dtype=values.dtype)
    for t in np.unique(target):  # sums of states, never 1 − a sum: no cancellation
        chosen = target == t
        hit = flip & chosen
        out[hit] = state[:t, hit].sum(axis=0)
        hit = ~flip & chosen
        out[hit] = state[t:, hit].sum(axis=0)
    out[ks > n] = 0
    return out


def k_of_n_window(values: np.ndarray, trials: np.ndarray, k: int) -> np.ndarray:
    """:func:`k_of_n_exact` trial by trial for nodes that share k, keeping only the states that
    can still decide.

    ``values`` is (children, m); ``trials`` (N, nodes) each node's trials as child rows, aligned
    at the end (a node of n < N trials has −1 in its first N − n rows) and nodes in order of
    falling n, so that the nodes in each step are a prefix. Returns (nodes, m).

    The state is P(exactly j successes so far) for j < k, and P(at least k) absorbing. At step t
    every node has N − t trials to go, so states below k − (N − t) can no longer reach k and are
    dropped, and no state above t has been reached: each step updates at most min(t + 1, k,
    N − t) states, k·(n − k + 1) updates a value in all (a product for k = n), without counting
    failures instead of successes, and without padding a short node with empty trials.

    >>> trials = np.array([[0, -1], [0, 0], [1, 1]])  # 2 coins then one at 0.9; 1 coin then 0.9
    >>> np.round(k_of_n_window(np.array([[0.5], [0.9]]), trials, 2), 6).tolist()
    [[0.7], [0.45]]
    """
    n_trials, nodes = trials.shape
    if k > n_trials:
        return np.zeros((nodes, values.shape[1]), dtype=values.dtype)
    events = values[trials]  # (N, nodes, m), one gather; a pad reads any row, never used
    state = np.zeros((k + 1, nodes, values.shape[1]), dtype=values.dtype)
    state[0] = 1
    moved = np.empty_like(state[:k])
    active = (trials >= 0).sum(axis=1).tolist()
    for t, a in enumerate(active):
        lo, hi = max(0, k - (n_trials - t)), min(t, k - 1) + 1  # live states: lo ≤ j < hi
        step = np.multiply(state[lo:hi, :a], events[t, :a], out=moved[lo:hi, :a])  # a success moves up
        state[lo:hi, :a] -= step
        state[lo + 1:hi + 1, :a] += step
    return state[k]


def trial_product(values: np.ndarray, trials: np.ndarray, complement: bool = False) -> np.ndarray:
    """Π p over each node's trials (Π (1 − p) with ``complement``): P(every trial succeeds), the
    tail for k = n, and 1 − P(at least one), for k = 1. ``values`` and ``trials`` as in
    :func:`k_of_n_window`.

    >>> trials = np.array([[0, -1], [1, 1]])
    >>> trial_product(np.array([[0.5], [0.9]]), trials).round(6).tolist()
    [[0.45], [0.9]]
    """
    events = values[trials]  # (N, nodes, m), one gather; a pad reads any row, never used
    if complement:
        np.subtract(1, events, out=events)
    out = events[-1]  # every node has a last trial
    for t, a in enumerate((trials[:-1] >= 0).sum(axis=1).tolist()):
        out[:a] *= events[t, :a]
    return out


def k_of_n_normal(values: np.ndarray, groups: np.ndarray, counts: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """The Poisson-binomial tail by the refined normal approximation (Volkova 1996), for many nodes.

    ``values`` (children, m); ``groups`` (G, nodes) the children of each node (−1 pads);
    ``counts`` (G, nodes) each one's number of trials (0 for pads); ``ks`` (nodes,). With μ, σ² and
    γ the mean, variance and skewness of the number of successes (sums over children, so the
    cost is one pass per child whatever the counts),

        P(X ≤ k − 1) ≈ Φ(t) + γ·(1 − t²)·φ(t)/6,   t = (k − ½ − μ)/σ,

    a continuity-corrected normal with a skewness term: error O(1/σ²).

    >>> v = k_of_n_normal(np.array([[0.7], [0.8]]), np.array([[0], [1]]), np.array([[500], [500]]),
    ...                   np.array([750]))  # 750 of 1,000: exactly 0.5170350 by dynamic programming
    >>> round(float(v[0, 0]), 6)
    0.517035
    """
    dtype = values.dtype.type
    mean = np.zeros((groups.shape[1], values.shape[1]), dtype=values.dtype)
    var, third = np.zeros_like(mean), np.zeros_like(mean)
    for row, count in zip(groups, counts, strict=True):
        p = values[np.maximum(row, 0)]
        c = count.astype(values.dtype)[:, None]
        pq = p * (dtype(1) - p)
        mean += c * p
        var += c * pq
        third += c * pq * (dtype(1) - dtype(2) * p)
    return normal_tail(mean, var, third, ks[:, None])


def normal_tail(mean: np.ndarray, var: np.ndarray, third: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """:func:`k_of_n_normal` from the sums it adds up: Σ n·p, Σ n·p(1 − p) and Σ n·p(1 − p)(1 − 2p)
    over the children, and k (arrays that broadcast together)."""
    from scipy.special import ndtr  # deferred: only k-of-n maps need it; saves start-up

    dtype = mean.dtype.type
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip((ks.astype(mean.dtype) - dtype(0.5) - mean) / sd, -40, 40)  # σ = 0: ±40
        skew = np.where(var > 0, third / (var * sd), dtype(0))
    density = np.exp(dtype(-0.5) * t * t) * dtype(1 / np.sqrt(2 * np.pi))
    below = ndtr(t) + skew * (dtype(1) - t * t) * density / dtype(6)
    return np.clip(dtype(1) - below, 0, 1)


def normalised(weights: Weights) -> list[float]:
    """Weights scaled to sum to 1, divided by the largest first so the sum cannot overflow.

    >>> normalised([1e308, 1e308]), normalised([1, 3])
    ([0.5, 0.5], [0.25, 0.75])
    """
    top = max(weights)
    scaled = [w / top for w in weights]
    total = sum(scaled)
    return [w / total for w in scaled]


def mean(values: Values, weights: Weights) -> np.ndarray:
    """Weighted arithmetic mean: a benchmark average."""
    share = normalised(weights)
    return sum(w * p for p, w in zip(values, share, strict=True))


def minimum(values: Values, weights: Weights) -> np.ndarray:
    """The weakest child (weights are ignored)."""
    return np.minimum.reduce(list(values))


def geomean(values: Values, weights: Weights) -> np.ndarray:
    """Weighted geometric mean: Π p_i^(w_i / Σw)."""
    return all_of(values, normalised(weights))


def min_padded(trials: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
    """:func:`minimum` for many nodes at once over children padded with 1 (which never lowers a min)."""
    return trials.min(axis=0)


RULES: Registry[Rule] = Registry("composition rule", {
    "all": Rule("all", "Every child must succeed; a count c is a chain of c independent steps.",
                all_of, "product", space="log", label="all of"),
    "any": Rule("any", "Any one attempt suffices.", any_of, "product", space="log1m", label="any of"),
    "k_of_n": Rule("k_of_n", "At least k successes, child i counting as c_i independent trials.",
                   k_of_n, "tail", per_trial=True, param="k",
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
