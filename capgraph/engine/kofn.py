"""The engine's k-of-n blocks: a level's ``k_of_n`` parents, grouped by cost, and their evaluation.

Each parent is compiled into its distinct children with their counts (trials), and one of two
methods (see :mod:`capgraph.kernels.rules` for the maths): small parents (n·min(k, n − k + 1) ≤
``EXACT_WORK``) take the exact dynamic programme, in blocks by state size (powers of two above 8)
so that padding never doubles a parent's work; large ones the binomial tail in closed
form when all their children have the same values, else the refined normal approximation. No form
holds one value per trial, so "750 of 1,000" or "15,000 of 20,000" costs what its distinct children
cost, and evaluation works through the values in column slices so temporaries stay under
``KOFN_FLOATS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capgraph.kernels.rules import EXACT_WORK, binomial_tail, k_of_n_exact, k_of_n_normal

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


def compile_block(requires: list[dict[int, int]], ks: list[int]) -> list[tuple[np.ndarray, KOfNBlock]]:
    """Group parents (each a {child row: trials} and its k) into blocks: (positions, block) pairs."""
    buckets: dict[tuple, list[int]] = {}
    for i, (req, k) in enumerate(zip(requires, ks, strict=True)):
        n = sum(req.values())
        size = max(1, min(k, n - k + 1))
        if n * size <= EXACT_WORK:  # by state size (in powers of two above 8), and by trials beyond 16
            key = ("exact", size if size <= 8 else _pow2(size), _pow2(n) if n > 16 else 0)
        else:
            key = ("normal",)
        buckets.setdefault(key, []).append(i)
    out = []
    for key, members in sorted(buckets.items()):
        kids = _padded([list(requires[i]) for i in members])
        counts = _padded([list(requires[i].values()) for i in members], 0)
        out.append((np.array(members), KOfNBlock(key[0] == "exact", kids, np.array([ks[i] for i in members]),
                                                 counts)))
    return out


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
    if block.exact:
        n = block.counts.sum(axis=0)
        per_value = 2 * int(np.minimum(block.ks, n - block.ks + 1).max()) + 3  # states, a step's, a child's
    else:
        per_value = 8
    step = max(1, KOFN_FLOATS // (per_value * parents))
    for c0 in range(0, width, step):
        cols = slice(c0, min(width, c0 + step))
        out[:, cols] = _evaluate(block, flat[:, cols])
    return out.reshape(parents, *values.shape[1:])


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
