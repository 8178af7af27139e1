"""The capability hierarchy as a networkx DAG.

Edges run from child to parent (a skill feeds the capabilities that need it), so a topological
order visits every child before its parents and ``topological_generations`` gives the levels,
skills first. Edge attribute ``weight`` is the count or weight written in ``requires``.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from capgraph.schema import MapSpec


def build(spec: MapSpec) -> nx.DiGraph:
    """The map's DAG; node attribute ``kind`` is ``"skill"`` or ``"capability"``."""
    graph = nx.DiGraph()
    graph.add_nodes_from(spec.skills, kind="skill")
    graph.add_nodes_from(spec.capabilities, kind="capability")
    graph.add_weighted_edges_from(
        (child, name, weight)
        for name, cap in spec.capabilities.items()
        for child, weight in cap.requires.items()
    )
    return graph


def order(graph: nx.DiGraph) -> list[str]:
    """Children before parents: by level, then by name, so the order never varies between runs."""
    level = depth(graph)
    return sorted(level, key=lambda name: (level[name], name))


def levels(graph: nx.DiGraph) -> list[list[str]]:
    """Nodes by level: skills (no children) first, then each rank of composites, sorted by name."""
    return [sorted(generation) for generation in nx.topological_generations(graph)]


def depth(graph: nx.DiGraph) -> dict[str, int]:
    """Each node's level: 0 for nodes with no children, else 1 + the deepest child's level."""
    return levels_from_children({n: graph.pred[n] for n in graph})


def map_depth(spec: MapSpec) -> dict[str, int]:
    """:func:`depth` straight from a map, without building the networkx graph (the fast path)."""
    children: dict[str, Iterable[str]] = dict.fromkeys(spec.skills, ())
    children.update((name, cap.requires) for name, cap in spec.capabilities.items())
    return levels_from_children(children)


def levels_from_children(children: dict[str, Iterable[str]]) -> dict[str, int]:
    """Levels by Kahn's algorithm over plain dicts.

    This runs on every load; on maps of 100,000 nodes a generic topological sort with name
    tie-breaking costs more than the rest of the load put together.
    """
    parents: dict[str, list[str]] = {n: [] for n in children}
    waiting = {}
    for node, kids in children.items():
        waiting[node] = len(kids)
        for kid in kids:
            parents[kid].append(node)
    out = {n: 0 for n, count in waiting.items() if count == 0}
    ready = list(out)
    while ready:
        child = ready.pop()
        for parent in parents[child]:
            out[parent] = max(out.get(parent, 0), out[child] + 1)
            waiting[parent] -= 1
            if waiting[parent] == 0:
                ready.append(parent)
    if len(out) != len(waiting):
        raise nx.NetworkXUnfeasible("the graph has a cycle")
    return out


def below(spec: MapSpec, name: str) -> dict[str, int]:
    """Every node under ``name`` (itself included) with its distance in steps down the hierarchy."""
    out = {name: 0}
    frontier = [name]
    while frontier:
        step = []
        for node in frontier:
            cap = spec.capabilities.get(node)
            for child in cap.requires if cap else ():
                if child not in out:
                    out[child] = out[node] + 1
                    step.append(child)
        frontier = step
    return out


def roots(graph: nx.DiGraph) -> list[str]:
    """Nodes nothing depends on: the most composite abilities."""
    return sorted(n for n in graph if graph.out_degree(n) == 0)
