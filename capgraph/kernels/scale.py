"""Conversions between scale units: parameters, training tokens, training FLOPs (and loss).

A map writes its curves on one axis; every prediction is reported in all three. With a fixed
tokens-per-parameter ratio r (compute-optimal training, Hoffmann et al. 2022: r ≈ 20):
tokens = r·params and flops = 6·params·tokens = 6·r·params². Work is done in log10 so that arrays
of scales convert without overflow and the inverses are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

LOG6 = float(np.log10(6.0))
#: Every unit a scale can be given in: the three axes, and loss under a loss law.
Axis = Literal["params", "tokens", "flops"]
AXES: tuple[Axis, ...] = ("params", "tokens", "flops")
UNITS = (*AXES, "loss")


@dataclass(frozen=True)
class ScalePoint:
    """One scale, in all three units."""

    params: float
    tokens: float
    flops: float
    #: Pretraining loss the allocation's loss law gives for this run (None without a law).
    loss: float | None = None

    def as_dict(self) -> dict[str, float]:
        out = {"params": self.params, "tokens": self.tokens, "flops": self.flops}
        if self.loss is not None:
            out["loss"] = self.loss
        return out


def make_point(units: Any, log_params: float) -> ScalePoint:
    """A ScalePoint from log10 params under ``units`` (with the loss when it has a law)."""
    return make_points(units, np.array([log_params]))[0]


def make_points(units: Any, log_params: np.ndarray) -> list[ScalePoint]:
    """:func:`make_point` for an array of log10 params, converting whole arrays at once."""
    columns = unit_columns(units, log_params)
    if len(columns) == len(AXES):
        columns.append([None] * len(columns[0]))
    return [ScalePoint(*row) for row in zip(*columns, strict=True)]


def unit_columns(units: Any, log_params: np.ndarray) -> list[list[float]]:
    """The fields of :func:`make_points`' points as columns: params, tokens, flops and, when
    ``units`` has a loss law, the loss."""
    columns = [np.power(10.0, units.log_unit(log_params, u)).tolist() for u in AXES]
    if getattr(units, "law", None) is not None:
        columns.append(np.power(10.0, units.log_unit(log_params, "loss")).tolist())
    return columns


class Conversions:
    """What every allocation derives from its ``log_params`` and ``log_unit``."""

    def convert(self, log_x, src: str, dst: str):
        """log10 of a scale in ``src`` converted to log10 in ``dst``."""
        return self.log_unit(self.log_params(log_x, src), dst)

    def point(self, log_x: float, unit: str) -> ScalePoint:
        """A scale in ``unit`` (as log10) in every unit."""
        return make_point(self, float(self.log_params(log_x, unit)))

    def points(self, log_x: np.ndarray, unit: str) -> list[ScalePoint]:
        """Many scales in ``unit`` (as log10) in every unit, converted as arrays."""
        return make_points(self, self.log_params(np.asarray(log_x, dtype=float), unit))


@dataclass(frozen=True)
class FixedRatio(Conversions):
    """Training at a fixed ratio of tokens to parameters.

    With a loss law (``law``, a :class:`capgraph.allocation.LossLaw`) the ``loss`` unit is log10 of
    L(N, r·N), which falls strictly with N and is inverted by bisection.
    """

    tokens_per_param: float = 20.0
    law: Any = None

    def log_params(self, log_x, unit: str):
        """log10 params from log10 of a scale in ``unit``."""
        log_r = np.log10(self.tokens_per_param)
        if unit == "params":
            return log_x
        if unit == "tokens":
            return log_x - log_r
        if unit == "flops":
            return (log_x - LOG6 - log_r) / 2
        if unit == "loss":
            return self._invert_loss(np.asarray(log_x, dtype=float))
        raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")

    def _invert_loss(self, log_loss: np.ndarray):
        law = self._need_law()
        lo, hi = np.full(log_loss.shape, -10.0), np.full(log_loss.shape, 40.0)
        for _ in range(100):  # 50 decades / 2^100: exact to double precision
            mid = (lo + hi) / 2
            too_small = self.log_unit(mid, "loss") > log_loss  # loss still above the target
            lo, hi = np.where(too_small, mid, lo), np.where(too_small, hi, mid)
        reachable = 10.0 ** log_loss > law.E
        out = np.where(reachable, (lo + hi) / 2, np.nan)
        return out if out.ndim else float(out)

    def _need_law(self):
        if self.law is None:
            raise ValueError("the loss unit needs a loss law: scale.allocation with loss_law")
        return self.law

    def log_unit(self, log_params, unit: str):
        """log10 of a scale in ``unit`` from log10 params."""
        log_r = np.log10(self.tokens_per_param)
        if unit == "params":
            return log_params
        if unit == "tokens":
            return log_params + log_r
        if unit == "flops":
            return LOG6 + log_r + 2 * log_params
        if unit == "loss":
            return np.log10(self._need_law().loss(log_params, log_params + log_r))
        raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")
