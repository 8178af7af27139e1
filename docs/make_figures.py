"""Draw the README's pictures from the example maps: ``python docs/make_figures.py [FOLDER]``.

Writes into FOLDER (default: docs/img beside this script). A test runs this script into a temporary
folder and compares the files with the committed ones, so the pictures cannot drift from the code:
after changing how capgraph draws, run it again and commit the new images.
"""

from __future__ import annotations

import sys
from pathlib import Path

import capgraph
from capgraph.core.files import write_atomic
from capgraph.outputs.plot import plot
from capgraph.outputs.render import render

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = ROOT / "graphs"


def figures() -> dict[str, bytes]:
    """{file name: bytes} of every picture the README shows."""
    bug = capgraph.load(GRAPHS / "fix_unfamiliar_bug.yaml")
    ten = capgraph.load(GRAPHS / "ten_step_reasoning.yaml")
    arithmetic = capgraph.load(GRAPHS / "arithmetic_lenses.yaml")
    return {
        "fix_unfamiliar_bug.svg": render(bug, "svg"),
        "ten_step_reasoning_curves.svg": plot(ten, "svg"),
        # the map scores a five-digit answer, so the lenses use L = 5 and four options
        "arithmetic_lenses.svg": plot(arithmetic, "svg", ["per_digit"], show_lenses=True,
                                      length=5, options=4),
    }


def main(folder: str | Path = ROOT / "docs" / "img") -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_atomic(folder / name, data) for name, data in figures().items()]


if __name__ == "__main__":
    for path in main(*sys.argv[1:2]):
        print(f"wrote {path}")
