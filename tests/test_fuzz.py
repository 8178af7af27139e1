"""A fuzzer over the example maps: mutated maps must end in exit 0, 1 or 2, never a traceback.

Each example is mutated a few times (a key deleted, a subtree duplicated under a new key, a value
retyped to another kind or to an absurd number, two values swapped), written back as YAML and run
through ``check`` and, when valid, through ``at`` with Monte Carlo draws. Bounded (100 examples, no
deadline) so it adds seconds, not minutes.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import GRAPHS, ROOT

MAPS = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in GRAPHS]

#: Values a retyped key may take: other kinds, and numbers at and beyond the edges.
ODD_VALUES = [None, True, "yes", "", "x" * 300, 0, -1, 1e308, -1e308, 1e-308, float("nan"), float("inf"),
              2**70, [], [1, "a"], {}, {"a": {"b": {}}}, "1e400", "7B", "3 to 1", {"p5": 2, "p95": 1}]


def _paths(doc) -> list[tuple]:
    """Every key path in a document (an explicit stack: the documents are the maps, but still)."""
    out, stack = [], [((), doc)]
    while stack:
        path, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            out.append((*path, key))
            stack.append(((*path, key), child))
    return sorted(out, key=repr)


def _parent(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _mutate(doc, data) -> None:
    paths = _paths(doc)
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    parent, key = _parent(doc, path), path[-1]
    op = data.draw(st.sampled_from(["delete", "duplicate", "retype", "swap"]))
    if op == "delete":
        del parent[key]
    elif op == "duplicate":  # the subtree again, under a new key or appended
        twin = copy.deepcopy(parent[key])
        if isinstance(parent, dict):
            parent[f"{key}_copy"] = twin
        else:
            parent.append(twin)
    elif op == "retype":
        parent[key] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES)))
    else:
        other = data.draw(st.sampled_from(paths))
        if other[:len(path)] != path and path[:len(other)] != other:  # neither inside the other
            other_parent = _parent(doc, other)
            parent[key], other_parent[other[-1]] = other_parent[other[-1]], parent[key]


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.data())
def test_mutated_examples_never_crash(data):
    doc = copy.deepcopy(data.draw(st.sampled_from(MAPS)))
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(doc, data)
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(ROOT / "graphs" / "data", Path(folder) / "data")  # fit: data paths are relative
        path = Path(folder) / "mutant.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        checked = _run("check", path)
        if checked == 0:
            _run("at", path, "1e10", "--samples", "20")


def _run(*args) -> int:
    from typer.testing import CliRunner

    from capgraph.cli.app import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code

