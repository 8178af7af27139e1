"""Located problems of a map: pydantic errors mapped to source positions, and the structural pass.

:func:`pydantic_problems` turns each pydantic error into a ``file:line:col`` problem with a
did-you-mean for near-miss keys; :func:`structure_problems` checks names, references and cycles on
the raw data. :mod:`capgraph.format.validate` runs both.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from capgraph.core.errors import Problem
from capgraph.core.suggest import did_you_mean
from capgraph.format.graph import CycleError, levels_from_children
from capgraph.format.schema import MapSpec
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
    problems = []
    for loc, error in errors:
        kind = error["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            hint = did_you_mean(key, _fields_at(loc[:-1]))
            problems.append(doc.problem(loc, f"unknown key '{key}'{hint}", key=True))
        elif kind == "missing":
            if (loc[:-1], loc[-1]) not in near_misses:
                problems.append(doc.problem(loc, f"missing required key '{loc[-1]}'", key=True))
        else:
            where = f"{loc[-1]}: " if loc and isinstance(loc[-1], str) else ""
            # a problem with a whole node points at its name, not at its first inner key
            on_key = isinstance(error.get("input"), dict)
            problems.append(doc.problem(loc, where + _message(error), key=on_key))
    return problems


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


def _message(error: dict[str, Any]) -> str:
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message.replace("Input should be", "must be")  # pydantic's words, in ours
    return message


def _fields_at(loc: Loc) -> list[str]:
    """The keys allowed at ``loc``: walk the model's type annotations along the location."""
    current: Any = MapSpec
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) in (dict, list, tuple):
            current = typing.get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
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
        levels_from_children(known)
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
