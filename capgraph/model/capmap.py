"""The runtime capability map: a validated map, its DAG and its compiled plan, with the queries.

``capgraph.load(path)`` returns a :class:`CapabilityMap`; every number the CLI prints comes from
one of its methods, so a notebook gets the same answers as the terminal.
"""

from __future__ import annotations

import copy
import gc
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from capgraph.core.defaults import DEFAULT_SAMPLES, DEFAULT_SEED
from capgraph.core.errors import MapError, Problem
from capgraph.core.interrupt import in_child
from capgraph.core.limits import memory_refusal
from capgraph.core.records import RecordsMixin
from capgraph.core.suggest import did_you_mean
from capgraph.core.units import parse_scale
from capgraph.engine.central import central_predictions
from capgraph.engine.explain import Explanation
from capgraph.engine.explain import explain as explain_crossing
from capgraph.engine.plan import Plan, compile_plan, evaluate
from capgraph.engine.predict import (
    GRID_PER_DECADE,
    MC_GRID_PER_DECADE,
    QUANTILES,
    PointColumns,
    Prediction,
    crossing_samples,
    grid,
    point_columns,
    point_estimates,
)
from capgraph.engine.workers import can_fork, cores
from capgraph.format import graph as graphs
from capgraph.format.plain import PlainNodes, plain_settings
from capgraph.format.problems import pydantic_problems
from capgraph.format.scenarios import BASELINE, merge_patch, merged_document
from capgraph.format.schema import MapSpec, field_names
from capgraph.format.select import select as select_nodes
from capgraph.format.source import Document, load_document, parse_document
from capgraph.format.validate import validate
from capgraph.kernels.curves import FAMILIES
from capgraph.kernels.sampling import Interval
from capgraph.kernels.scale import AXES, UNITS, ScalePoint
from capgraph.model.compare import compare
from capgraph.model.records import Comparison, CrossingDraws, Predictions
from capgraph.world.allocation import Efficient, adapt_plan, allocation_for
from capgraph.world.outlook import check_data_limit, quantile_dates
from capgraph.world.timeline import crossing_date, date_to_log_flops, parse_date

if TYPE_CHECKING:
    import networkx as nx

#: Scales are kept within 10^±300 in every unit: beyond, 6·params·tokens overflows a float.
FLOAT_LOG10_MAX = 300
#: :meth:`CapabilityMap.outlook` of a map with neither a data limit nor a timeline.
_NO_OUTLOOK = {"data_limit": None, "date": None, "dates": None, "dates_missing": None}
#: Values held at once while sampling: 32 million (128 MB in the float32 Monte Carlo pass).
MEMORY_FLOATS = 32_000_000


@dataclass(frozen=True)
class Snapshot(RecordsMixin):
    """Every node's value at one scale (the JSON object of ``capgraph at``).

    ``values`` are the answer: for a map with ranges, each node's median over the Monte Carlo
    draws; ``quantiles`` give its 5th, 50th and 95th percentiles (all equal to the value when
    nothing is uncertain, or in point mode). ``at_medians`` holds the values of the map with every
    range at its median (ranged maps under Monte Carlo only; None otherwise).
    """

    scale: ScalePoint
    values: dict[str, float]
    quantiles: dict[str, dict[str, float]]
    at_medians: dict[str, float] | None = None
    date: str | None = None  # the date asked about, when the scale was given as one

    def to_json(self) -> dict[str, Any]:
        out = {"scale": self.scale.as_dict(), "values": self.values, "quantiles": self.quantiles}
        if self.date is not None:
            out["date"] = self.date
        if self.at_medians is not None:
            out["at_medians"] = self.at_medians
        return out

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record a node: ``node``, ``value``, ``p5``, ``p50``, ``p95`` and the scale."""
        scale = self.scale.as_dict()
        return [{"node": name, "value": value, **self.quantiles[name], **scale}
                for name, value in self.values.items()]

    def only(self, names: Iterable[str]) -> Snapshot:
        """The same snapshot for ``names`` alone, in their order."""
        names = list(names)
        medians = None if self.at_medians is None else {n: self.at_medians[n] for n in names}
        return Snapshot(self.scale, {n: self.values[n] for n in names},
                        {n: self.quantiles[n] for n in names}, medians, self.date)


class CapabilityMap:
    """A capability map ready to answer questions.

    >>> m = loads('''
    ... skills:
    ...   step: {curve: {logistic: {midpoint: 1e10, slope: 1.5}}}
    ... capabilities:
    ...   chain: {requires: {step: 10}, threshold: 0.5}
    ... ''')
    >>> round(m.at("1e10").values["step"], 3)
    0.5
    >>> p = m.predict()[0]
    >>> p.name, p.status, f"{p.crossing.params:.3g}"
    ('chain', 'crosses', '5.7e+11')
    """

    def __init__(self, spec: MapSpec | None, document: Document | None = None, *, efficiency: float = 1.0,
                 scenario: str | None = None, settings: MapSpec | None = None) -> None:
        """``spec`` None: a plainly written map (:func:`capgraph.format.plain.plain_settings` cleared
        ``document`` and gave its ``settings``), compiled from the document's nodes; its
        :attr:`spec` is validated only when something asks for it."""
        #: Scale range (on the map's axis) of the data behind each fitted or ``points`` curve.
        self.data_spans: dict[str, tuple[float, float]] = {}
        #: The table curves' skills (name: family, first and last scale of the table) of a plain map.
        self._tables: dict[str, tuple[str, float, float]] | None = None
        nodes = None
        if spec is None:
            if settings is None or document is None:
                raise ValueError("a map without a spec needs its settings and its document")
            nodes = PlainNodes(document.data, settings)
            self._fit_specs, self._tables = {}, {}
            for name, skill in nodes.skills.items():
                kind, body = nodes.curve(skill)
                if FAMILIES[kind].batch == "table":
                    self._tables[name] = (kind, body[0][0], body[-1][0])
            self.__dict__["uncertain"] = False  # a plain map has no ranges
        else:
            self._fit_specs = {n: s.curve.fit for n, s in spec.skills.items() if s.curve.fit is not None}
            if self._fit_specs:
                # scipy.optimize: imported only when needed
                from capgraph.evidence.fitmap import resolve_fits_with_data

                # `fit:` curves become the fitted logistic / power law
                spec, self.data_spans = resolve_fits_with_data(spec, document)
            settings = spec
        self.fitted = frozenset(self.data_spans)
        if spec is not None:
            for name, skill in spec.skills.items():
                if skill.curve.points:
                    self.data_spans[name] = (skill.curve.points[0].x, skill.curve.points[-1].x)
        else:
            for name, (kind, first, last) in (self._tables or {}).items():
                if kind == "points":
                    self.data_spans[name] = (first, last)
        self._spec = spec
        #: The map's own keys (scale, threshold, correlation, timeline, name...): :attr:`spec`'s,
        #: known without validating every node of a plain map (never read its skills from here).
        self.settings: MapSpec = settings
        self.document = document
        self.path = document.path if document else None
        #: How params, tokens, FLOPs (and loss) relate: FixedRatio or ComputeOptimal.
        self.units = allocation_for(settings.scale)
        #: Multiplier on effective compute (a scenario's ``efficiency``); 1 for a map as written.
        self.efficiency = efficiency
        self.scenario_name = scenario
        self.base: CapabilityMap = self  # the map as written, which scenarios overlay
        # points report physical scale and the loss at effective scale
        self._reporting = self.units if efficiency == 1.0 else Efficient(self.units, efficiency)
        # the grid is physical scale on the grid axis; the plan reads curves at effective scale
        self._check_range(document)
        # the levels validation found, when this document was validated into this spec's hierarchy
        self._depth = document.depth if document is not None else None
        self.plan: Plan = self._adapt(compile_plan(spec, depth=self._depth, nodes=nodes))
        self._sampled: dict[tuple[int, int], Plan] = {}

    @property
    def spec(self) -> MapSpec:
        """The validated map (of a plain map: validated on first use, which cannot fail)."""
        if self._spec is None:
            with _gc_paused():
                self._spec = validate(self.document)
        return self._spec

    def _check_range(self, document: Document | None) -> None:
        """Refuse a map whose search range converts to params, tokens or FLOPs beyond float range.

        ``tokens_per_param: 1e300`` makes every conversion overflow to infinity, and every crossing
        with it: a located problem instead of labels that fail and numbers that mean nothing.
        """
        for end in self.log_range:
            for other in AXES:
                value = float(self.units.convert(end, self.grid_axis, other))
                if not -FLOAT_LOG10_MAX < value < FLOAT_LOG10_MAX:
                    message = (f"the search range reaches 10^{value:.4g} {other} under this allocation, "
                               f"beyond 1e±{FLOAT_LOG10_MAX}, the range capgraph computes in; "
                               "narrow scale.range or change the allocation")
                    scale = self.settings.scale
                    where = ("scale", "tokens_per_param" if scale.range is None and scale.allocation is None
                             else "allocation" if scale.range is None else "range")
                    problem = (document.problem(where, message, key=True) if document
                               else Problem(self.path or "<map>", 1, 1, message))
                    raise MapError([problem])

    def _adapt(self, plan: Plan) -> Plan:
        return adapt_plan(plan, self.units, self.axis, self.grid_axis, self.efficiency)

    # --- what the map is ---------------------------------------------------------------------------

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The hierarchy as a networkx DAG (edges child → parent), built on first use."""
        return graphs.build(self.spec)

    @property
    def name(self) -> str:
        if self.settings.name:
            return self.settings.name
        return Path(self.path).stem if self.path else "capability map"

    @property
    def axis(self) -> str:
        return self.settings.scale.axis

    @property
    def grid_axis(self) -> str:
        """The axis of the search grid: the map's axis, or FLOPs for curves written against loss."""
        return "flops" if self.axis == "loss" else self.axis

    @property
    def log_range(self) -> tuple[float, float]:
        """log10 of the search range on the grid axis (a loss range becomes its FLOPs range)."""
        lo, hi = self.settings.scale.bounds
        if self.axis == "loss" and self.settings.scale.range is not None:
            ends = self.units.convert(np.log10([hi, lo]), "loss", "flops")
            return float(ends[0]), float(ends[1])
        return float(np.log10(lo)), float(np.log10(hi))

    @property
    def axis_bounds(self) -> tuple[float, float]:
        """The search range on the map's own axis (for a loss axis: lowest, highest loss)."""
        if self.axis != "loss":
            return self.settings.scale.bounds
        hi, lo = (float(10.0 ** self.units.convert(x, "flops", "loss")) for x in self.log_range)
        return lo, hi

    @property
    def nodes(self) -> list[str]:
        """Every node, children before parents."""
        return list(self.plan.names)

    @cached_property
    def uncertain(self) -> bool:
        """Whether any curve parameter is a range (so Monte Carlo has something to sample)."""
        for skill in self.spec.skills.values():
            body = getattr(skill.curve, skill.curve.kind)
            if FAMILIES[skill.curve.kind].batch == "block" and any(
                isinstance(getattr(body, f), Interval) for f in field_names(type(body))
            ):
                return True
        return False

    def select(self, selectors: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[str]:
        """The nodes dbt-style selectors pick (``+node``, ``node+``, ``+node+``, ``2+node``; several:
        their union; every node when none), less those ``exclude`` picks, levels then names.

        Raises ``ValueError`` naming each unknown node with a did-you-mean hint.
        """
        chosen = select_nodes(self.spec, selectors, exclude)
        return [n for n in self.nodes if n in chosen]

    def node(self, name: str):
        """The declared skill or capability called ``name``."""
        found = self.spec.skills.get(name) or self.spec.capabilities.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def threshold(self, name: str) -> float | None:
        value = self.plan.thresholds[self.plan.index[name]]
        return None if np.isnan(value) else float(value)

    def warnings(self) -> list[Problem]:
        """Things that are allowed but worth knowing, located in the map file."""
        out = []
        lo, hi = self.axis_bounds
        for name, (kind, first, last) in self._table_spans():
            if lo < first or hi > last:
                loc = ("skills", name, "curve", kind)
                message = (f"'{name}' extrapolates: its points cover {first:g}–{last:g} "
                           f"but the range is {lo:g}–{hi:g}; the value is held flat outside them")
                out.append(self._problem(loc, message))
        for name in sorted(self.fitted):
            first, last = self.data_spans[name]
            if lo < first or hi > last:
                message = (f"'{name}' extrapolates: it was fitted to data covering {first:g}–{last:g} "
                           f"but the range is {lo:g}–{hi:g}; crossings beyond the data are marked")
                out.append(self._problem(("skills", name, "curve", "fit"), message))
        return out

    def _table_spans(self) -> Iterator[tuple[str, tuple[str, float, float]]]:
        """Each skill with a table curve (``points``): its family and first and last scale."""
        if self._tables is not None:
            yield from self._tables.items()
            return
        for name, skill in self.spec.skills.items():
            kind = skill.curve.kind
            points = getattr(skill.curve, kind) if FAMILIES[kind].batch == "table" else None
            if points:
                yield name, (kind, points[0].x, points[-1].x)

    def extrapolated(self, p: Prediction) -> tuple[str, ...]:
        """The fitted or ``points`` curves under ``p`` whose data its crossing lies beyond."""
        if p.crossing is None or not self.data_spans:
            return ()
        return self._beyond_data(p.name, getattr(p.crossing, self.axis))

    def _beyond_data(self, name: str, at: float) -> tuple[str, ...]:
        """The curves under ``name`` whose data ``at`` (a scale on the map's axis) lies beyond."""
        return tuple(curve for curve in self._curves_under(name)
                     if not self.data_spans[curve][0] <= at <= self.data_spans[curve][1])

    def data_points(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The observations behind skill ``name``'s curve, scales on the map's axis: the rows a
        ``fit:`` curve was fitted to, or a ``points`` curve's points; None for a curve written by hand."""
        if name in self.fitted:
            from capgraph.evidence.fitmap import fit_points  # reads the data file again, only when asked

            return fit_points(self._fit_specs[name], self.document)
        skill = self.spec.skills.get(name)
        kind = skill.curve.kind if skill else None
        points = getattr(skill.curve, kind) if kind and FAMILIES[kind].batch == "table" else None
        if points:
            return np.array([p.x for p in points], dtype=float), np.array([p.y for p in points], dtype=float)
        return None

    def _curves_under(self, name: str) -> list[str]:
        """The skills with data spans at or below ``name``, sorted."""
        if "_spans_under" not in self.__dict__:
            under: list[frozenset[str]] = []
            for i, node in enumerate(self.plan.names):  # children come before parents
                own = frozenset([node]) if node in self.data_spans else frozenset()
                under.append(own.union(*(under[c] for c in self.plan.children[i])))
            self.__dict__["_spans_under"] = under
        return sorted(self.__dict__["_spans_under"][self.plan.index[name]])

    def _problem(self, loc, message: str) -> Problem:
        if self.document:
            return self.document.problem(loc, message, severity="warning")
        return Problem(self.path or "<map>", 1, 1, message, "warning")

    # --- queries -----------------------------------------------------------------------------------

    def log_axis(self, scale: float | str, unit: str | None = None) -> float:
        """log10 of a scale given in ``unit`` (default: the map's axis), on the grid axis.

        The grid axis is the map's axis, or FLOPs for a map written against loss. A date
        ``YYYY-MM-DD`` stands for the compute of the largest run on that day under the map's
        ``timeline`` (``unit`` is then ignored).
        """
        day = parse_date(scale)
        if day is not None:
            return self._log_date(day)
        unit = (unit or self.axis).lower()  # FLOPs and flops are one unit
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")
        log_x = float(self.units.convert(np.log10(parse_scale(scale)), unit, self.grid_axis))
        if not np.isfinite(log_x):
            raise ValueError(f"no run reaches loss {scale} under the map's loss law")
        for other in AXES:  # a scale whose params, tokens or FLOPs no float can hold: refuse, not inf
            if not float(self.units.convert(log_x, self.grid_axis, other)) < FLOAT_LOG10_MAX:
                raise ValueError(f"{scale} {unit} is beyond 1e{FLOAT_LOG10_MAX} in {other}, the largest "
                                 "scale capgraph computes with")
        if unit == "loss" and self.units.convert(log_x, self.grid_axis, "params") < 0:
            # "70B" read as a loss is a model far smaller than one parameter: surely a size
            raise ValueError(f"a loss of {scale} means a model of under one parameter; "
                             "for a model size give the unit (--unit params, tokens or flops)")
        return log_x

    def _log_date(self, day) -> float:
        timeline = self.settings.timeline
        if timeline is None:
            raise ValueError(f"{day.isoformat()} is a date, but the map has no timeline to turn dates "
                             "into compute; add a timeline block or give a scale")
        log_flops = date_to_log_flops(day, timeline.start, timeline.flops, timeline.growth_per_year)
        return float(self.units.convert(log_flops, "flops", self.grid_axis))

    def curves(self, log_x: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """Each node's point-estimate value at grid-axis scales ``log_x`` (1-d), for plots and tables."""
        values = evaluate(self.plan, log_x)
        return {n: values[self.plan.index[n], 0] for n in (names or self.nodes)}

    def sampled_plan(self, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> Plan:
        """The plan with ``samples`` Monte Carlo draws of every ranged parameter.

        The last one made is kept, so ``predict`` then ``at`` with the same draws compile once
        (and a notebook trying many seeds does not pile up plans).
        """
        key = (samples, seed)
        refusal = self.samples_refusal(samples)
        if refusal:
            raise ValueError(refusal)
        if key not in self._sampled:
            self._sampled = {key: self._adapt(compile_plan(self.spec, samples=samples, seed=seed,
                                                                depth=self._depth))}
        return self._sampled[key]

    def samples_refusal(self, samples: int) -> str | None:
        """Why ``samples`` Monte Carlo draws cannot be made within the memory limit, or None.

        Every draw is made before evaluation is chunked: a skill's parameters (four for a logistic)
        with their normal deviates and latent factor, about eight float64 a sample, and each
        node's crossing with what its median needs (start, end and top values, sharpness, the
        crossing sorted and in tokens: seven a sample); the evaluation itself is chunked to a
        fixed budget.
        """
        if not self.uncertain or samples <= 1:
            return None
        floats = float(samples) * (8 * self.plan.kinds.count("skill") + 7 * len(self.plan))
        return memory_refusal(floats, f"--samples {samples:,}")

    def at(self, scale: float | str, unit: str | None = None, *, samples: int = DEFAULT_SAMPLES,
           seed: int = DEFAULT_SEED) -> Snapshot:
        """Every node's value at one scale (``unit`` defaults to the map's axis), with intervals.

        ``scale`` may be a date ``YYYY-MM-DD`` when the map has a timeline. For a map with ranges
        the values are Monte Carlo medians; ``samples`` of 0 or 1 gives the map at its medians.
        """
        day = parse_date(scale)
        log_x = np.array([self.log_axis(scale, unit)])
        point = evaluate(self.plan, log_x)[:, 0, 0]
        names = self.nodes
        at_medians = None
        if self.monte_carlo(samples):
            drawn = evaluate(self.sampled_plan(samples, seed), log_x)[:, :, 0]
            qs = np.quantile(drawn, list(QUANTILES.values()), axis=1)  # (3, nodes)
            values = qs[1]
            at_medians = {n: float(point[i]) for i, n in enumerate(names)}
        else:
            qs = np.repeat(point[None, :], len(QUANTILES), axis=0)
            values = point
        return Snapshot(
            self._reporting.point(float(log_x[0]), self.grid_axis),
            {n: float(values[i]) for i, n in enumerate(names)},
            {n: {k: float(qs[j, i]) for j, k in enumerate(QUANTILES)} for i, n in enumerate(names)},
            at_medians, None if day is None else day.isoformat(),
        )

    def predict(self, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                by: float | str | None = None, by_unit: str | None = None,
                progress: Callable[[int], None] | None = None) -> Predictions:
        """When each node with a threshold crosses it, ordered by crossing scale.

        Parameter ranges are propagated by Monte Carlo (``samples`` draws, seeded by ``seed``);
        ``by`` asks for the probability of having crossed by that scale (in ``by_unit``, default
        the map's axis). ``progress(n)`` is called as each chunk of n samples is done. The list
        also has ``to_records()`` and ``to_frame()``; :meth:`draws` gives the raw samples.
        """
        with _gc_paused():
            return Predictions(self._predict(samples, seed, by, by_unit, progress), self.outlook)

    def draws(self, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
              progress: Callable[[int], None] | None = None) -> CrossingDraws:
        """The raw Monte Carlo crossings behind :meth:`predict`'s quantiles, per node and sample.

        The same samples, grid and seed as ``predict``: the quantiles of
        ``draws().crossings(name)`` over all samples, those that never cross (nan) counted as
        beyond the range, are ``predict``'s quantiles, and their median its crossing. A map
        without ranges has one draw, its point estimate on the Monte Carlo grid.
        """
        lo, hi = self.log_range
        samples = samples if self.uncertain else 1
        plan = self.sampled_plan(samples, seed) if self.uncertain else self.plan
        log_x = grid(lo, hi, MC_GRID_PER_DECADE)
        chunk = max(1, min(samples, MEMORY_FLOATS // (len(plan) * log_x.size)))
        with _gc_paused():
            found = crossing_samples(plan, log_x, chunk, progress)
        names = tuple(plan.names[i] for i in np.flatnonzero(~np.isnan(plan.thresholds)))
        return CrossingDraws(names, found, self.grid_axis, self.units, seed)

    def _predict(self, samples, seed, by, by_unit, progress) -> list[Prediction]:
        if not self.monte_carlo(samples):
            return self._point_columns(by, by_unit).predictions()
        lo, hi = self.log_range
        by_log = None if by is None else self.log_axis(by, by_unit)
        fine = grid(lo, hi, GRID_PER_DECADE)
        limit = self.settings.scale.data_limit

        def point_pass() -> list[Prediction]:
            return point_estimates(self.plan, fine, self.grid_axis, self._reporting, limit, by_log=by_log)

        plan_at_medians = self.plan  # compiled here, once, before a child copies this process
        # the point estimate, made by another core while this one draws the parameters
        at_medians = in_child(point_pass, fork=can_fork() and cores() > 1)
        try:
            plan = self.sampled_plan(samples, seed)
            log_x = grid(lo, hi, MC_GRID_PER_DECADE)
            chunk = max(1, min(samples, MEMORY_FLOATS // (_width(plan) * log_x.size)))
            extras: dict[str, np.ndarray] = {}
            log_cross = crossing_samples(plan, log_x, chunk, progress, extras)
        except BaseException:  # Ctrl-C, or a refusal: the point estimate is not wanted either
            at_medians.cancel()
            raise
        point = central_predictions(plan_at_medians, at_medians.result(), fine, log_cross, extras,
                                    self.grid_axis, self._reporting, limit, by_log)
        if self.data_spans:
            point = self._mark_extrapolated(point)
        return point

    def point_columns(self, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                      by: float | str | None = None, by_unit: str | None = None) -> PointColumns | None:
        """:meth:`predict`'s answer as columns (in plan order) when it is a point estimate (a map
        without ranges, or ``samples`` of 0 or 1); None when it is a Monte Carlo one.

        ``PointColumns.predictions()`` is then ``predict()``; a writer of 100,000 predictions can
        read the columns instead of making a record for each.
        """
        if self.monte_carlo(samples):
            return None
        with _gc_paused():
            return self._point_columns(by, by_unit)

    def _point_columns(self, by, by_unit) -> PointColumns:
        lo, hi = self.log_range
        by_log = None if by is None else self.log_axis(by, by_unit)
        columns = point_columns(self.plan, grid(lo, hi, GRID_PER_DECADE), self.grid_axis, self._reporting,
                                self.settings.scale.data_limit, by_log=by_log)
        if self.data_spans:
            if columns.points is not None:
                at = [getattr(p, self.axis) for p in columns.points]
            else:
                at = columns.scales[AXES.index(self.axis)]
            columns.extrapolated = self._extrapolated_rows(columns.names, np.array(at, dtype=float),
                                                           columns.status != 2)
        return columns

    def _mark_extrapolated(self, predictions: list[Prediction]) -> list[Prediction]:
        """``predictions`` with :meth:`extrapolated` filled in (see :meth:`_extrapolated_rows`)."""
        axis = attrgetter(self.axis)
        at = np.array([np.nan if p.crossing is None else axis(p.crossing) for p in predictions], dtype=float)
        crossed = np.fromiter((p.crossing is not None for p in predictions), dtype=bool,
                              count=len(predictions))
        out = list(predictions)
        for i, names in self._extrapolated_rows(list(map(attrgetter("name"), predictions)), at,
                                                crossed).items():
            out[i] = replace(out[i], extrapolated=names)
        return out

    def _extrapolated_rows(self, names: list[str], at: np.ndarray, crossed: np.ndarray
                           ) -> dict[int, tuple[str, ...]]:
        """:meth:`extrapolated` of the crossings ``at`` (on the map's axis) of the nodes ``names``
        (where ``crossed``), by position, where there are any; asked only of the few that can.

        A crossing lies within the data of every curve under its node exactly when it is at least
        the largest start and at most the smallest end of their spans, two numbers per node found
        level by level; the names are listed only where that fails.
        """
        first, last = self._span_envelope()
        rows = np.fromiter(map(self.plan.index.__getitem__, names), dtype=np.intp, count=len(names))
        with np.errstate(invalid="ignore"):
            inside = (first[rows] <= at) & (at <= last[rows])  # nan outside, as in extrapolated()
        out = {}
        for i in np.flatnonzero(crossed & ~inside).tolist():
            found = self._beyond_data(names[i], float(at[i]))
            if found:
                out[i] = found
        return out

    def _span_envelope(self) -> tuple[np.ndarray, np.ndarray]:
        """Per node in plan order: the largest start and the smallest end of the data spans of the
        curves at or below it (−inf and inf where there are none)."""
        plan, n = self.plan, len(self.plan)
        first, last = np.full(n, -np.inf), np.full(n, np.inf)
        for name, (lo, hi) in self.data_spans.items():
            first[plan.index[name]], last[plan.index[name]] = lo, hi
        sizes = np.fromiter(map(len, plan.children), dtype=np.intp, count=n)
        parents = np.repeat(np.arange(n), sizes)
        kids = np.fromiter(itertools.chain.from_iterable(plan.children), dtype=np.intp,
                           count=int(sizes.sum()))
        depth = np.zeros(n, dtype=np.intp)
        for d, level in enumerate(plan.levels):
            for block in level.rules:
                depth[block.nodes] = d
        for d in range(1, len(plan.levels)):  # children first: a level reads only the ones below
            on = depth[parents] == d
            np.maximum.at(first, parents[on], first[kids[on]])
            np.minimum.at(last, parents[on], last[kids[on]])
        return first, last

    def monte_carlo(self, samples: int) -> bool:
        """Whether ``samples`` draws make a Monte Carlo run: a map with ranges and more than one.

        ``samples`` of 0 or 1 is point mode: the map at its parameter medians, no draws.
        """
        return self.uncertain and samples > 1

    def explain(self, name: str, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
                progress: Callable[[int], None] | None = None) -> Explanation:
        """Why ``name`` crosses where it does: each node under it with its elasticity (decades of
        crossing per decade its curve moves) and, with ranges, its share of the crossing's variance.

        Raises ``KeyError`` (with a did-you-mean message) for an unknown node and ``ValueError``
        for a node without a threshold. ``progress(n)`` is called as each chunk of n Monte Carlo
        samples is done.
        """
        if name not in self.plan.index:
            raise KeyError(f"no node '{name}' in {self.name}{did_you_mean(name, self.nodes)}")
        if self.threshold(name) is None:
            raise ValueError(f"'{name}' has no threshold, so no crossing to explain; "
                             "give it a threshold or explain a node above it")
        with _gc_paused():
            lo, hi = self.log_range
            point = next(p for p in point_estimates(self.plan, grid(lo, hi, GRID_PER_DECADE),
                                                    self.grid_axis, self._reporting)
                         if p.name == name)
            log_cross = None
            if point.status == "crosses" and point.crossing is not None:
                log_cross = float(self.units.convert(np.log10(point.crossing.params), "params",
                                                     self.grid_axis))
            sampled = self.sampled_plan(samples, seed) if self.uncertain and samples > 1 else None
            return explain_crossing(self.plan, self.plan.index[name], log_cross,
                                    point.crossing if log_cross is not None else None,
                                    sampled, grid(lo, hi, MC_GRID_PER_DECADE), progress)

    def predict_json(self, **options: Any) -> dict[str, Any]:
        """``capgraph predict --json``; ``options`` as for :meth:`predict`."""
        with _gc_paused():
            return self._predict_json(options)

    def _predict_json(self, options: dict[str, Any]) -> dict[str, Any]:
        return self.predict_envelope([{**p.to_json(), **self.outlook(p)} for p in self.predict(**options)],
                                     **options)

    def predict_envelope(self, capabilities: list[Any], **options: Any) -> dict[str, Any]:
        """:meth:`predict_json` around ``capabilities`` (its predictions' JSON objects, in order)."""
        samples = options.get("samples", DEFAULT_SAMPLES)
        out = {
            "map": self.name,
            "axis": self.axis,
            "samples": samples if self.monte_carlo(samples) else 1,
            "seed": options.get("seed", DEFAULT_SEED),
            "capabilities": capabilities,
            "scenario": self.scenario_name,
            "efficiency": self.efficiency,
            "allocation": self.allocation_json(),
        }
        if self.uncertain:  # which of a ranged map's two answers this is
            out["estimate"] = "median" if self.monte_carlo(samples) else "at_medians"
        return out

    # --- the real world: allocation, data limits, dates, scenarios -----------------------------------

    def allocation_json(self) -> dict[str, Any]:
        """The allocation in force: ``{"tokens_per_param"}`` and/or ``{"loss_law"}``."""
        law = getattr(self.units, "law", None)
        out: dict[str, Any] = {}
        if hasattr(self.units, "tokens_per_param"):
            out["tokens_per_param"] = self.units.tokens_per_param
        if law is not None:
            out["loss_law"] = law.as_dict()
        return out

    def data_limit_check(self, p: Prediction):
        """The crossing of ``p`` against ``scale.data_limit`` (None without a limit or a crossing)."""
        limit = self.settings.scale.data_limit
        if limit is None or p.crossing is None:
            return None
        return check_data_limit(self.units, p.crossing, limit, self.efficiency)

    def date(self, flops: float | None) -> str | None:
        """ISO date at which the map's ``timeline`` reaches ``flops`` (None without a timeline)."""
        return crossing_date(self.settings.timeline, flops)

    def shared_outlook(self) -> dict[str, Any] | None:
        """The :meth:`outlook` of every prediction when the map has neither a data limit nor a
        timeline (all None); None when each prediction has its own."""
        if self.settings.scale.data_limit is None and self.settings.timeline is None:
            return dict(_NO_OUTLOOK)
        return None

    def outlook(self, p: Prediction) -> dict[str, Any]:
        """JSON keys a prediction gains from the real world: ``data_limit``, ``date``, ``dates``.

        A crossing beyond the data limit gets no date: the trend in compute does not reach it.
        ``dates`` gives the date of each crossing percentile (``p5``, ``p50``, ``p95``) when the map
        has a timeline, each likewise none where that percentile needs more data than exists or
        lies beyond the range; ``dates_missing`` says why for each one that is none.
        """
        if self.settings.scale.data_limit is None and self.settings.timeline is None:
            return dict(_NO_OUTLOOK)  # the common case, asked once a prediction
        check = self.data_limit_check(p)
        dated = p.crossing is not None and not (check and check.exceeds)
        dates, missing = self._quantile_dates(p)
        return {
            "data_limit": check.to_json() if check else None,
            "date": self.date(p.crossing.flops) if dated and p.crossing else None,
            "dates": dates,
            "dates_missing": missing,
        }

    def _quantile_dates(self, p: Prediction) -> tuple[dict[str, str | None] | None, dict[str, str] | None]:
        timeline = self.settings.timeline
        if timeline is None or not p.quantiles:
            return None, None
        return quantile_dates(timeline, p.quantiles, self.settings.scale.data_limit, p.why_missing)

    def scenario(self, name: str, *, data_limit: float | None = None) -> CapabilityMap:
        """This map under scenario ``name`` (``"baseline"``: as written), optionally with a data limit.

        Scenarios apply to the map as written, not on top of another scenario. Raises ``KeyError``
        with a did-you-mean message for an unknown name and :class:`MapError` if the result is
        invalid.
        """
        base = self.base
        if name != BASELINE and name not in base.spec.scenarios:
            options = [BASELINE, *base.spec.scenarios]
            raise KeyError(f"no scenario '{name}' in {base.name}{did_you_mean(name, options)}; "
                           f"scenarios: {', '.join(options)}")
        extra = {"scale": {"data_limit": data_limit}} if data_limit is not None else None
        doc = base.document or Document(base.path or "<map>",
                                        base.spec.model_dump(mode="json", exclude_unset=True))
        merged = merged_document(doc, name, extra)
        try:
            spec = MapSpec.model_validate(merged.data)
        except ValidationError as exc:
            raise MapError(pydantic_problems(merged, exc)) from None
        spec = spec.model_copy(update={"scenarios": base.spec.scenarios})
        efficiency = base.spec.scenarios[name].efficiency if name != BASELINE else 1.0
        out = CapabilityMap(spec, merged, efficiency=efficiency, scenario=name)
        out.base = base
        return out

    @property
    def scenario_names(self) -> list[str]:
        """``baseline`` and the map's scenarios, in the order written."""
        return [BASELINE, *self.base.spec.scenarios]

    def compare(self, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> Comparison:
        """The crossing of every capability under every scenario (``capgraph compare --json``).

        For a map with ranges each crossing is the Monte Carlo median with its interval, as in
        :meth:`predict`; ``samples`` of 0 or 1 compares the maps at their parameter medians.
        """
        with _gc_paused():
            return Comparison(compare(self, samples=samples, seed=seed))

    def bands(self, log_x: np.ndarray, names: list[str] | None = None, *, samples: int = DEFAULT_SAMPLES,
              seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
        """Each node's 5th, 50th and 95th percentile value at grid-axis scales ``log_x``, (3, points).

        The median curve of a map with ranges crosses a threshold exactly at the median crossing
        (each draw's curve rises, so half the draws are above the threshold where half have
        crossed), which is why plots draw it rather than the map at its medians. Without ranges, or
        with ``samples`` of 0 or 1, the three rows are the point-estimate curve.
        """
        names = names or self.nodes
        rows = [self.plan.index[n] for n in names]
        if not self.monte_carlo(samples):
            point = evaluate(self.plan, log_x)[rows, 0, :]
            return {n: np.repeat(point[i][None, :], 3, axis=0) for i, n in enumerate(names)}
        plan = self.sampled_plan(samples, seed)
        chunk = max(1, min(samples, MEMORY_FLOATS // (len(plan) * max(1, log_x.size))))
        drawn = np.concatenate([evaluate(plan, log_x, slice(s0, min(samples, s0 + chunk)))[rows]
                                for s0 in range(0, samples, chunk)], axis=1)  # (names, samples, points)
        qs = np.quantile(drawn, list(QUANTILES.values()), axis=1)  # (3, names, points)
        return {n: qs[:, i, :] for i, n in enumerate(names)}

    def with_changes(self, patch: Mapping[str, Any]) -> CapabilityMap:
        """A new map: this one with ``patch`` merged in, the JSON Merge Patch that scenarios use.

        Mappings merge key by key, any other value replaces, ``None`` deletes a key:
        ``m.with_changes({"skills": {"step": {"curve": {"logistic": {"slope": 2}}}}})``. The result
        is validated like a map file (:class:`MapError` lists every problem); this map is unchanged.
        """
        doc = self.document or Document(self.path or "<map>",
                                        self.spec.model_dump(mode="json", exclude_unset=True))
        changed = Document(doc.path, merge_patch(doc.data, dict(patch)), doc._keys, doc._values,
                           text=doc.text)
        with _gc_paused():
            return CapabilityMap(validate(changed), changed, efficiency=self.efficiency,
                                 scenario=self.scenario_name)


def _width(plan: Plan) -> int:
    """Values a sample and grid point takes at once: a row per node, and the widest padded block
    (a k-of-n parent gathers a row per trial and keeps one per count below k)."""
    widest = 0
    for level in plan.levels:
        for block in level.rules:
            if block.trials is not None:
                k = int(block.ks.max()) + 1 if block.ks is not None and block.ks.size else 0
                widest = max(widest, (block.trials.shape[0] + k) * len(block.nodes))
    return len(plan) + widest


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of small objects.

    Loading a 100,000-node map makes millions of dicts and models and no reference cycles worth
    collecting; the collector's repeated passes over them cost more than the work itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(path: str | Path | Mapping[str, Any]) -> CapabilityMap:
    """Read, validate and compile a map file (YAML or JSON), or a map given as a dict.

    Raises :class:`MapError` on any problem. ``fit:`` data paths in a dict are relative to the
    working folder.
    """
    if isinstance(path, Mapping):
        return loads(path)
    with _gc_paused():
        return _from_document(load_document(path))


def loads(text: str | Mapping[str, Any], name: str = "<map>") -> CapabilityMap:
    """Like :func:`load`, from YAML or JSON text, or from a dict (as ``json.load`` would give it).

    >>> m = loads({"skills": {"step": {"curve": {"logistic": {"midpoint": 1e10, "slope": 2}}}}})
    >>> round(m.at(1e10).values["step"], 3)
    0.5
    """
    with _gc_paused():
        if isinstance(text, Mapping):  # copied: the caller's dict is never changed or kept
            document = Document(name, copy.deepcopy(dict(text)))
        else:
            document = parse_document(text, name)
        return _from_document(document)


def _from_document(document: Document) -> CapabilityMap:
    """The map of a read document: cleared by :func:`plain_settings` when written plainly (no
    model per node), else validated in full (every problem located)."""
    settings = plain_settings(document)
    if settings is not None:
        return CapabilityMap(None, document, settings=settings)
    return CapabilityMap(validate(document), document)
