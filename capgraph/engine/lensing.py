"""The engine's lens blocks: a level's nodes under one metric lens, scored in place on their rows.

Every lens is applied by its kernel from :mod:`capgraph.kernels.lenses`, with two exceptions that
only make a float32 (Monte Carlo) pass cheaper. ``np.power`` with a per-node exponent costs several
nanoseconds a value, the most of any lens, while in the maps people write the exponent of
``exact_match`` (a length) and of ``pass_at`` (attempts) is a small whole number: a float32 pass
raises each group of nodes with the same whole exponent by repeated squaring
(:func:`whole_power`), and any other exponent as exp(L·log p), in place on the gathered rows. Both
stay within a few float32 roundings of ``np.power``, far inside the Monte Carlo sampling error. A
float64 pass (the point estimates) keeps ``np.power``, so its answers do not move by a bit.
``multiple_choice`` is done in place in any precision, with the kernel's operations in its order.
"""

from __future__ import annotations

import numpy as np

from capgraph.kernels.lenses import LENSES

#: Whole exponents up to this one are raised by repeated squaring; larger ones by exp(L·log p).
MAX_WHOLE = 64


def whole_power(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` raised to the whole number ``n`` ≥ 1 in place, by repeated squaring: at most 2·log2 n
    multiplications, so the float32 result is within a few roundings of ``np.power``.

    >>> whole_power(np.array([0.5, 2.0, 3.0]), 5).tolist()
    [0.03125, 32.0, 243.0]
    """
    bits = bin(int(n))[3:]  # after the leading 1: square for each bit, multiply by x for each 1
    base = x.copy() if "1" in bits else None
    for bit in bits:
        x *= x
        if bit == "1":
            x *= base
    return x


def powers(values: np.ndarray, nodes: np.ndarray, exponents: np.ndarray, complement: bool = False) -> None:
    """Raise the rows ``nodes`` of ``values`` to ``exponents`` (nodes,) > 0 in place: the rows with
    the same whole exponent at once by :func:`whole_power`, others by exp(L·log p). With
    ``complement``, 1 − (1 − p)^L instead.

    >>> values = np.array([[0.5, 0.25], [0.5, 0.25], [0.5, 0.25]])
    >>> powers(values, np.array([0, 2]), np.array([2.0, 0.5]))
    >>> values.tolist()
    [[0.25, 0.0625], [0.5, 0.25], [0.7071067811865476, 0.5]]
    """
    whole = (exponents == np.round(exponents)) & (exponents >= 1) & (exponents <= MAX_WHOLE)
    groups = [(int(n), exponents == n) for n in np.unique(exponents[whole])]
    if not whole.all():
        groups.append((0, ~whole))
    for n, chosen in groups:
        members = nodes[chosen]
        rows = values[members]  # a copy, raised in place and written back
        if complement:
            np.subtract(1, rows, out=rows)
        if n:
            whole_power(rows, n)
        else:
            with np.errstate(divide="ignore"):  # log 0 = −inf, and e^−inf = 0 = 0^L
                np.log(rows, out=rows)
            rows *= exponents[chosen].astype(rows.dtype).reshape(-1, *(1,) * (rows.ndim - 1))
            np.exp(rows, out=rows)
        if complement:
            np.subtract(1, rows, out=rows)
        values[members] = rows


def _multiple_choice(rows: np.ndarray, options: np.ndarray) -> None:
    share = (1.0 / options.astype(rows.dtype)).reshape(-1, *(1,) * (rows.ndim - 1))
    rows *= 1.0 - share  # 1/n + (1 − 1/n)·p: the kernel's operations, in its order
    rows += share


#: Lenses done in place on their gathered rows in any precision, bit for bit as their kernels do.
IN_PLACE = {"multiple_choice": _multiple_choice}
#: Lenses done by :func:`powers` in float32 passes (p^L, and 1 − (1 − p)^k: complemented).
FLOAT32_POWERS = {"exact_match": False, "pass_at": True}


def apply(kind: str, values: np.ndarray, nodes: np.ndarray, param: np.ndarray) -> None:
    """Score the rows ``nodes`` of ``values`` (nodes, ...) in place under the lens ``kind``, each
    node with its parameter ``param`` (nodes,).

    >>> values = np.array([[0.5, 0.5], [0.5, 1.0]])
    >>> apply("multiple_choice", values, np.array([1]), np.array([4]))
    >>> values.tolist()
    [[0.5, 0.5], [0.625, 1.0]]
    """
    if values.dtype == np.float32 and kind in FLOAT32_POWERS:
        powers(values, nodes, param, FLOAT32_POWERS[kind])
        return
    rows = values[nodes]  # a copy, scored in place and written back
    if kind in IN_PLACE:
        IN_PLACE[kind](rows, param)
    else:
        lens = LENSES[kind]
        shape = (-1, *(1,) * (values.ndim - 1))
        rows = lens.kernel(rows, **{lens.param: param.astype(values.dtype).reshape(shape)})
    values[nodes] = rows
