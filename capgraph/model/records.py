"""What a notebook gets back: predictions, comparisons and Monte Carlo draws as flat records.

``cmap.predict()`` returns :class:`Predictions`, a list of :class:`~capgraph.engine.predict.Prediction`
that also gives ``to_records()`` (one flat dict a node: ``crossing_flops``, ``quantiles_p5_params``,
``date``...) and ``to_frame()``; ``cmap.compare()`` a :class:`Comparison`, the same dict as
``capgraph compare --json`` with one record per (node, scenario); ``cmap.draws()`` the raw
Monte Carlo crossings as :class:`CrossingDraws`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from capgraph.core.records import RecordsMixin, records
from capgraph.engine.predict import Prediction
from capgraph.kernels.scale import AXES


class Predictions(RecordsMixin, list):
    """A list of predictions (table order) that also lays itself out as flat records.

    ``outlook`` adds each prediction's real-world keys (data limit, dates), as ``predict --json`` does.
    """

    def __init__(self, items: Iterable[Prediction] = (),
                 outlook: Callable[[Prediction], dict[str, Any]] | None = None) -> None:
        super().__init__(items)
        self._outlook = outlook

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict a prediction; nested keys joined by ``_`` (``crossing_flops``)."""
        return records({**p.to_json(), **(self._outlook(p) if self._outlook else {})} for p in self)


class Comparison(RecordsMixin, dict):
    """``capgraph compare --json`` as a dict, and as one flat record per (node, scenario)."""

    def to_records(self) -> list[dict[str, Any]]:
        rows = []
        for cap in self["capabilities"]:
            for scenario, cell in cap["crossings"].items():
                rows.append({"name": cap["name"], "kind": cap["kind"], "scenario": scenario,
                             **(cell or {"threshold": None, "status": None, "crossing": None,
                                         "data_limited": None, "date": None})})
        return records(rows)


@dataclass(frozen=True)
class CrossingDraws(RecordsMixin):
    """Every Monte Carlo sample's crossing of every node with a threshold.

    ``log_x`` is (nodes, samples): log10 of the crossing on ``axis`` (the map's grid axis), ``nan``
    where that sample never crosses in range. These are the draws ``predict`` summarises into
    quantiles, ``p_never`` and ``p_crossed_by``, on the same grid with the same seed.
    """

    names: tuple[str, ...]
    log_x: np.ndarray
    axis: str
    units: Any
    seed: int

    @property
    def samples(self) -> int:
        return int(self.log_x.shape[1])

    def crossings(self, name: str, unit: str | None = None) -> np.ndarray:
        """One node's crossings over the samples, in ``unit`` (default: the axis); nan = never."""
        row = self.log_x[self.names.index(name)]
        unit = unit or self.axis
        if unit not in AXES:
            raise ValueError(f"unit must be one of {', '.join(AXES)}, got {unit!r}")
        with np.errstate(invalid="ignore"):
            return np.power(10.0, self.units.convert(row, self.axis, unit))

    def to_records(self) -> list[dict[str, Any]]:
        """One record per (node, sample): ``params``, ``tokens``, ``flops`` (None where it never crosses)."""
        out = []
        by_unit = {u: np.stack([self.crossings(n, u) for n in self.names]) if self.names
                   else np.empty((0, self.samples)) for u in AXES}
        for i, name in enumerate(self.names):
            columns = [by_unit[u][i].tolist() for u in AXES]
            for s, values in enumerate(zip(*columns, strict=True)):
                crossed = not np.isnan(values[0])
                out.append({"node": name, "sample": s, "crossed": crossed,
                            **{u: (v if crossed else None) for u, v in zip(AXES, values, strict=True)}})
        return out
