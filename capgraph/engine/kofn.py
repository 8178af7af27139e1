"""The engine's k-of-n blocks: a level's ``k_of_n`` parents, grouped by cost, and their evaluation.

Each parent is compiled into its distinct children with their counts (trials), and one of two
methods (see :mod:`capgraph.kernels.rules` for the maths): small parents (n·min(k, n − k + 1) ≤
``EXACT_WORK``) take the exact dynamic programme, in buckets by state size (powers of two above
8) so that padding never doubles a parent's work; large ones the binomial tail in closed
form when all their children have the same values, else the refined normal approximation. No form
holds one value per trial, so "750 of 1,000" or "15,000 of 20,000" costs what its distinct children
cost, and evaluation works through the values in column slices so temporaries stay under
``KOFN_FLOATS``.

A float32 (Monte Carlo) pass takes an exact block's parents another way (:attr:`KOfNBlock.shapes`):
grouped by k, each parent's trials one by one, only the states that can still decide updated
(:func:`~capgraph.kernels.rules.k_of_n_window`), and plain products for k = n and k = 1. That is
about three times cheaper than the programme over padded size buckets, and agrees with it to
float32 rounding; a float64 pass (the point estimates) keeps the programme, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from capgraph.kernels.rules import (
    EXACT_WORK,
    binomial_tail,
    k_of_n_exact,
    k_of_n_normal,
    k_of_n_window,
    trial_product,
)

#: Most values the temporaries of one k-of-n step may hold (32 MB in float32).
KOFN_FLOATS = 8_000_000


@dataclass
class KOfNBlock:
    """Parents of one level evaluated together: by the exact programme, or else in closed form or
    by the normal approximation.

    ``children`` is (G, parents), each parent's distinct children (−1 pads), ``counts`` (G,
    parents) their trials (0 for pads) and ``ks`` (parents,).
    """

    exact: bool
    children: np.ndarray
    ks: np.ndarray
    counts: np.ndarray

    @cached_property
    def buckets(self) -> list[tuple[np.ndarray, KOfNBlock]]:
        """An exact block's parents in blocks of similar cost for :func:`k_of_n_exact`, (positions,
        block) pairs: by state size, so that padding never doubles a parent's work."""
        n = self.counts.sum(axis=0).tolist()
        groups: dict[tuple[int, int] | None, list[int]] = {}
        for j, (total, k) in enumerate(zip(n, self.ks.tolist(), strict=True)):
            groups.setdefault(_cost(total, k), []).append(j)
        if len(groups) == 1:
            return [(np.arange(len(self.ks)), self)]
        return [(cols, KOfNBlock(True, self.children[:, cols], self.ks[cols], self.counts[:, cols]))
                for cols in (np.array(members) for _, members in sorted(groups.items()))]

    @cached_property
    def shapes(self) -> list[Shape]:
        """The parents of an exact block grouped for float32 passes (:func:`_by_trials`): by k,
        with k = n (a product) and k = 1 (one minus a product) apart, each group's trials end-aligned
        in order of falling n."""
        n = self.counts.sum(axis=0).tolist()
        groups: dict[tuple[str, int], list[int]] = {}
        for j, (k, total) in enumerate(zip(self.ks.tolist(), n, strict=True)):
            if k > total:
                key = ("never", 0)
            elif k == total or k <= 1:
                key = ("all" if k == total else "any", 0)
            else:
                key = ("tail", k)
            groups.setdefault(key, []).append(j)
        kids, counts = self.children.T.tolist(), self.counts.T.tolist()
        shapes = []
        for (kind, k), members in sorted(groups.items()):
            members.sort(key=lambda j: -n[j])
            seqs = [[c for c, count in zip(kids[j], counts[j], strict=True) for _ in range(count)]
                    for j in members]
            trials = np.full((max(1, len(seqs[0])), len(members)), -1, dtype=np.intp)
            for j, seq in enumerate(seqs):
                trials[len(trials) - len(seq):, j] = seq
            shapes.append(Shape(kind, k, np.array(members), trials))
        return shapes


@dataclass
class Shape:
    """Parents of a block that share a form: ``"tail"`` (at least ``k``), ``"all"`` (k = n),
    ``"any"`` (k = 1) or ``"never"`` (k > n); ``positions`` in the block, ``trials`` (N,
    parents) as :func:`capgraph.kernels.rules.k_of_n_window` takes them."""

    kind: str
    k: int
    positions: np.ndarray
    trials: np.ndarray


def compile_block(requires: list[dict[int, int]], ks: list[int]) -> list[tuple[np.ndarray, KOfNBlock]]:
    """Group parents (each a {child row: trials} and its k) into blocks: (positions, block) pairs,
    one for the exact programme (:attr:`KOfNBlock.buckets` splits it by cost) and one for the
    normal approximation."""
    exact = [_cost(sum(req.values()), k) is not None for req, k in zip(requires, ks, strict=True)]
    out = []
    for method in (True, False):
        members = [i for i, e in enumerate(exact) if e == method]
        if members:
            block = _block(method, [requires[i] for i in members], [ks[i] for i in members])
            out.append((np.array(members), block))
    return out


def _cost(n: int, k: int) -> tuple[int, int] | None:
    """The exact programme's bucket for a parent of n trials: by state size (in powers of two above
    8) and by trials beyond 16; None when it takes the normal approximation."""
    size = max(1, min(k, n - k + 1))
    if n * size > EXACT_WORK:
        return None
    return size if size <= 8 else _pow2(size), _pow2(n) if n > 16 else 0


def _block(exact: bool, requires: list[dict[int, int]], ks: list[int]) -> KOfNBlock:
    kids = _padded([list(req) for req in requires])
    counts = _padded([list(req.values()) for req in requires], 0)
    return KOfNBlock(exact, kids, np.array(ks), counts)


def _pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


def _padded(rows: list[list[int]], pad: int = -1) -> np.ndarray:
    """Lists as the columns of a (longest, len(rows)) array, padded with ``pad``."""
    out = np.full((max(map(len, rows)), len(rows)), pad, dtype=np.int64)
    for j, row in enumerate(rows):
        out[:len(row), j] = row
    return out


def apply(block: KOfNBlock, values: np.ndarray) -> np.ndarray:
    """The block's parents' values, (parents, *values.shape[1:]), from ``values`` (nodes, ...)."""
    flat = values.reshape(len(values), -1)  # a view: every child's values as one row
    parents, width = len(block.ks), flat.shape[1]
    out = np.empty((parents, width), dtype=values.dtype)
    if block.exact and values.dtype != np.float32 and len(block.buckets) > 1:
        for positions, bucket in block.buckets:
            out[positions] = apply(bucket, flat)
        return out.reshape(parents, *values.shape[1:])
    by_trials = block.exact and values.dtype == np.float32
    if by_trials:  # the states of the largest k and its step's moved states, and every trial's event
        per_value = 2 * int(block.ks.max()) + 1 + int(block.counts.sum(axis=0).max())
    elif block.exact:
        n = block.counts.sum(axis=0)
        per_value = 2 * int(np.minimum(block.ks, n - block.ks + 1).max()) + 3  # states, a step's, a child's
    else:
        per_value = 8
    step = max(1, KOFN_FLOATS // (per_value * parents))
    for c0 in range(0, width, step):
        cols = slice(c0, min(width, c0 + step))
        if by_trials:
            _by_trials(block, flat[:, cols], out[:, cols])
        else:
            out[:, cols] = _evaluate(block, flat[:, cols])
    return out.reshape(parents, *values.shape[1:])


def _by_trials(block: KOfNBlock, flat: np.ndarray, out: np.ndarray) -> None:
    """An exact block's parents into ``out`` by their shapes: trial by trial, only the states that
    can still decide, products for k = n and k = 1. Cheaper than :func:`k_of_n_exact` (no padding,
    no flipped events), but its sums run in another order, so float64 passes keep that one."""
    for shape in block.shapes:
        if shape.kind == "tail":
            out[shape.positions] = k_of_n_window(flat, shape.trials, shape.k)
        elif shape.kind == "all":
            out[shape.positions] = trial_product(flat, shape.trials)
        elif shape.kind == "any":
            none = trial_product(flat, shape.trials, complement=True)
            out[shape.positions] = np.subtract(1, none, out=none)
        else:
            out[shape.positions] = 0


def _evaluate(block: KOfNBlock, flat: np.ndarray) -> np.ndarray:
    if block.exact:
        return k_of_n_exact(flat, block.children, block.counts, block.ks)
    first = flat[block.children[0]]
    n = block.counts.sum(axis=0)
    same = np.ones(len(block.ks), dtype=bool)  # children with identical values: one binomial
    for row in block.children[1:]:
        same &= (row < 0) | (flat[np.maximum(row, 0)] == first).all(axis=1)
    out = np.empty_like(first)
    if same.any():
        out[same] = binomial_tail(first[same], n[same, None], block.ks[same, None])
    if not same.all():
        rest = ~same
        out[rest] = k_of_n_normal(flat, block.children[:, rest], block.counts[:, rest], block.ks[rest])
    return out
