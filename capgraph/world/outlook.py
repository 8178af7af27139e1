"""What a crossing means in the world: does the data exist for it, and when is the compute there?

A crossing on a compute-optimal (or fixed-ratio) path needs a number of training tokens. When that
exceeds the data that exists (``scale.data_limit``), the capability may still be reached by
training a larger model on the data there is, at a higher cost. With a loss law this is exact under
the two-stage view (a capability depends on scale through the pretraining loss): fix D at the limit
and find the N whose loss L(N, D) equals the loss at the crossing; the cheapest run is there, or at
the compute-optimal split if that already fits the data. Without a law, how loss trades parameters
for data is unknown, so ``reachable`` is None (unknown), not a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from capgraph.core.units import human
from capgraph.kernels.scale import LOG6, ScalePoint
from capgraph.world.timeline import flops_to_dates, iso_dates


@dataclass(frozen=True)
class DataLimitCheck:
    """A crossing against the data that exists (the ``data_limit`` object of ``predict --json``)."""

    limit: float
    needed_tokens: float
    exceeds: bool
    reachable: bool | None  # None: unknown without a loss law
    min_flops: float | None
    min_params: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit, "needed_tokens": self.needed_tokens, "exceeds": self.exceeds,
            "reachable": self.reachable, "min_flops": self.min_flops, "min_params": self.min_params,
        }


def target_loss(units, log_flops: float, efficiency: float = 1.0) -> float:
    """The loss a crossing at physical ``log_flops`` stands for: the law at the effective compute."""
    log_n = units.log_params(log_flops + math.log10(efficiency), "flops")
    return float(units.law.loss(log_n, units.log_unit(log_n, "tokens")))


def cheapest_run(law, loss: float, limit: float) -> tuple[float, float] | None:
    """(params, FLOPs) of the cheapest run reaching ``loss`` on at most ``limit`` tokens, or None.

    The compute-optimal run for that loss if its data fits, else the model size that reaches the
    loss on exactly ``limit`` tokens: below the optimal D*, more data means a smaller model and a
    lower cost 6·N·D for the same loss, so the cheapest run allowed uses all the data there is.
    """
    if loss <= law.E:
        return None
    log_c6 = (law.log_k - math.log10(loss - law.E)) / law.gamma
    log_n = law.log_g + law.a * log_c6
    if log_c6 - log_n <= math.log10(limit):
        return 10.0 ** log_n, 10.0 ** (LOG6 + log_c6)
    log_n = float(law.log_params_for(loss, math.log10(limit)))
    if np.isnan(log_n):
        return None
    return 10.0 ** log_n, 6.0 * 10.0 ** log_n * limit


def check_data_limit(units, crossing: ScalePoint, limit: float,
                     efficiency: float = 1.0) -> DataLimitCheck:
    """Whether ``crossing`` (physical scale) needs more tokens than ``limit``, and what it would cost."""
    exceeds = crossing.tokens > limit
    if not exceeds:
        return DataLimitCheck(limit, crossing.tokens, False, True, crossing.flops, crossing.params)
    law = getattr(units, "law", None)
    if law is None:
        return DataLimitCheck(limit, crossing.tokens, True, None, None, None)
    run = cheapest_run(law, target_loss(units, math.log10(crossing.flops), efficiency), limit)
    if run is None:
        return DataLimitCheck(limit, crossing.tokens, True, False, None, None)
    params, flops = run
    # efficiency divides the compute any run needs; the run itself (N on D tokens, in the
    # baseline's terms) is the same, so min_params is the baseline-equivalent model size
    return DataLimitCheck(limit, crossing.tokens, True, True, flops / efficiency, params)


def quantile_dates(timeline, quantiles: dict[str, ScalePoint | None], limit: float | None,
                   why_missing: dict[str, str] | None = None
                   ) -> tuple[dict[str, str | None], dict[str, str]]:
    """The date of each crossing percentile under ``timeline``, and why each missing one is missing.

    A percentile has no date when it lies beyond the range (the reason comes in ``why_missing``),
    when it needs more training tokens than ``limit`` (the trend in compute does not make data),
    or when the trend reaches it outside years 1–9999.
    """
    keys = [k for k, q in quantiles.items() if q is not None]
    found = iso_dates(flops_to_dates([quantiles[k].flops for k in keys], timeline.start,
                                     timeline.flops, timeline.growth_per_year)) if keys else []
    dates: dict[str, str | None] = dict.fromkeys(quantiles)
    missing: dict[str, str] = {k: (why_missing or {}).get(k, f"{k} lies beyond the range")
                               for k, q in quantiles.items() if q is None}
    for k, d in zip(keys, found, strict=True):
        tokens = quantiles[k].tokens
        if limit is not None and tokens > limit:
            missing[k] = f"{k} needs {human(tokens)} training tokens, more than the {human(limit)} that exist"
        elif d is None:
            missing[k] = f"the compute trend reaches {k} outside years 1–9999"
        else:
            dates[k] = d
    return dates, missing
