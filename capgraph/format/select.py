"""Node selectors in the form dbt users know: ``+node``, ``node+``, ``+node+``, with depths.

``node`` selects the node alone; ``+node`` adds everything it requires, down to the skills;
``node+`` adds everything that requires it, up to the top; ``2+node`` and ``node+1`` stop after
that many steps. Several selectors select the union; ``exclude`` selectors are then taken away.
Pure functions over a validated map: no networkx, no recursion (maps may be deep).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from capgraph.core.suggest import did_you_mean
from capgraph.format.schema import MapSpec

_SELECTOR = re.compile(r"^(?:(\d*)(\+))?([^+\s]+)(?:(\+)(\d*))?$")


class SelectionError(ValueError):
    """A selector that names no node of the map, or is not a selector at all."""


def _walk(start: str, edges: Mapping[str, Iterable[str]], steps: int | None) -> set[str]:
    """``start`` and every node reached along ``edges`` in at most ``steps`` steps (None: all)."""
    seen, frontier, step = {start}, [start], 0
    while frontier and (steps is None or step < steps):
        step += 1
        nxt = []
        for node in frontier:
            for other in edges.get(node, ()):
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
        frontier = nxt
    return seen


def hierarchy(spec: MapSpec) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(children, parents) of every node: what it requires and what requires it."""
    children = {name: sorted(cap.requires) for name, cap in spec.capabilities.items()}
    parents: dict[str, list[str]] = {}
    for name, kids in children.items():
        for kid in kids:
            parents.setdefault(kid, []).append(name)
    return children, parents


def parse(selector: str) -> tuple[int | None, str, int | None]:
    """``(steps down or None, name, steps up or None)``; 0 means no walk that way.

    >>> parse("+fix_bug"), parse("debug+1"), parse("2+plan+")
    ((None, 'fix_bug', 0), (0, 'debug', 1), (2, 'plan', None))
    """
    match = _SELECTOR.match(selector.strip())
    if not match:
        raise SelectionError(f"'{selector}' is not a selector: write NODE, +NODE, NODE+ or +NODE+ "
                             "(a number before or after a + limits the steps, e.g. 2+NODE)")
    down_n, down, name, up, up_n = match.groups()
    down_steps = (int(down_n) if down_n else None) if down else 0
    up_steps = (int(up_n) if up_n else None) if up else 0
    return down_steps, name, up_steps


def select(spec: MapSpec, selectors: Iterable[str] = (), exclude: Iterable[str] = ()) -> set[str]:
    """The nodes the selectors pick (every node when there are none), minus those ``exclude`` picks.

    Raises :class:`SelectionError` naming each unknown node with a did-you-mean hint.
    """
    names = [*spec.skills, *spec.capabilities]
    children, parents = hierarchy(spec)
    selectors, exclude = list(selectors), list(exclude)
    problems = []

    def pick(items: list[str]) -> set[str]:
        out: set[str] = set()
        for item in items:
            try:
                down, name, up = parse(item)
            except SelectionError as exc:
                problems.append(str(exc))
                continue
            if name not in spec.skills and name not in spec.capabilities:
                problems.append(f"no node '{name}' in the map{did_you_mean(name, names)}")
                continue
            out |= _walk(name, children, down) if down != 0 else {name}
            out |= _walk(name, parents, up) if up != 0 else set()
        return out

    chosen = pick(selectors) if selectors else set(names)
    dropped = pick(exclude)
    if problems:
        raise SelectionError("; ".join(problems))
    return chosen - dropped
