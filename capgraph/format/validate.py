"""From a parsed document to a validated :class:`MapSpec`, or every located problem at once.

Two passes, both always run so that one edit-check cycle shows everything: pydantic checks each
value against the format, and the structural pass checks names, references and cycles on the raw
data (so a typo in one node's curve does not hide a dangling reference in another). Scenarios are
checked each merged over the base map; while the base has problems of its own, only those
inside a scenario's block are added.
"""

from __future__ import annotations

from pydantic import ValidationError

from capgraph.core.errors import MapError, Problem
from capgraph.format.problems import pydantic_problems, structure_problems
from capgraph.format.scenarios import scenario_problems
from capgraph.format.schema import MapSpec
from capgraph.format.source import Document


def validate(doc: Document) -> MapSpec:
    """Validate a document as a capability map; raise :class:`MapError` listing every problem."""
    problems: list[Problem] = list(doc.problems)
    spec: MapSpec | None = None
    if not isinstance(doc.data, dict):
        raise MapError([doc.problem((), "a map must be a mapping with at least a 'skills' key")])
    try:
        spec = MapSpec.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(doc, exc))
    problems.extend(structure_problems(doc))
    if not problems and spec is not None and spec.scenarios:
        problems.extend(scenario_problems(doc, spec))
    elif problems and isinstance(doc.data.get("scenarios"), dict):
        # a typo in a scenario must not hide behind the base map's own problems
        problems.extend(scenario_problems(doc, None))
    if problems:
        raise MapError(problems)
    assert spec is not None
    return spec
