"""Scenarios: named overlays on a map, each a different set of assumptions to set side by side.

A scenario names only what it changes. Its keys (``scale``, ``threshold``, ``skills``,
``capabilities``, ``timeline``) are deep-merged over the map's raw data the way JSON Merge Patch
(RFC 7396) does it: mappings merge key by key, any other value replaces, and ``null`` deletes a key
(so ``curve: {logistic: null, points: [...]}`` swaps a curve's kind). The merged map is then
validated as a whole, with every problem located in the scenario block where the scenario wrote
the value. ``efficiency`` multiplies effective compute (see :mod:`capgraph.world.allocation`).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from capgraph.core.errors import Problem
from capgraph.core.suggest import did_you_mean
from capgraph.format.problems import pydantic_problems, structure_problems
from capgraph.format.schema import MapSpec
from capgraph.format.source import Document

BASELINE = "baseline"
OVERLAY_KEYS = ("scale", "threshold", "skills", "capabilities", "timeline")


def merge_patch(base: Any, patch: Any) -> Any:
    """``patch`` applied to ``base`` (RFC 7396): neither argument is modified."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _overlay(scenario: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in scenario.items() if k in OVERLAY_KEYS}


def merged_document(doc: Document, name: str, extra: dict[str, Any] | None = None) -> Document:
    """The map with scenario ``name`` (and then ``extra``, e.g. a CLI override) merged in.

    Positions of values the scenario wrote point into its block; the rest keep the map's own.
    """
    data = {k: v for k, v in doc.data.items() if k != "scenarios"}
    keys = {loc: pos for loc, pos in doc.keys.items() if loc[:1] != ("scenarios",)}
    values = {loc: pos for loc, pos in doc.values.items() if loc[:1] != ("scenarios",)}
    if name != BASELINE:
        scenario = doc.data["scenarios"][name]
        data = merge_patch(data, _overlay(scenario))
        prefix = ("scenarios", name)
        for table, merged in ((doc.keys, keys), (doc.values, values)):
            for loc, pos in table.items():
                if loc[:2] == prefix and len(loc) > 2 and loc[2] in OVERLAY_KEYS:
                    merged[loc[2:]] = pos
    if extra:
        data = merge_patch(data, extra)
    return Document(doc.path, data, keys, values)


def scenario_problems(doc: Document, spec: MapSpec | None) -> list[Problem]:
    """Every problem of every scenario, located in the map file.

    With ``spec`` None the base map has problems of its own: each scenario is still checked, but
    only problems inside its own block are kept (the base's would be repeated once a scenario).
    """
    problems: list[Problem] = []
    raw = doc.data.get("scenarios")
    names = list(spec.scenarios) if spec is not None else [
        n for n, v in raw.items() if isinstance(v, dict)] if isinstance(raw, dict) else []
    for name in names:
        found = _one_scenario(doc, name)
        if spec is None:
            lines = [pos[0] for table in (doc.keys, doc.values) for loc, pos in table.items()
                     if loc[:2] == ("scenarios", name)]
            found = [p for p in found if lines and min(lines) <= p.line <= max(lines)]
        problems.extend(found)
    return problems


def _one_scenario(doc: Document, name: str) -> list[Problem]:
    """Problems of scenario ``name``: new nodes it names, else those of the map merged with it."""
    scenario = doc.data["scenarios"][name]
    where = ("scenarios", name)
    if name == BASELINE:  # the map as written goes by this name in compare and --scenario
        return [doc.problem(where, f"'{BASELINE}' is reserved for the map as written; "
                            "give the scenario another name", key=True)]
    tagged = lambda p: Problem(p.path, p.line, p.col,  # noqa: E731
                               f"scenario '{name}': {p.message}", p.severity)
    new_nodes = []
    for section in ("skills", "capabilities"):
        existing = doc.data.get(section)
        existing = existing if isinstance(existing, dict) else {}
        changed = scenario.get(section)
        for node in changed if isinstance(changed, dict) else {}:
            if node not in existing:
                hint = did_you_mean(node, existing)
                new_nodes.append(tagged(doc.problem((*where, section, node),
                                             f"'{node}' is not one of the map's {section}; a "
                                             f"scenario changes existing nodes only{hint}", key=True)))
    if new_nodes:
        return new_nodes
    problems: list[Problem] = []
    merged = merged_document(doc, name)
    try:
        MapSpec.model_validate(merged.data)
    except ValidationError as exc:
        problems.extend(tagged(p) for p in pydantic_problems(merged, exc))
    problems.extend(tagged(p) for p in structure_problems(merged))
    return problems
