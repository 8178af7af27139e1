"""Conversions between the three scale units: parameters, training tokens and training FLOPs.

A map writes its curves on one axis; every prediction is reported in all three. With a fixed
tokens-per-parameter ratio r (compute-optimal training, Hoffmann et al. 2022: r ≈ 20):
tokens = r·params and flops = 6·params·tokens = 6·r·params². Work is done in log10 so that arrays
of scales convert without overflow and the inverses are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capgraph.schema import AXES

LOG6 = float(np.log10(6.0))


@dataclass(frozen=True)
class ScalePoint:
    """One scale, in all three units."""

    params: float
    tokens: float
    flops: float

    def as_dict(self) -> dict[str, float]:
        return {"params": self.params, "tokens": self.tokens, "flops": self.flops}


@dataclass(frozen=True)
class FixedRatio:
    """Training at a fixed ratio of tokens to parameters."""

    tokens_per_param: float = 20.0

    def log_params(self, log_x, unit: str):
        """log10 params from log10 of a scale in ``unit``."""
        log_r = np.log10(self.tokens_per_param)
        if unit == "params":
            return log_x
        if unit == "tokens":
            return log_x - log_r
        if unit == "flops":
            return (log_x - LOG6 - log_r) / 2
        raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(AXES)}")

    def log_unit(self, log_params, unit: str):
        """log10 of a scale in ``unit`` from log10 params."""
        log_r = np.log10(self.tokens_per_param)
        if unit == "params":
            return log_params
        if unit == "tokens":
            return log_params + log_r
        if unit == "flops":
            return LOG6 + log_r + 2 * log_params
        raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(AXES)}")

    def convert(self, log_x, src: str, dst: str):
        """log10 of a scale in ``src`` converted to log10 in ``dst``."""
        return self.log_unit(self.log_params(log_x, src), dst)

    def point(self, log_x: float, unit: str) -> ScalePoint:
        """A scale in ``unit`` (as log10) in all three units."""
        return self.points(np.array([log_x]), unit)[0]

    def points(self, log_x: np.ndarray, unit: str) -> list[ScalePoint]:
        """Many scales in ``unit`` (as log10) in all three units, converted as arrays."""
        log_p = self.log_params(np.asarray(log_x, dtype=float), unit)
        columns = [np.power(10.0, self.log_unit(log_p, u)).tolist() for u in AXES]
        return [ScalePoint(*row) for row in zip(*columns, strict=True)]
