"""Allocations: how parameters, training tokens, FLOPs and (with a loss law) pretraining loss relate.

Two allocations share one interface (``log_params``, ``log_unit``, ``convert``, ``point``), so every
command follows whichever a map declares:

- :class:`capgraph.scale.FixedRatio`: tokens = r·params (the core's default, r = 20);
- :class:`ComputeOptimal`: the split that minimises a loss law L(N, D) = E + A/N^α + B/D^β under
  C = 6·N·D, i.e. N*(C) = G·(C/6)^a, D* = (C/6)/N*, a = β/(α+β), G = (αA/(βB))^(1/(α+β)).

Both are straight lines in log10 space between params, tokens and FLOPs, so conversions are
vectorised and round trips exact. Along the compute-optimal frontier both terms of the law shrink
as (C/6)^(−γ) with γ = αβ/(α+β), so L*(C) = E + K·(C/6)^(−γ) is closed form too; a map's ``loss``
unit (log10 of the loss, lower is better) converts through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from capgraph.engine.plan import Plan
from capgraph.format.schema import LOSS_PRESETS, ScaleSpec
from capgraph.kernels.curves import FAMILIES
from capgraph.kernels.scale import LOG6, UNITS, Conversions, FixedRatio, ScalePoint


@dataclass(frozen=True)
class LossLaw:
    """L(N, D) = E + A/N^α + B/D^β (Hoffmann et al. 2022's parametric form)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def loss(self, log_params, log_tokens):
        """The law at log10 params and log10 tokens (arrays broadcast)."""
        return (self.E + self.A * np.power(10.0, -self.alpha * np.asarray(log_params))
                + self.B * np.power(10.0, -self.beta * np.asarray(log_tokens)))

    @property
    def a(self) -> float:
        """Exponent of N* in C: a = β/(α+β)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def log_g(self) -> float:
        """log10 G, G = (αA/(βB))^(1/(α+β))."""
        return math.log10(self.alpha * self.A / (self.beta * self.B)) / (self.alpha + self.beta)

    @property
    def gamma(self) -> float:
        """Exponent of the reducible loss along the frontier: γ = αβ/(α+β)."""
        return self.alpha * self.beta / (self.alpha + self.beta)

    @property
    def log_k(self) -> float:
        """log10 K where L*(C) = E + K·(C/6)^(−γ): K = A·G^(−α) + B·G^β."""
        g = 10.0 ** self.log_g
        return math.log10(self.A * g ** -self.alpha + self.B * g ** self.beta)

    def log_params_for(self, loss, log_tokens):
        """log10 N with L(N, D) = loss at fixed log10 D; nan where no model size gets there."""
        rest = np.asarray(loss, dtype=float) - self.E - self.B * np.power(10.0, -self.beta * np.asarray(
            log_tokens, dtype=float))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(rest > 0, (math.log10(self.A) - np.log10(rest)) / self.alpha, np.nan)

    def as_dict(self) -> dict[str, float]:
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}


#: Named laws a map may use as ``allocation: NAME``.
PRESETS: dict[str, LossLaw] = {name: LossLaw(**values) for name, values in LOSS_PRESETS.items()}


@dataclass(frozen=True)
class ComputeOptimal(Conversions):
    """Compute-optimal training under a loss law: each budget split as the law says is best."""

    law: LossLaw

    def log_params(self, log_x, unit: str):
        """log10 params from log10 of a scale in ``unit`` (for ``loss``: log10 of the loss)."""
        law = self.law
        if unit == "params":
            return log_x
        if unit == "flops":
            return law.log_g + law.a * (np.asarray(log_x) - LOG6)
        if unit == "tokens":  # log D = −log G + (1 − a)·log(C/6)
            return law.log_g + law.a * (np.asarray(log_x) + law.log_g) / (1 - law.a)
        if unit == "loss":
            with np.errstate(divide="ignore", invalid="ignore"):
                excess = np.where(np.power(10.0, log_x) > law.E, np.power(10.0, log_x) - law.E, np.nan)
                log_c6 = (law.log_k - np.log10(excess)) / law.gamma
            return law.log_g + law.a * log_c6
        raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")

    def log_unit(self, log_params, unit: str):
        """log10 of a scale in ``unit`` from log10 params."""
        law = self.law
        log_c6 = (np.asarray(log_params) - law.log_g) / law.a  # log10(C/6)
        if unit == "params":
            return log_params
        if unit == "flops":
            return LOG6 + log_c6
        if unit == "tokens":
            return log_c6 - log_params
        if unit == "loss":
            return np.log10(law.E + np.power(10.0, law.log_k - law.gamma * log_c6))
        raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")


@dataclass(frozen=True)
class Efficient:
    """An allocation whose points report the loss at the effective compute ``efficiency``·C.

    Conversions between units are physical and unchanged (delegated); only ``point`` differs, so
    a scenario's crossing reports the loss it stands for, not the baseline's loss at that compute.
    """

    base: Any
    efficiency: float

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "base":  # copy/pickle probe before fields exist
            raise AttributeError(name)
        return getattr(self.base, name)

    def point(self, log_x: float, unit: str) -> ScalePoint:
        return self.points(np.array([log_x]), unit)[0]

    def points(self, log_x: np.ndarray, unit: str) -> list[ScalePoint]:
        points = self.base.points(log_x, unit)
        if getattr(self.base, "law", None) is None:
            return points
        log_eff = self.base.convert(self.base.convert(np.asarray(log_x, dtype=float), unit, "flops")
                                    + math.log10(self.efficiency), "flops", "loss")
        losses = np.power(10.0, np.atleast_1d(log_eff)).tolist()
        return [replace(p, loss=loss) for p, loss in zip(points, losses, strict=True)]


def allocation_for(scale: ScaleSpec):
    """The allocation a map's ``scale`` block declares (FixedRatio or ComputeOptimal)."""
    spec = scale.allocation
    if spec is None:
        return FixedRatio(scale.tokens_per_param)
    if isinstance(spec, str):  # a preset written bare: allocation: besiroglu2024
        return ComputeOptimal(PRESETS[spec])
    law = law_of(spec.loss_law)
    if spec.tokens_per_param is not None:
        return FixedRatio(spec.tokens_per_param, law)
    assert law is not None  # the schema requires one of the two
    return ComputeOptimal(law)


def law_of(spec) -> LossLaw | None:
    """A LossLaw from the schema's ``loss_law`` value (a preset name or the five constants)."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return PRESETS[spec]
    return LossLaw(**spec.model_dump())


# --- the engine's view: curves evaluated at an effective scale, or against loss ---------------------


def mirror_params(kind: str, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A curve's parameters for the coordinate −log10 loss (so value rises as loss falls)."""
    q = dict(params)
    family = FAMILIES[kind]
    key = family.param(family.location).arg
    q[key] = -q[key]
    return q


def adapt_plan(plan: Plan, units, axis: str, grid_axis: str, efficiency: float = 1.0) -> Plan:
    """The plan evaluated on the grid axis, physical scale in, for curves written on ``axis``.

    An ``efficiency`` e reads every curve at the effective compute e·C (a constant shift in log
    space, since every allocation is linear there); a ``loss`` axis reads curves at −log10 of the
    loss the allocation's law gives for each grid scale, with each curve's parameters mirrored to
    match. Plans needing neither come back as they are.
    """
    if axis != "loss" and efficiency == 1.0:
        return plan
    shift = math.log10(efficiency)

    def to_coord(log_x: np.ndarray) -> np.ndarray:
        log_eff = units.convert(units.convert(log_x, grid_axis, "flops") + shift, "flops", grid_axis)
        if axis == "loss":
            return -units.convert(log_eff, grid_axis, "loss")
        return log_eff

    levels = list(plan.levels)
    if axis == "loss":
        first = levels[0]
        levels[0] = replace(
            first,
            skills=[replace(b, params=mirror_params(b.kind, b.params)) for b in first.skills],
            points=[replace(p, log_xs=-p.log_xs[::-1], ys=p.ys[::-1]) for p in first.points],
        )
    return replace(plan, levels=levels, coord=to_coord)
