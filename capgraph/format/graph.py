"""The capability hierarchy: its levels, and the networkx DAG for the pictures.

A node's level is the longest path below it (skills are level 0), computed straight from the
map's ``requires`` by :func:`levels_from_children`, which is also the cycle check. The networkx
graph (:func:`build`) has edges from child to parent (a skill feeds the capabilities that need
it); its edge attribute ``weight`` is the count or weight written in ``requires``.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from capgraph.format.schema import MapSpec

if TYPE_CHECKING:  # networkx costs a twentieth of a second to import; most commands never need it
    import networkx as nx


def build(spec: MapSpec) -> nx.DiGraph:
    """The map's DAG; node attribute ``kind`` is ``"skill"`` or ``"capability"``."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(spec.skills, kind="skill")
    graph.add_nodes_from(spec.capabilities, kind="capability")
    graph.add_weighted_edges_from(
        (child, name, weight)
        for name, cap in spec.capabilities.items()
        for child, weight in cap.requires.items()
    )
    return graph


def depth(graph: nx.DiGraph) -> dict[str, int]:
    """Each node's level: 0 for nodes with no children, else 1 + the deepest child's level."""
    return levels_from_children({n: graph.pred[n] for n in graph})


def map_depth(spec: MapSpec) -> dict[str, int]:
    """:func:`depth` straight from a map, without building the networkx graph (the fast path)."""
    children: dict[str, Iterable[str]] = dict.fromkeys(spec.skills, ())
    children.update((name, cap.requires) for name, cap in spec.capabilities.items())
    return levels_from_children(children)


def levels_from_children(children: dict[str, Iterable[str]]) -> dict[str, int]:
    """Levels by Kahn's algorithm, a level at a time, in numpy.

    Nodes whose children are all placed join the next level, so a node's level is the longest
    path below it. This runs on every load: on maps of 100,000 nodes a per-node Python loop, or a
    generic topological sort with name tie-breaking, costs more than the rest of the load.
    Raises :class:`CycleError` with the nodes that could not be placed.
    """
    names = list(children)
    index = {name: i for i, name in enumerate(names)}
    # edges built by C-level iteration (chain, map, fromiter): a comprehension per edge cost 1 s
    rows = [children[name] for name in names]
    sizes = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    parent = np.repeat(np.arange(len(names), dtype=np.int64), sizes)
    child = np.fromiter(map(index.__getitem__, chain.from_iterable(rows)), dtype=np.int64,
                        count=int(sizes.sum()))
    by_child = np.argsort(child, kind="stable")
    parent, child = parent[by_child], child[by_child]
    waiting = np.bincount(parent, minlength=len(names))  # children not yet placed
    level = np.full(len(names), -1)
    frontier = np.flatnonzero(waiting == 0)
    depth = 0
    while frontier.size:
        level[frontier] = depth
        lo, hi = np.searchsorted(child, frontier), np.searchsorted(child, frontier, side="right")
        counts = hi - lo
        edges = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        parents = parent[edges]
        np.subtract.at(waiting, parents, 1)
        ready = np.sort(parents[waiting[parents] == 0])  # np.unique, without its import of numpy.ma
        frontier = ready[np.concatenate(([True], ready[1:] != ready[:-1]))] if ready.size else ready
        depth += 1
    if (level < 0).any():
        raise CycleError({names[i] for i in np.flatnonzero(level < 0)})
    return dict(zip(names, level.tolist(), strict=True))


class CycleError(ValueError):
    """The hierarchy has a cycle; ``nodes`` are those that Kahn's algorithm could not place."""

    def __init__(self, nodes: set[str]) -> None:
        super().__init__("the hierarchy has a cycle")
        self.nodes = nodes


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
