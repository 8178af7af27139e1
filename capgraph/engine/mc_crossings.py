"""Crossings and sharpness of the sampled curves of a Monte Carlo slice, all levels at once.

A Monte Carlo pass reads each sampled curve at three levels: its threshold, and 10% and 90% of its
rise for the sharpness. The precise path of :mod:`capgraph.engine.predict` (which the point
estimates keep) brackets and refines one level at a time; here the three are bracketed together and
refined in one batch, on the same interpolant (a cubic Hermite in logit space, Newton from the
secant's root, bisection where Newton cannot be trusted), with what float32 curves, whose crossings
sampling moves by hundredths of a decade, can spare:

- most curves never fall, so the point where one first reaches a level is found by counting every
  eighth point below the level and three halvings, not by comparing every point with every level;
  the few curves that fall somewhere are compared point by point;
- logits in float32, one log of a ratio each (:func:`_logit`), and Newton stopped once a root moves
  less than ``TOLERANCE`` of a cell, its error then about the square of that;
- ufuncs writing into arrays made once, without numpy's Python-level wrappers.

On the 1,000-node bench map a draw's crossing or sharpness moves by at most 4e-5 decades (on a
nearly flat curve, whose float32 values are that coarse themselves; most by under 1e-7) and the
medians and percentiles a prediction reports by less than 1e-5; ``bench/crossings.py`` times both
ways side by side.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Newton stops once every root moves less than this fraction of a grid cell (then its error is
#: about the square of that: from the secant's root, two steps are enough for nearly all).
TOLERANCE = 1e-4
#: Newton steps at most; roots still moving after them are bisected (as are bent cells).
STEPS = 8
#: Bisection steps for bent cells (to 2**-16 of a cell), then one secant step.
BISECT_STEPS = 16
#: Probabilities are clipped to [_EPS, 1 − _EPS] before their logit, as the precise path does;
#: _LOW is 1 − (1 − _EPS) in float64, the least 1 − p there.
_EPS = 1e-15
_LOW = 1.0 - (1.0 - _EPS)
#: The stencil of a cell: grid points lo − 1, lo, lo + 1 and lo + 2.
_STENCIL = np.arange(-1, 3)[:, None]
#: Every _COARSE-th point places a crossing first (:func:`_first_reach`); a power of two.
_COARSE = 8


class Readings(NamedTuple):
    """What a Monte Carlo pass keeps of each sampled curve (arrays over curves, log10 scales)."""

    crossing: np.ndarray  # the first scale where it reaches its threshold; nan: never in range
    sharp: np.ndarray  # decades from 10% to 90% of its rise over the range; nan: no rise
    start: np.ndarray  # its value at the start of the range
    end: np.ndarray  # its value at the end
    top: np.ndarray  # its largest value


def read_curves(log_x: np.ndarray, rows: np.ndarray, thresholds: np.ndarray) -> Readings:
    """Each curve's crossing of its threshold, its sharpness and its values at the ends and top.

    ``rows`` (curves × points on ``log_x``) holds one sampled curve a row, ``thresholds`` one level
    a row. The crossing is the first scale where a curve reaches its threshold (the range's start
    if it is already there), the sharpness the decades between 10% and 90% of its rise from the
    start of the range to its end (nan unless it rises by more than 1e-9): the answers of
    :func:`~capgraph.engine.predict.first_crossing` and :func:`~capgraph.engine.predict.sharpness`
    within 1e-4 decades on float32 curves (far less except on nearly flat ones: see
    :func:`_logit`); the values are exact.
    """
    count = rows.shape[0]
    bumpy = _bumpy(rows)  # first: it reads every curve in order, which brings them into the cache
    start, end = rows[:, 0].astype(float), rows[:, -1].astype(float)
    rise = end - start
    levels = np.empty((3, count))
    levels[0] = thresholds
    np.multiply(rise, 0.1, out=levels[1])
    levels[1] += start
    np.multiply(rise, 0.9, out=levels[2])
    levels[2] += start
    found = crossings(log_x, rows, levels, bumpy)
    sharp = found[2] - found[1]
    sharp[~(rise > 1e-9)] = np.nan
    top = end.copy()  # a curve that never falls is largest at the end
    if bumpy.size:
        top[bumpy] = rows[bumpy].max(axis=1)
    return Readings(found[0], sharp, start, end, top)


def crossings(log_x: np.ndarray, rows: np.ndarray, levels: np.ndarray, bumpy: np.ndarray | None = None
              ) -> np.ndarray:
    """The first scale where each row of ``rows`` reaches each of its ``levels`` (k × rows).

    Returns log10 scales shaped like ``levels``: nan where a curve never reaches its level, the
    range's start where it starts there, else the root of :func:`refine` in the bracketing cell.
    ``bumpy`` is ``_bumpy(rows)`` if already at hand.
    """
    count, n = rows.shape
    first, at = _first_reach(rows, levels, _bumpy(rows) if bumpy is None else bumpy)
    out = np.full(first.size, np.nan)
    out[first == 0] = log_x[0]
    inside = np.flatnonzero((first > 0) & (first < n))
    if inside.size:
        lo = first[inside] - 1
        t = refine(rows, at[inside], lo, levels.T.reshape(-1)[inside])
        left = log_x[lo]
        out[inside] = left + t * (log_x[lo + 1] - left)
    return out.reshape(count, len(levels)).T


def _bumpy(rows: np.ndarray) -> np.ndarray:
    """The rows that fall somewhere (or hold nan): the curves binary search cannot read."""
    n = rows.shape[1]
    flat = rows.reshape(-1)
    rises = np.greater_equal(flat[1:], flat[:-1])  # one pass over all rows; row ends compare across rows
    across = np.greater_equal(rows[1:, 0], rows[:-1, -1])
    if rises.size - np.count_nonzero(rises) == across.size - np.count_nonzero(across):
        return np.array([], dtype=np.intp)  # every fall is from one row's end to the next row's start
    falls = np.flatnonzero(~rises)
    falls = falls[falls % n != n - 1]
    return np.unique(falls // n)


def _first_reach(rows: np.ndarray, levels: np.ndarray, bumpy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each row first reaches each of its ``levels`` (k × rows): how many of its points lie
    before that, from 0 (at the start) to n (never), and the flat position in ``rows`` of the point
    before it, both flat in (rows × k) order, a row's levels side by side, so that each pass of
    the search sweeps the curves once.

    Most curves never fall, so how many of their points lie below a level is found by binary
    search; the rows in ``bumpy`` are compared point by point. Comparisons are in the curves' own
    precision, as the precise path makes them.
    """
    count, n = rows.shape
    flat = rows.reshape(-1)
    k = len(levels)
    per_level = levels.astype(rows.dtype)
    wanted = per_level.T.reshape(-1)
    last = np.repeat(np.arange(n - 1, count * n, n), k)  # each row's last point, flat
    at = last - n  # before each row's first point, then before the first point at or above its level
    step = 1 << (n.bit_length() - 1)  # steps add up to at least n
    if n >= 2 * _COARSE:
        # every _COARSE-th point, transposed: counting those below a level is a sum over contiguous
        # rows, which places every crossing within _COARSE points at once
        coarse = rows[:, _COARSE - 1::_COARSE].T.copy()
        below = np.empty(coarse.shape, dtype=bool)
        counted = np.empty((k, count), dtype=np.intp)
        for j, level in enumerate(per_level):
            np.less(coarse, level, out=below)
            counted[j] = np.add.reduce(below.view(np.uint8), axis=0, dtype=np.uint8 if n < 2048 else np.intp)
        counted *= _COARSE
        at += counted.T.reshape(-1)
        step = _COARSE // 2
    probe = np.empty_like(at)
    seen = np.empty(at.size, dtype=rows.dtype)
    below = np.empty(at.size, dtype=bool)
    while step:  # binary search, a gather a step
        np.add(at, step, out=probe)
        np.minimum(probe, last, out=probe)  # past the end: the last point, below only if never reached
        np.take(flat, probe, out=seen, mode="wrap")
        np.less(seen, wanted, out=below)
        np.add(at, below * step, out=at)
        step >>= 1
    first = at - last
    first += n
    np.minimum(first, n, out=first)
    if bumpy.size:
        sub = rows[bumpy]
        mine = (bumpy * k)[:, None] + np.arange(k)  # their places in the flat (rows × k) order
        for j in range(k):
            above = sub >= per_level[j, bumpy][:, None]
            reach = above.argmax(axis=1)
            reach[~above[np.arange(len(bumpy)), reach]] = n
            first[mine[:, j]] = reach
            at[mine[:, j]] = bumpy * n + reach - 1
    return first, at


def refine(values: np.ndarray, at: np.ndarray, lo: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Fraction t in [0, 1] between grid points lo and lo + 1 where a curve meets ``level``; ``at``
    is the flat position of its point lo in ``values`` (curves × points).

    The interpolant, its slopes at the grid points and the cells where it is bent are those of
    :func:`capgraph.engine.predict._refine`; the logits are one log of a ratio each, Newton stops
    once a root moves less than ``TOLERANCE`` of a cell (then its error is about the square of
    that) and its steps write into arrays made once.
    """
    n = values.shape[1]
    # grid points lo − 1 … lo + 2, (4, roots); lo − 1 and lo + 2 leave the curve at its ends (wrap
    # keeps them in the array): slopes fixed below
    g = _logit(np.take(values.reshape(-1), at + _STENCIL, mode="wrap"))
    gm, g0, g1, g2 = g
    rise = g1 - g0
    m0 = g1 - gm  # slopes per grid step by centred differences, one-sided at the ends of the grid
    m0 *= 0.5
    m1 = g2 - g0
    m1 *= 0.5
    ends = np.flatnonzero((lo == 0) | (lo == n - 2))
    if ends.size:
        first, last = ends[lo[ends] == 0], ends[lo[ends] == n - 2]
        m0[first] = rise[first]
        m1[last] = rise[last]
    c3 = m0 + m1  # H(t) = g0 + m0·t + c2·t² + c3·t³, c3 = m0 + m1 − 2·rise, c2 = rise − m0 − c3
    c3 -= rise
    c3 -= rise
    c2 = rise - m0
    c2 -= c3
    # H(t) − target = offset + t·(m0 + t·(c2 + t·c3)); the target's logit in float64 (a level may lie
    # between float32 values), the offset small near the root: float32 again
    offset = np.subtract(g0, _logit(np.array(level, dtype=float))).astype(g.dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = np.negative(offset)
        t /= rise  # the secant's root
        t[np.isnan(t)] = 0.5
        np.maximum(t, 0, out=t)
        np.minimum(t, 1, out=t)
        c3x3 = 3 * c3
        slow = _newton(t, offset, m0, c2, c3, c3x3)
        # H'(t) = m0 + 2·c2·t + 3·c3·t² is m1 at t = 1; its minimum inside (0, 1), if any, at −c2/(3·c3),
        # which needs c2 < 0 < c2 + 3·c3 (so c3 > 0)
        dips = c2 < 0
        dips &= np.add(c2, c3x3) > 0
        candidates = np.flatnonzero(dips)
        if candidates.size:
            c = c2[candidates]
            dips[candidates] = m0[candidates] - c * c / c3x3[candidates] <= 0
    bent = np.minimum(m0, m1) <= 0
    bent |= dips
    if slow is not None:
        bent[slow] = True
    bent = np.flatnonzero(bent)
    if bent.size:
        t[bent] = _bisect(offset[bent], rise[bent], m0[bent], c2[bent], c3[bent])
    t[np.isnan(t)] = 0.5  # only from nan values, which the precise path reads as the cell's middle
    return t


def _logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 − p)) in place, in p's precision, p clipped to [_EPS, 1 − _EPS] first as the
    precise path clips it.

    In float32, 1 − p is exact for p ≥ ½ and the ratio and its log round at 6e-8 of their size: a
    logit moves by about 1e-7, which is 1e-3 of a cell only where the curve's logit rises by 1e-4
    across the cell (a value rising by 3e-5 there), where its float32 values are about that coarse
    themselves; elsewhere, float64 logits (three times the time) would change nothing a user sees.
    """
    ones = p.dtype.type(1.0)
    q = np.subtract(ones, p)
    np.maximum(q, p.dtype.type(_LOW), out=q)
    np.maximum(p, p.dtype.type(_EPS), out=p)
    np.divide(p, q, out=p)
    return np.log(p, out=p)


def _newton(t: np.ndarray, offset: np.ndarray, m0: np.ndarray, c2: np.ndarray, c3: np.ndarray,
            d3: np.ndarray) -> np.ndarray | None:
    """Newton's method on H(t) = target from ``t`` (updated in place), at most ``STEPS`` steps.

    Returns the positions of the roots still moving after the last step (None if none are). All
    roots take the first two steps (from the secant's root, most need one or two); then only
    those still moving, a gather per coefficient.
    """
    live: np.ndarray | None = None  # positions of the roots still moving; None: all of them
    d2 = 2 * c2  # H'(t) = m0 + t·(d2 + t·d3), d3 = 3·c3
    coeffs = offset, m0, c2, c3, d2, d3
    u = t
    move, slope = np.empty_like(t), np.empty_like(t)
    for step in range(STEPS):
        a0, b1, b2, b3, e2, e3 = coeffs
        np.multiply(u, b3, out=move)
        move += b2
        move *= u
        move += b1
        move *= u
        move += a0
        np.multiply(u, e3, out=slope)
        slope += e2
        slope *= u
        slope += b1
        move /= slope
        u -= move
        np.maximum(u, 0.0, out=u)
        np.minimum(u, 1.0, out=u)
        if live is not None:
            t[live] = u
        if step == 0:
            continue
        moving = np.abs(move, out=move) > TOLERANCE
        if not moving.any():
            return None
        if step == STEPS - 1:
            return moving.nonzero()[0] if live is None else live[moving]
        keep = moving.nonzero()[0]
        live = keep if live is None else live[keep]
        coeffs = tuple(c.take(keep) for c in coeffs)
        u = t[live]
        move, slope = move[:live.size], slope[:live.size]
    return None


def _bisect(offset, rise, m0, c2, c3) -> np.ndarray:
    """Root of H(t) = target on [0, 1] by bisection (the ends straddle it), then one secant step;
    H(t) − target = offset + t·(m0 + t·(c2 + t·c3)), ``rise`` = H(1) − H(0)."""

    def residual(t: np.ndarray) -> np.ndarray:
        h = t * c3
        h += c2
        h *= t
        h += m0
        h *= t
        h += offset
        return h

    a = np.zeros_like(offset)  # the bracket is [a, a + width], the residual below 0 at a
    width = 1.0
    t = np.empty_like(offset)
    for _ in range(BISECT_STEPS):
        width /= 2
        np.add(a, width, out=t)
        a += (residual(t) < 0) * np.float32(width)
    b = a + width
    ha, hb = residual(a), residual(b)
    ha[a == 0] = offset[a == 0]  # the ends of the cell, as the grid has them
    hb[b == 1] = (offset + rise)[b == 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = a - ha / (hb - ha) * (b - a)
    return np.where(np.isfinite(t), np.clip(t, a, b), (a + b) / 2)
