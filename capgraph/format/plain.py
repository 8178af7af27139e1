"""Maps written plainly, cleared without building a model per node.

A generated map of 100,000 nodes writes every node the same plain way: numbers as JSON numbers,
``requires`` as a mapping, one curve family, one lens. For such a map pydantic's validation (a
model or five per node, half of loading) can only say "valid", so :func:`plain_settings` checks
each node against exactly what the schema accepts, in one pass of plain Python, and validates
only the map's own keys (scale, threshold, timeline...) with pydantic. Anything it is not sure
of (a string where a number may be, a range, ``fit:``, scenarios, a problem of any kind) leaves
the map to :func:`capgraph.format.validate.validate`, which then finds and locates every problem;
so the problems a map can have are reported exactly as before. :class:`PlainNodes` reads the
cleared nodes for the plan compiler, as the models would give them.
"""

from __future__ import annotations

import math
from operator import itemgetter, methodcaller
from typing import Any

from pydantic import ValidationError

from capgraph.core.limits import TRIALS
from capgraph.format.problems import structure_problems
from capgraph.format.schema import MapSpec
from capgraph.format.source import Document
from capgraph.kernels.curves import FAMILIES
from capgraph.kernels.kinds import WHOLE_MAX
from capgraph.kernels.lenses import LENSES
from capgraph.kernels.rules import RULES

_SKILL_KEYS = frozenset({"description", "curve", "metric", "threshold", "column"})
_CAPABILITY_KEYS = frozenset({"description", "requires", "combine", "k", "metric", "threshold",
                              "correlation", "column"})
_INF = math.inf


def plain_settings(doc: Document) -> MapSpec | None:
    """The map's own keys validated (a :class:`MapSpec` whose skills are a stand-in), when every
    node of ``doc`` is written plainly and the map has no problem; else None (validate it fully).

    On success ``doc.depth`` holds each node's level, as after :func:`validate`.
    """
    data = doc.data
    if doc.problems or not isinstance(data, dict) or data.get("scenarios"):
        return None
    skills, caps = data.get("skills"), data.get("capabilities", {})
    if type(skills) is not dict or not skills or type(caps) is not dict:
        return None
    if not (all(map(_plain_skill, skills.values())) and all(map(_plain_capability, caps.values()))):
        return None
    # the map's own keys, by pydantic, around one plain skill (the node checks above did the rest)
    shell = {key: value for key, value in data.items() if key not in ("skills", "capabilities")}
    shell["skills"] = {"-": {"curve": {"points": [[1.0, 0.5], [2.0, 0.5]]}}}
    try:
        settings = MapSpec.model_validate(shell)
    except ValidationError:
        return None
    if structure_problems(doc):  # names, references, cycles; also finds the levels
        return None
    return settings


def _unit(value: Any) -> bool:
    """A float in [0, 1]: a fraction, which the schema keeps as written (-0.0 included)."""
    return type(value) is float and 0.0 <= value <= 1.0


def _above_zero(value: Any) -> bool:
    """A finite float above 0: a scale or a positive parameter, kept as written."""
    return type(value) is float and 0.0 < value < _INF


def _parameters() -> dict[str, tuple[dict[str, Any], frozenset[str], tuple]]:
    """Per block family: each parameter's test of a plain float the schema passes unchanged, the
    required ones, and the (lower, upper) pairs that must be ordered."""
    out = {}
    for name, family in FAMILIES.items():
        if family.batch != "block":
            continue
        spans = {}
        for p in family.params:  # as schema._param_field chooses the parameter's type
            spans[p.name] = _unit if not p.log and p.closed and p.bounds == (0.0, 1.0) else _above_zero
        required = frozenset(p.name for p in family.params if p.default is None)
        # pydantic checks a written upper one against the lower one, written or at its default
        ordered = tuple((p.above, p.name, family.param(p.above).default) for p in family.params if p.above)
        out[name] = (spans, required, ordered)
    return out


_BLOCKS = _parameters()
_TABLES = frozenset(name for name, family in FAMILIES.items() if family.batch == "table")


def _text(value: Any) -> bool:
    return value is None or type(value) is str


def _fraction(value: Any) -> bool:
    """A float the schema's thresholds and fractions take as written (their fast path)."""
    return value is None or (type(value) is float and 0.0 < value < 1.0)


def _plain_skill(node: Any) -> bool:
    if type(node) is not dict or not _SKILL_KEYS.issuperset(node):
        return False
    curve = node.get("curve")
    if type(curve) is not dict or len(curve) != 1:
        return False
    ((kind, body),) = curve.items()
    if kind in _BLOCKS:
        if not _plain_block(kind, body):
            return False
    elif kind not in _TABLES or not _plain_points(body):
        return False
    return (_fraction(node.get("threshold")) and _plain_metric(node.get("metric"))
            and _text(node.get("description")) and _text(node.get("column")))


def _plain_block(kind: str, body: Any) -> bool:
    spans, required, ordered = _BLOCKS[kind]
    if type(body) is not dict or not required.issubset(body):
        return False
    for name, value in body.items():
        test = spans.get(name)
        if test is None or not test(value):
            return False
    return all(body.get(low, default) < body[high] for low, high, default in ordered if high in body)


def _plain_points(body: Any) -> bool:
    if type(body) is not list or len(body) < 2:
        return False
    last = 0.0
    for pair in body:
        if type(pair) is not list or len(pair) != 2:
            return False
        x, y = pair
        if type(x) is not float or not last < x < _INF or not _unit(y):
            return False
        last = x
    return True


def _plain_metric(metric: Any) -> bool:
    if metric is None:
        return True
    if type(metric) is not dict or len(metric) != 1:
        return False
    ((kind, body),) = metric.items()
    lens = LENSES.get(kind)
    if lens is None or type(body) is not dict:
        return False
    if lens.param is None:
        return not body
    if len(body) != 1 or lens.param not in body:
        return False
    value = body[lens.param]
    if lens.integer:
        return type(value) is int and lens.low <= value <= WHOLE_MAX
    return lens.low == 0 and _count(value)


def _count(value: Any) -> bool:
    """A number the schema reads as a positive float equal to it (an int, or a finite float)."""
    kind = type(value)
    return (kind is float and 0.0 < value < _INF) or (kind is int and 0 < value < 2 ** 53)


def _plain_capability(node: Any) -> bool:
    if type(node) is not dict or not _CAPABILITY_KEYS.issuperset(node):
        return False
    requires = node.get("requires")
    if type(requires) is not dict or not requires or not all(map(_count, requires.values())):
        return False
    combine = node.get("combine", "all")
    rule = RULES.get(combine) if type(combine) is str else None
    if rule is None:
        return False
    k = node.get("k")
    if rule.param == "k":
        if type(k) is not int or k < 1:
            return False
        if rule.per_trial:
            trials = sum(map(float, requires.values()))
            if not all(type(c) is int for c in requires.values()) or TRIALS.exceeded(trials) or k > trials:
                return False
    elif k is not None:
        return False
    correlation = node.get("correlation")
    return (_fraction(node.get("threshold")) and (correlation is None or _unit(correlation))
            and _plain_metric(node.get("metric")) and _text(node.get("description"))
            and _text(node.get("column")))


class PlainNodes:
    """The nodes of a map :func:`plain_settings` cleared, read as the compiler reads the models:
    the same values (missing parameters at their defaults), from the dicts."""

    def __init__(self, data: dict[str, Any], settings: MapSpec) -> None:
        self.skills: dict[str, Any] = data["skills"]
        self.capabilities: dict[str, Any] = data.get("capabilities", {})
        self.threshold = settings.threshold

    # C-level getters: the compiler calls them once a node
    node_threshold = staticmethod(methodcaller("get", "threshold"))
    #: a capability's children with their counts (ints where written so: the compiler's
    #: arithmetic on them, true division and float arrays, gives the floats' results)
    requires = staticmethod(itemgetter("requires"))
    combine = staticmethod(methodcaller("get", "combine", "all"))

    @staticmethod
    def param(cap: dict[str, Any], name: str) -> Any:
        return cap.get(name)

    @staticmethod
    def curve(skill: dict[str, Any]) -> tuple[str, Any]:
        """The curve's family and its block (parameters by name) or points."""
        ((kind, body),) = skill["curve"].items()
        return kind, body

    @staticmethod
    def values(bodies: list[Any], kind: str, name: str) -> list[Any]:
        """Parameter ``name`` of each block of family ``kind`` (its default where not written)."""
        default = FAMILIES[kind].param(name).default
        return [body.get(name, default) for body in bodies]

    @staticmethod
    def points(body: list[list[float]]) -> tuple[list[float], list[float]]:
        return [p[0] for p in body], [p[1] for p in body]

    @staticmethod
    def metric(node: dict[str, Any]) -> tuple[str, Any] | None:
        """The lens's kind and its parameter's value (None for a lens without one)."""
        metric = node.get("metric")
        if metric is None:
            return None
        ((kind, body),) = metric.items()
        param = LENSES[kind].param
        return kind, None if param is None else body[param]
