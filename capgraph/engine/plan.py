"""The evaluation engine: every node's value on a batch of scales, level by level.

A :class:`Plan` is the map compiled into blocks of numeric work, one hierarchy level at a time:
all logistic skills in one vectorised call, all power-law skills in another, and each level's
composites grouped by rule, where ``all``, ``any``, ``mean`` and ``geomean`` are one weighted
sum over the children's (log) values (:mod:`capgraph.engine.weights`). Python therefore loops
over levels and rules, not over nodes, which is what lets a map of 100,000 nodes or 2,000 Monte
Carlo samples run in seconds.

Values live in one array shaped ``(nodes, samples, points)``: a row per node in plan order, a
sample axis for Monte Carlo draws of the parameters (length 1 without uncertainty), and a point
per scale. :func:`evaluate` fills it for a slice of the samples, so callers can work in chunks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import chain
from itertools import repeat as times
from operator import attrgetter
from typing import Any

import numpy as np

from capgraph.engine import kofn, lensing, workers
from capgraph.engine.weights import weight_matrix
from capgraph.format.graph import below, map_depth
from capgraph.format.plain import PlainNodes
from capgraph.format.schema import MapSpec
from capgraph.kernels.curves import FAMILIES
from capgraph.kernels.lenses import LENSES
from capgraph.kernels.rules import RULES, min_padded, normalised
from capgraph.kernels.sampling import latent, median, scale_draws, truncated_draws

#: Most nodes in one block: bounds the temporaries of a vectorised step on very large maps.
BLOCK = 2048
#: Values a core must have before :func:`evaluate_on_cores` splits a one-sample pass across cores:
#: forking costs a few milliseconds, and evaluating 4 million values about half a second.
SPLIT_FLOATS = 4_000_000


class UnknownKind(ValueError):
    """A map names a curve family, rule or lens that has no engine path (a bug: the schema admits it)."""


@dataclass
class SkillBlock:
    """All skills of one ``"block"`` curve family; each kernel argument is (skills, samples)."""

    kind: str
    nodes: np.ndarray
    params: dict[str, np.ndarray]


@dataclass
class PointsSkill:
    """One skill of a ``"table"`` family: its observed points, in log10 of scale."""

    node: int
    log_xs: np.ndarray
    ys: np.ndarray
    kind: str = "points"


@dataclass
class RuleBlock:
    """The composites of one level that share a rule.

    ``matrix`` (parents × children) holds the weights (normalised for mean and geomean) for the
    ``"product"`` rules; for ``"padded"`` rules (min), ``trials`` lists each parent's children
    (once per trial when ``per_trial``) padded with -1, and ``ks`` each parent's parameter;
    ``"tail"`` rules (k_of_n) come in blocks of similar cost, each a :class:`kofn.KOfNBlock`.
    """

    rule: str
    nodes: np.ndarray
    children: np.ndarray
    matrix: Any = None  # engine.weights.Slots
    trials: np.ndarray | None = None  # padded rules: (T, parents), a child per trial, -1 pads
    ks: np.ndarray | None = None
    kofn: kofn.KOfNBlock | None = None  # tail rules: see engine/kofn.py
    #: product rules whose parents each have one child of weight 1 (a chain's step, a mean of one):
    #: every such parent is its child, so evaluation copies the children's rows (these indices)
    copies: np.ndarray | None = None
    casts: dict = field(default_factory=dict, repr=False, compare=False)  # matrix by dtype, made once

    def matrix_as(self, dtype: np.dtype) -> Any:
        """``matrix`` in ``dtype``, cast once per block, not on every Monte Carlo slice."""
        cast = self.casts.get(dtype)
        if cast is None:
            cast = self.casts[dtype] = self.matrix.astype(dtype, copy=False)
        return cast


@dataclass
class LensBlock:
    kind: str
    nodes: np.ndarray
    param: np.ndarray  # (nodes, 1, 1)


@dataclass
class Level:
    skills: list[SkillBlock] = field(default_factory=list)
    points: list[PointsSkill] = field(default_factory=list)
    rules: list[RuleBlock] = field(default_factory=list)
    lenses: list[LensBlock] = field(default_factory=list)

    @cached_property
    def tables(self) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        """The ``points`` as :func:`_tables` groups them, made once, not on every evaluation."""
        return _tables(self.points)


@dataclass
class Plan:
    """A map compiled for evaluation."""

    names: list[str]
    index: dict[str, int]
    kinds: list[str]
    children: list[tuple[int, ...]]
    thresholds: np.ndarray  # nan where a node has no threshold
    levels: list[Level]
    #: Nodes whose curve may have a kink: a ``min`` rule at or below them. Interpolation between
    #: grid points is less exact across a kink, so their crossings are refined on a finer grid.
    kinked: np.ndarray
    samples: int = 1
    #: Maps grid scales to the coordinate the skill curves are written on (an efficiency shift, or
    #: −log10 loss for a loss axis; see :func:`capgraph.allocation.adapt_plan`). None: the same.
    coord: Callable[[np.ndarray], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.names)


class SpecNodes:
    """A validated map's nodes as the compiler reads them; :class:`capgraph.format.plain.PlainNodes`
    reads a plainly written map's nodes from its document the same way, with the same values."""

    def __init__(self, spec: MapSpec) -> None:
        self.skills, self.capabilities, self.threshold = spec.skills, spec.capabilities, spec.threshold

    node_threshold = staticmethod(attrgetter("threshold"))
    requires = staticmethod(attrgetter("requires"))
    combine = staticmethod(attrgetter("combine"))
    param = staticmethod(getattr)

    @staticmethod
    def curve(skill: Any) -> tuple[str, Any]:
        kind = skill.curve.kind
        return kind, getattr(skill.curve, kind)

    @staticmethod
    def values(bodies: list[Any], kind: str, name: str) -> list[Any]:
        return [getattr(body, name) for body in bodies]

    @staticmethod
    def points(body: list[Any]) -> tuple[list[float], list[float]]:
        return [p.x for p in body], [p.y for p in body]

    @staticmethod
    def metric(node: Any) -> tuple[str, Any] | None:
        metric = node.metric
        if metric is None:
            return None
        kind = metric.kind
        param = LENSES[kind].param if kind in LENSES else None
        return kind, None if param is None else getattr(getattr(metric, kind), param)


def compile_plan(spec: MapSpec | None, *, samples: int = 1, seed: int = 0,
                 depth: dict[str, int] | None = None, nodes: PlainNodes | None = None) -> Plan:
    """Compile a validated map.

    With ``samples`` > 1, ranged curve parameters are drawn (seeded by ``seed``); point parameters
    stay points. With ``samples`` = 1 every range is replaced by its median: the point estimate.
    ``depth`` is each node's level when already known (as validation finds it), else found here.
    ``nodes`` reads a plainly written map's nodes from its document instead of ``spec``
    (:mod:`capgraph.format.plain`; a point estimate, with ``depth``): the same plan.
    """
    if nodes is None:
        assert spec is not None
        nodes = SpecNodes(spec)
        depth = map_depth(spec) if depth is None else depth
    elif samples != 1 or depth is None:
        raise ValueError("a plain map's nodes compile to a point estimate, with their levels")
    names = sorted(depth)  # by name, then (a stable sort) by level: by level, then name
    names.sort(key=depth.__getitem__)
    index = dict(zip(names, range(len(names)), strict=True))
    levels = [Level() for _ in range(1 + max(depth.values(), default=0))]

    # one pass over 100,000 nodes: names bound once, and C-level map/any over each node's children
    kinds: list[str] = []
    children: list[tuple[int, ...]] = []
    thresholds_: list[float] = []
    kinked: list[bool] = []
    skills, caps, default, nan = nodes.skills, nodes.capabilities, nodes.threshold, float("nan")
    threshold_of, requires_of, combine_of = nodes.node_threshold, nodes.requires, nodes.combine
    position, is_kinked, kink_of = index.__getitem__, kinked.__getitem__, {}
    for name in names:
        skill = skills.get(name)
        if skill is not None:
            kinds.append("skill")
            children.append(())
            threshold = threshold_of(skill)
            thresholds_.append(nan if threshold is None else threshold)
            kinked.append(False)
        else:
            cap = caps[name]
            kinds.append("capability")
            kids = tuple(map(position, sorted(requires_of(cap))))
            children.append(kids)
            threshold = threshold_of(cap)
            thresholds_.append(threshold if threshold is not None else default)
            combine = combine_of(cap)
            kink = kink_of.get(combine)
            if kink is None:
                kink = kink_of[combine] = _rule(combine).kink
            kinked.append(kink or any(map(is_kinked, kids)))
    thresholds = np.array(thresholds_, dtype=float)

    _compile_skills(spec, nodes, names, index, levels[0], samples, seed)
    _compile_rules(nodes, names, index, depth, levels)
    _compile_lenses(nodes, names, depth, levels)
    return Plan(names, index, kinds, children, thresholds, levels, np.array(kinked, dtype=bool), samples)


def _family(kind: str):
    if kind not in FAMILIES:
        raise UnknownKind(f"no engine path for curve family {kind!r}; known: {', '.join(FAMILIES)}")
    return FAMILIES[kind]


def _rule(name: str):
    if name not in RULES:
        raise UnknownKind(f"no engine path for rule {name!r}; known: {', '.join(RULES)}")
    return RULES[name]


def _lens(kind: str):
    if kind not in LENSES:
        raise UnknownKind(f"no engine path for lens {kind!r}; known: {', '.join(LENSES)}")
    return LENSES[kind]


def _compile_skills(spec: MapSpec | None, nodes: SpecNodes | PlainNodes, names: list[str],
                    index: dict[str, int], level: Level, samples: int, seed: int) -> None:
    # one group per "block" family, in registry order (the order of the copula's latent rows)
    by_kind: dict[str, list[str]] = {k: [] for k, f in FAMILIES.items() if f.batch == "block"}
    bodies_of: dict[str, Any] = {}
    skills_, curve_of, families = nodes.skills, nodes.curve, {}
    for name in names:
        skill = skills_.get(name)
        if skill is None:
            continue
        kind, body = curve_of(skill)
        family = families.get(kind) or families.setdefault(kind, _family(kind))
        if family.batch == "table":
            xs, ys = nodes.points(body)
            level.points.append(PointsSkill(index[name], np.log10(xs), np.array(ys, dtype=float), kind))
        elif family.batch == "block":
            by_kind[kind].append(name)
            bodies_of[name] = body
        else:
            raise UnknownKind(f"no engine path for batch {family.batch!r} of curve family {kind!r}")
    skills = [n for members in by_kind.values() for n in members]
    z = np.zeros((len(skills), 1)) if samples == 1 or spec is None else _latent(spec, skills, samples, seed)
    # independent stream for the non-location parameters (a point plan draws none: no numpy.random import)
    rng = np.random.default_rng([seed, 1]) if samples > 1 else None
    row = 0
    for kind, members in _blocks(by_kind):
        family = FAMILIES[kind]
        bodies = list(map(bodies_of.__getitem__, members))
        columns = {name: nodes.values(bodies, kind, name) for name in family.names}
        zk = z[row:row + len(members)]
        row += len(members)
        n_eps = len(family.drawn)
        eps = rng.standard_normal((n_eps, len(members), samples)) if rng else np.zeros((n_eps, 1, 1))
        location = family.param(family.location)
        params = {location.arg: _draw_scale(columns[location.name], zk, samples)}
        draw = lambda values, e, low, high: _draw(values, e, low, high, samples)  # noqa: E731
        if family.draw is not None:  # parameters whose bounds depend on each other
            params.update(family.draw(columns, eps, draw))
        else:
            for e, name in zip(eps, family.drawn, strict=True):
                p = family.param(name)
                params[p.arg] = draw(columns[name], e, *p.draw_bounds)
        level.skills.append(SkillBlock(kind, np.array([index[n] for n in members]), params))


def _blocks(groups: dict) -> list[tuple[object, list[str]]]:
    """Split each group's members into runs of at most BLOCK nodes, keeping their order."""
    return [(key, members[i:i + BLOCK]) for key, members in groups.items()
            for i in range(0, len(members), BLOCK)]


def _draw_scale(values, z, samples: int) -> np.ndarray:
    if samples == 1:  # the point estimate: every interval at its median
        return np.log10([median(v) for v in values])[:, None]
    return scale_draws(values, z)


def _draw(values, eps, low, high, samples: int) -> np.ndarray:
    if samples == 1:
        return np.array([median(v) for v in values], dtype=float)[:, None]
    return truncated_draws(values, eps, low, high)


def _latent(spec: MapSpec, skills: list[str], samples: int, seed: int) -> np.ndarray:
    """Copula latents (skills, samples); zeros for a single point-estimate sample."""
    if samples == 1 or not skills:
        return np.zeros((len(skills), 1))
    overrides = sorted(n for n, c in spec.capabilities.items() if c.correlation is not None)
    group_of = {s: 0 for s in skills}
    distance = {s: np.inf for s in skills}
    for g, cap in enumerate(overrides, start=1):  # nearest overriding capability above each skill
        under = below(spec, cap)
        for s in skills:
            if under.get(s, np.inf) < distance[s]:
                group_of[s], distance[s] = g, under[s]
    rho_group = np.array([spec.correlation] + [spec.capabilities[c].correlation for c in overrides])
    groups = np.array([group_of[s] for s in skills])
    rng = np.random.default_rng([seed, 0])
    return latent(groups, rho_group[groups], rho_group, spec.correlation, samples, rng)


def _compile_rules(nodes: SpecNodes | PlainNodes, names: list[str], index: dict[str, int],
                   depth: dict[str, int], levels: list[Level]) -> None:
    groups: dict[tuple[int, str], list[str]] = {}
    caps = nodes.capabilities
    ours = [name for name in names if name in caps]  # in plan order
    mine = list(map(caps.__getitem__, ours))
    requires = dict(zip(ours, map(nodes.requires, mine), strict=True))
    for name, combine in zip(ours, map(nodes.combine, mine), strict=True):
        groups.setdefault((depth[name], combine), []).append(name)
    position = index.__getitem__
    for (d, name), members in _blocks(dict(sorted(groups.items()))):
        rule = _rule(name)
        if rule.batch == "product":  # most children first: each child slot is then a prefix (weights.py)
            members = sorted(members, key=lambda n: -len(requires[n]))
        block = RuleBlock(name, np.array(list(map(position, members))), np.array([], dtype=int))
        if rule.batch == "product":
            # edge lists built by C-level iteration (chain, map, times): a loop per edge cost 0.3 s
            reqs = list(map(requires.__getitem__, members))
            child_of_edge = list(map(position, chain.from_iterable(reqs)))
            kids = sorted(set(child_of_edge))
            column = dict(zip(kids, range(len(kids)), strict=True))
            rows = list(chain.from_iterable(map(times, range(len(reqs)), map(len, reqs))))
            cols = list(map(column.__getitem__, child_of_edge))
            shares = (normalised(list(req.values())) for req in reqs) if rule.normalised else (
                req.values() for req in reqs)
            weights = list(chain.from_iterable(shares))
            block.children = np.array(kids)
            block.matrix = weight_matrix(rows, cols, weights, (len(members), len(kids)))
            if len(rows) == len(members) and all(w == 1 for w in weights):
                block.copies = block.children[np.array(cols)]
        elif rule.batch == "padded":  # a child once per trial (k_of_n) or once (min)
            repeat = (lambda c: int(c)) if rule.per_trial else (lambda c: 1)  # noqa: E731
            per_node = [[index[c] for c, count in sorted(requires[n].items())
                         for _ in range(repeat(count))] for n in members]
            trials = np.full((max(map(len, per_node)), len(members)), -1)
            for j, row in enumerate(per_node):
                trials[:len(row), j] = row
            block.trials = trials
            if rule.param is not None:
                block.ks = np.array([nodes.param(caps[n], rule.param) for n in members])
        elif rule.batch == "tail":  # blocks of similar cost (engine/kofn.py)
            counts = [{index[c]: int(w) for c, w in sorted(requires[n].items())} for n in members]
            ks = [nodes.param(caps[n], rule.param) for n in members]
            for rows, tail in kofn.compile_block(counts, ks):
                levels[d].rules.append(RuleBlock(name, block.nodes[rows], block.children, kofn=tail))
            continue
        else:
            raise UnknownKind(f"no engine path for batch {rule.batch!r} of rule {name!r}")
        levels[d].rules.append(block)


def _compile_lenses(nodes: SpecNodes | PlainNodes, names: list[str], depth: dict[str, int],
                    levels: list[Level]) -> None:
    groups: dict[tuple[int, str], list[tuple[int, float]]] = {}
    skills, caps, known = nodes.skills, nodes.capabilities, {}  # known: each lens looked up once
    metric_of = nodes.metric
    for i, name in enumerate(names):
        node = skills.get(name) or caps[name]
        metric = metric_of(node)
        if metric is None:
            continue
        kind, value = metric
        lens = known.get(kind) or known.setdefault(kind, _lens(kind))
        if lens.param is None:  # identity: nothing to apply
            continue
        groups.setdefault((depth[name], kind), []).append((i, float(value)))
    for (d, kind), members in sorted(groups.items()):
        levels[d].lenses.append(LensBlock(kind, np.array([m[0] for m in members]),
                                          np.array([m[1] for m in members])[:, None, None]))


# --- evaluation ------------------------------------------------------------------------------------


def evaluate(plan: Plan, log_x: np.ndarray, samples: slice | None = None,
             dtype: type = np.float64, unscored: tuple[int, ...] = (),
             after_level: Callable[[np.ndarray], None] | None = None,
             out: np.ndarray | None = None) -> np.ndarray:
    """Every node's value at the scales ``log_x`` (log10, on the grid axis: the map's, or FLOPs for loss).

    Returns an array (nodes, samples in the slice, points) in plan order. Monte Carlo passes ask
    for float32: half the memory traffic, and rounding far below the sampling error. Nodes in
    ``unscored`` skip their own metric lens: their row is the bare success probability (and their
    parents see it too), which is what a picture of one ability under other lenses needs.
    ``after_level(values)`` runs after each level, before the next reads it: a way to perturb one
    node's row and see what its ancestors make of it (:mod:`capgraph.engine.explain`). ``out``, a
    buffer of at least as many values of ``dtype``, is filled and returned (shaped) instead of a new
    array: a Monte Carlo pass then does not fault in hundreds of megabytes of fresh pages per slice.
    An ``out`` of exactly the result's shape may be a strided view (:func:`evaluate_on_cores`).
    """
    log_x = np.atleast_1d(np.asarray(log_x, dtype=float))
    rows = samples or slice(0, plan.samples)
    width = len(range(*rows.indices(plan.samples)))
    shape = (len(plan), width, log_x.size)
    if out is None:
        values = np.empty(shape, dtype=dtype)
    elif out.dtype == dtype and out.shape == shape:  # a view, perhaps of some columns of a larger array
        values = out
    elif out.dtype != dtype or out.size < math.prod(shape):
        raise ValueError(f"evaluate needs a buffer of {math.prod(shape)} {np.dtype(dtype)} values, "
                         f"got {out.size} {out.dtype}")
    else:
        values = out.reshape(-1)[:math.prod(shape)].reshape(shape)
    at = plan.coord(log_x) if plan.coord else log_x  # where the skill curves are read
    x = at.astype(dtype)[None, None, :]
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        for level in plan.levels:
            for block in level.skills:
                q = {k: v[:, rows, None].astype(dtype, copy=False) for k, v in block.params.items()}
                values[block.nodes] = FAMILIES[block.kind].kernel(x, **q)
            for kind, nodes, log_xs, ys in level.tables:  # one call per family and size
                values[nodes] = FAMILIES[kind].kernel(at, log_xs, ys)[:, None, :].astype(dtype, copy=False)
            for block in level.rules:
                if block.copies is not None:
                    values[block.nodes] = values[block.copies]
                    continue
                result = _apply_rule(block, values)
                if RULES[block.rule].space not in ("log", "log1m"):  # exp of a sum of logs ≤ 0: in [0, 1]
                    # rounding can leave a mean a hair above 1, which any-of's log1p(-p) would make nan
                    np.minimum(result, 1.0, out=result)  # two ufuncs: np.clip's Python layers cost a chain 8%
                    np.maximum(result, 0.0, out=result)
                values[block.nodes] = result
            for lens in level.lenses:
                nodes, param = lens.nodes, lens.param[:, 0, 0]
                if unscored:
                    scored = ~np.isin(nodes, unscored)
                    nodes, param = nodes[scored], param[scored]
                lensing.apply(lens.kind, values, nodes, param)
            if after_level is not None:
                after_level(values)
    return values


def evaluate_on_cores(plan: Plan, log_x: np.ndarray) -> np.ndarray:
    """The values (nodes, points) of a one-sample plan, as ``evaluate(plan, log_x)[:, 0, :]``, with
    the grid split into a block of columns per core when the map is large (at least
    ``SPLIT_FLOATS`` values a core): each scale's values depend on that scale alone, so each worker
    (:mod:`capgraph.engine.workers`) evaluates the whole map on its own columns, in place.
    """
    log_x = np.atleast_1d(np.asarray(log_x, dtype=float))
    count = min(workers.cores(), log_x.size, len(plan) * log_x.size // SPLIT_FLOATS)
    runner = workers.pool(count)
    if runner.workers == 1:
        return evaluate(plan, log_x, slice(0, 1))[:, 0, :]
    values = runner.empty((len(plan), log_x.size), float)
    edges = np.linspace(0, log_x.size, count + 1).round().astype(int).tolist()
    blocks = list(zip(edges[:-1], edges[1:], strict=True))
    with runner:
        for _ in runner.run([partial(evaluate, plan, log_x[a:b], slice(0, 1), out=values[:, None, a:b])
                             for a, b in blocks], blocks):
            pass
    return values


def _tables(points: list[PointsSkill]) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """``"table"`` skills grouped by family and number of points: (kind, nodes, log_xs, ys), the
    last two (skills, points), as a table kernel takes many skills at once."""
    groups: dict[tuple[str, int], list[PointsSkill]] = {}
    for pts in points:
        groups.setdefault((pts.kind, len(pts.ys)), []).append(pts)
    return [(kind, np.array([p.node for p in group]), np.array([p.log_xs for p in group]),
             np.array([p.ys for p in group])) for (kind, _), group in sorted(groups.items())]


def _apply_rule(block: RuleBlock, values: np.ndarray) -> np.ndarray:
    if block.kofn is not None:
        return kofn.apply(block.kofn, values)
    rule = RULES[block.rule]
    if rule.batch == "product":
        kids = values[block.children]
        shape = (len(block.nodes), *kids.shape[1:])
        flat = kids.reshape(len(block.children), -1)
        matrix = block.matrix_as(flat.dtype)  # keep float32 passes in float32
        # flat is a copy, and the product a new array: both are worked on in place
        if rule.space == "log":  # Π p^w = exp(Σ w log p)
            total = matrix @ np.log(flat, out=flat)
            return np.exp(total, out=total).reshape(shape)
        if rule.space == "log1m":  # 1 − Π (1 − p)^w
            np.negative(flat, out=flat)
            total = matrix @ np.log1p(flat, out=flat)
            np.exp(total, out=total)
            return np.subtract(1.0, total, out=total).reshape(shape)
        return (matrix @ flat).reshape(shape)  # linear: Σ w p
    if rule.padded is min_padded:  # trial by trial, into the first: no (trials, parents, ...) copy
        return _min_of_trials(block.trials, values)
    gathered = values[np.maximum(block.trials, 0)]  # (T, parents, samples, points)
    pad = (block.trials < 0)[:, :, None, None]
    # the pad never changes the answer: 1 never lowers a min, 0 never succeeds in k_of_n
    return rule.padded(np.where(pad, gathered.dtype.type(rule.pad), gathered), block.ks)


def _min_of_trials(trials: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each parent's smallest child, ``trials`` (T, parents) padded with −1 as a ``min`` block has
    them: what ``min_padded`` gives (minima are exact), one child row at a time."""
    out = values[trials[0]]  # every parent has a first child
    for row in trials[1:]:
        have = row >= 0
        if have.all():
            np.minimum(out, values[row], out=out)
        else:
            out[have] = np.minimum(out[have], values[row[have]])
    return out
