"""Located problems of a map: pydantic errors mapped to source positions, and the structural pass.

:func:`pydantic_problems` turns each pydantic error into a ``file:line:col`` problem with a
did-you-mean for near-miss keys; :func:`structure_problems` checks names, references and cycles on
the raw data. :mod:`capgraph.format.validate` runs both.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from capgraph.core.errors import Problem
from capgraph.core.suggest import closest, did_you_mean
from capgraph.format.graph import CycleError, levels_from_children
from capgraph.format.schema import Capability, MapSpec, Skill
from capgraph.format.source import Document, Loc

# --- pydantic errors, located ----------------------------------------------------------------------


def pydantic_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    errors = _one_branch([(_source_loc(e["loc"], doc.data), e) for e in exc.errors(include_url=False)])
    # A misspelt required key is one mistake, not two: say "did you mean", not also "missing".
    near_misses = {
        (loc[:-1], hint)
        for loc, e in errors if e["type"] == "extra_forbidden"
        for hint in difflib.get_close_matches(str(loc[-1]), _fields_at(loc[:-1]), n=1, cutoff=0.6)
    }
    # A block indented too little leaves its key empty and its keys beside it: one mistake,
    # said once, at the stray key ("'logistic' belongs under 'curve:'").
    empty = {loc for loc, e in errors if e["type"] == "model_type" and e.get("input") is None}
    explained: set[Loc] = set()
    problems = []
    for loc, error in errors:
        kind = error["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            home = _home(loc, empty)
            if home is not None:
                explained.add(home)
            hint = did_you_mean(key, _fields_at(loc[:-1]))
            message = _misplaced(loc, home) or f"unknown key '{key}'{hint}"
            problems.append((loc, doc.problem(loc, message, key=True)))
        elif kind == "missing":
            if (loc[:-1], loc[-1]) not in near_misses:
                problems.append((loc, doc.problem(loc, f"missing required key '{loc[-1]}'", key=True)))
        else:
            where = f"{loc[-1]}: " if loc and isinstance(loc[-1], str) else ""
            # a problem with a whole node points at its name, not at its first inner key
            on_key = isinstance(error.get("input"), dict)
            problems.append((loc, doc.problem(loc, where + _message(error, loc), key=on_key)))
    return [p for loc, p in problems if loc not in explained]


def _source_loc(loc: tuple[Any, ...], data: Any = None) -> Loc:
    """Drop pydantic's internal steps: validator names such as 'function-after[...]', and the model
    name a union puts before a branch's keys (``('allocation', 'LossLawSpec', 'E')``) where the
    document has no such key (a skill may well be called ``Curve``)."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (_internal(part) or (part in _MODELS and not _has(data, part))):
            continue
        out.append(part)
        data = data.get(part) if isinstance(data, dict) else (
            data[part] if isinstance(data, list) and isinstance(part, int) and -len(data) <= part < len(data)
            else None)
    return tuple(out)


def _has(data: Any, key: str) -> bool:
    return isinstance(data, dict) and key in data


def _one_branch(errors: list[tuple[Loc, dict[str, Any]]]) -> list[tuple[Loc, dict[str, Any]]]:
    """A union's errors from the branch the text chose: a mapping was written, so "must be
    'hoffmann2022' or 'besiroglu2024'" (the preset-name branch) is noise beside the mapping's own
    problems; the same for a name where a mapping was expected, once it has its own error."""
    return [
        (loc, e) for loc, e in errors
        if not (e["type"] == "literal_error" and isinstance(e.get("input"), dict | list)
                and any(o != loc and o[:len(loc)] == loc or (o == loc and oe["type"] != "literal_error")
                        for o, oe in errors))
    ]


def _model_names() -> frozenset[str]:
    seen, stack = set(), [MapSpec]
    while stack:
        cls = stack.pop()
        if cls.__name__ in seen:
            continue
        seen.add(cls.__name__)
        for f in cls.model_fields.values():
            for arg in _flat_args(f.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    stack.append(arg)
    return frozenset(seen)


def _flat_args(tp: Any) -> list[Any]:
    out, stack = [], [tp]
    while stack:
        t = stack.pop()
        args = typing.get_args(t)
        out.append(t)
        stack.extend(args)
    return out


def _internal(part: str) -> bool:
    return "[" in part and part.endswith("]")


def _message(error: dict[str, Any], loc: Loc = ()) -> str:
    kind, value = error["type"], error.get("input")
    key = str(loc[-1]) if loc else ""
    if kind == "model_type":
        return f"expected a mapping such as `{key}: {_example(loc)}`, got {_describe(value)}"
    if kind == "literal_error" and isinstance(value, str):
        options = re.findall(r"'([^']*)'", (error.get("ctx") or {}).get("expected", ""))
        near = closest(value.strip().lower().replace("-", "_").replace(" ", "_"), options)
        hint = f" (did you mean '{near}'?)" if near else ""
        return f"must be {_either(options)}, got '{value}'{hint}"
    if kind == "int_parsing":
        return f"must be a whole number such as 5, got {_describe(value)}"
    if kind == "number" and isinstance(value, str):
        percent = re.fullmatch(r"\s*([+-]?\d*\.?\d+)\s*%\s*", value)
        if percent:
            return f"'{value}' is a percentage: write {float(percent.group(1)) / 100:g}"
        if key in _FRACTIONS:
            return f"'{value}' is not a number: write a value between 0 and 1, e.g. 0.5"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message.replace("Input should be", "must be")  # pydantic's words, in ours
    return message


#: Keys whose values are probabilities or shares: their examples are 0.5, not 7B.
_FRACTIONS = {"threshold", "floor", "ceiling", "correlation"}

#: What the value of each key looks like, for "expected a mapping" messages.
_EXAMPLES = {
    "curve": "{logistic: {midpoint: 1e10, slope: 1.5}}",
    "logistic": "{midpoint: 1e10, slope: 1.5}",
    "power_law": "{scale: 1e9, exponent: 0.3}",
    "fit": "{data: results.csv, x: params, y: acc}",
    "metric": "{exact_match: {length: 10}}",
    "exact_match": "{length: 10}",
    "multiple_choice": "{options: 4}",
    "pass_at": "{k: 5}",
    "scale": "{axis: params, range: [1e8, 1e14]}",
    "timeline": "{start: 2026-01-01, flops: 5e26, growth_per_year: 4}",
}


def _example(loc: Loc) -> str:
    """An example value for the mapping at ``loc``: written out, or its required keys."""
    key = str(loc[-1]) if loc else ""
    if key in _EXAMPLES:
        return _EXAMPLES[key]
    model = _unwrap(_type_at(loc))
    if isinstance(model, type) and issubclass(model, BaseModel):
        fields = [n for n, f in model.model_fields.items() if f.is_required()] or list(model.model_fields)[:2]
        return "{" + ", ".join(f"{n}: ..." for n in fields) + "}"
    return "{...}"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (is the block under it indented?)"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'" if isinstance(value, str) else f"{value!r}"


def _either(options: list[str]) -> str:
    quoted = [f"'{o}'" for o in options]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _home(loc: Loc, empty: set[Loc]) -> Loc | None:
    """The empty sibling key (``curve:`` with nothing under it) that an unknown key belongs under."""
    key = str(loc[-1])
    for sibling in empty:
        if sibling[:-1] == loc[:-1] and key in _fields_at(sibling):
            return sibling
    return None


def _misplaced(loc: Loc, home: Loc | None) -> str | None:
    """Where a key unknown at ``loc`` belongs, when it belongs somewhere nearby."""
    key, parent = str(loc[-1]), loc[:-1]
    if home is not None:
        return f"'{key}' belongs under '{home[-1]}:', which is empty: indent it under '{home[-1]}:'"
    if len(parent) == 2 and parent[0] == "skills" and key in Capability.model_fields:
        return (f"a skill has no '{key}': only capabilities are built from other nodes; to build "
                f"'{parent[1]}' from others, make it a capability (move it under 'capabilities:' "
                "and drop its curve)")
    if len(parent) == 2 and parent[0] == "capabilities" and key in Skill.model_fields:
        return (f"a capability has no '{key}': its curve comes from what it requires; to give "
                f"'{parent[1]}' a curve of its own, make it a skill (move it under 'skills:' and "
                "drop 'requires')")
    if parent == ("scale",) and key in MapSpec.model_fields:
        return f"'{key}' belongs at the top level of the map, not under 'scale:'"
    for field in _fields_at(parent):  # one level down: 'axis' at the top belongs under 'scale:'
        if key in _fields_at((*parent, field)):
            return f"unknown key '{key}' here: it belongs under '{field}:'"
    return None


def _type_at(loc: Loc) -> Any:
    """The annotation of the value at ``loc`` (None when the location leaves the models)."""
    current: Any = MapSpec
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (dict, list, tuple):
            current = typing.get_args(current)[-1]
        else:
            return None
    return current


def _fields_at(loc: Loc) -> list[str]:
    """The keys allowed at ``loc``: walk the model's type annotations along the location."""
    current = _unwrap(_type_at(loc))
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp


#: Model class names, which pydantic puts in an error's location inside a union.
_MODELS = _model_names()


# --- names, references and cycles ------------------------------------------------------------------


def structure_problems(doc: Document) -> list[Problem]:
    """Duplicate names, dangling references and cycles, read from the raw data."""
    data = doc.data
    skills = data.get("skills") if isinstance(data.get("skills"), dict) else {}
    caps = data.get("capabilities") if isinstance(data.get("capabilities"), dict) else {}
    problems: list[Problem] = []
    for name in caps:
        if name in skills:
            problems.append(
                doc.problem(("capabilities", name), f"'{name}' is defined as a skill too", key=True)
            )
    names = set(skills) | set(caps)
    known: dict[str, list[str]] = dict.fromkeys(skills, [])
    for name, node in caps.items():
        requires = node.get("requires") if isinstance(node, dict) else None
        if isinstance(requires, dict) and names.issuperset(requires):  # the common case, in C
            known[name] = list(requires)
            continue
        known[name] = []
        for child, at in _children(node):
            if child in names:
                known[name].append(child)
            else:
                hint = did_you_mean(child, names)
                problems.append(doc.problem(("capabilities", name, "requires", at),
                                            f"'{child}' is not a skill or capability{hint}",
                                            key=isinstance(at, str)))
    try:
        doc.depth = levels_from_children(known)
    except CycleError as exc:
        problems.extend(_cycles(doc, caps, exc.nodes))
    return problems


def _cycles(doc: Document, caps: dict[str, Any], stuck: set[str]) -> list[Problem]:
    """One problem per cycle-bearing strongly connected component, printed as its path."""
    import networkx as nx  # only a map with a cycle gets here

    graph = nx.DiGraph()
    for parent in stuck:
        for child, at in _children(caps.get(parent)):
            if child in stuck:
                graph.add_edge(parent, child, at=at)
    problems = []
    for component in nx.strongly_connected_components(graph):
        start = min(component)
        if len(component) == 1 and not graph.has_edge(start, start):
            continue
        cycle = [edge[0] for edge in nx.find_cycle(graph.subgraph(component), source=start)]
        first = cycle.index(min(cycle))  # start at the alphabetically first node: stable output
        cycle = cycle[first:] + cycle[:first]
        at = graph.edges[cycle[0], cycle[1 % len(cycle)]]["at"]
        path = " → ".join([*cycle, cycle[0]])
        problems.append(doc.problem(("capabilities", cycle[0], "requires", at), f"cycle: {path}",
                                    key=isinstance(at, str)))
    return problems


def _children(node: Any) -> typing.Iterator[tuple[str, str | int]]:
    """A raw capability's children, each with its key in ``requires`` (a name, or a list index)."""
    if not isinstance(node, dict):
        return
    requires = node.get("requires")
    if isinstance(requires, dict):
        for child in requires:
            yield child, child
    elif isinstance(requires, list):
        for i, child in enumerate(requires):
            if isinstance(child, str):
                yield child, i
