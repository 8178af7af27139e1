"""Problems found in a map, each with a file, line and column, and the exception that carries them."""

from __future__ import annotations

from dataclasses import dataclass

from capgraph.core.text import one_line


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) in a map, printed as ``file:line:col: message``."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        tag = "warning: " if self.severity == "warning" else ""
        # names from the map are data: control characters are shown, never sent to the terminal
        return f"{one_line(self.path)}:{self.line}:{self.col}: {tag}{one_line(self.message)}"


class MapError(Exception):
    """Invalid input: a map (or data file) with one or more located problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[MapError], tuple[list[Problem]]]:
        return MapError, (self.problems,)  # pickled whole (a forked computation's error comes back)
