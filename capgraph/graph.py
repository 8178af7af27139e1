"""The capability hierarchy as a networkx DAG.

Edges run from child to parent (a skill feeds the capabilities that need it), so a topological
order visits every child before its parents and ``topological_generations`` gives the levels,
skills first. Edge attribute ``weight`` is the count or weight written in ``requires``.
"""

from __future__ import annotations

import networkx as nx

from capgraph.schema import MapSpec


def build(spec: MapSpec) -> nx.DiGraph:
    """The map's DAG; node attribute ``kind`` is ``"skill"`` or ``"capability"``."""
    graph = nx.DiGraph()
    for name in spec.skills:
        graph.add_node(name, kind="skill")
    for name in spec.capabilities:
        graph.add_node(name, kind="capability")
    for name, cap in spec.capabilities.items():
        for child, weight in cap.requires.items():
            graph.add_edge(child, name, weight=weight)
    return graph


def order(graph: nx.DiGraph) -> list[str]:
    """Children before parents, ties broken by name so the order never varies between runs."""
    return list(nx.lexicographical_topological_sort(graph))


def levels(graph: nx.DiGraph) -> list[list[str]]:
    """Nodes by level: skills (no children) first, then each rank of composites, sorted by name."""
    return [sorted(generation) for generation in nx.topological_generations(graph)]


def depth(graph: nx.DiGraph) -> dict[str, int]:
    """Each node's level: 0 for nodes with no children, else 1 + the deepest child's level."""
    out: dict[str, int] = {}
    for name in order(graph):
        out[name] = 1 + max((out[c] for c in graph.predecessors(name)), default=-1)
    return out


def roots(graph: nx.DiGraph) -> list[str]:
    """Nodes nothing depends on: the most composite abilities."""
    return sorted(n for n in graph if graph.out_degree(n) == 0)
