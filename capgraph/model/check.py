"""Validating map files: ``capgraph check``'s result, one entry a map with every problem found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capgraph.core.errors import MapError, Problem
from capgraph.model.capmap import load


@dataclass(frozen=True)
class MapCheck:
    """One map's outcome: its problems (errors when not ``ok``, else warnings) and its size."""

    path: str
    ok: bool
    problems: tuple[Problem, ...]
    n_skills: int = 0
    n_capabilities: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "problems": [
            {"line": p.line, "col": p.col, "severity": p.severity, "message": p.message}
            for p in self.problems]}


@dataclass(frozen=True)
class CheckReport:
    """Every map checked (the JSON object of ``capgraph check``)."""

    maps: tuple[MapCheck, ...]

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.maps)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "maps": [m.to_json() for m in self.maps]}


def check_map(path: str) -> MapCheck:
    """Load one map and keep what went wrong (or what is worth a warning) instead of raising."""
    try:
        cmap = load(path)
    except MapError as exc:
        return MapCheck(path, False, tuple(exc.problems))
    return MapCheck(path, True, tuple(cmap.warnings()), len(cmap.spec.skills),
                    len(cmap.spec.capabilities))


def check(paths: list[str]) -> CheckReport:
    """:func:`check_map` on each path, in order.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.yaml"
    >>> _ = path.write_text("skills: {s: {curve: {logistic: {midpoint: 1e10, slope: 0}}}}")
    >>> report = check([str(path)])
    >>> report.ok, [(p.line, p.col) for p in report.maps[0].problems]
    (False, [(1, 56)])
    """
    return CheckReport(tuple(check_map(p) for p in paths))
