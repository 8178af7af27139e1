"""Tables that fit the terminal without splitting a word or a number.

rich folds a cell that does not fit its column, which cuts names and numbers in two
("read_listi|ng", "[65.7B–202|B]"). :func:`fit_table` measures the table first; when it is wider
than the terminal it puts intervals on a second line under their median, then leaves out the least
important columns, and says so in a caption. Cells are never folded unless even the essential
columns cannot fit (a terminal narrower than the names in it).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

Cell = str | Text

#: Columns laid out on the left: names and words; every other column holds numbers.
TEXT_COLUMNS = ("node", "kind", "bottleneck", "", "data")


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _width(cell: Cell) -> int:
    return max((cell_len(line) for line in _plain(cell).split("\n")), default=0)


def _two_lines(cell: Cell) -> Cell:
    """``9.51B [3.02B–30.4B]`` as two lines, the interval under its median."""
    if isinstance(cell, Text):
        return Text(cell.plain.replace(" [", "\n[", 1), style=cell.style)
    return str(cell).replace(" [", "\n[", 1)


def table_width(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> int:
    """Characters a rich table with the default box takes: each column, its padding and borders."""
    widths = [max([_width(h), *(_width(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    return sum(widths) + 3 * len(widths) + 1


def fit_table(title: str, headers: list[str], rows: list[list[Cell]], width: int | None = None, *,
              drop: Sequence[str] = (), two_line: Sequence[str] = ()) -> Table:
    """A table of ``rows`` under ``headers`` no wider than ``width`` (None: as wide as it needs).

    ``two_line`` names columns whose ``median [p5–p95]`` cells may take two lines; ``drop`` names
    the columns that may be left out, least important first.
    """
    headers, rows = list(headers), [list(r) for r in rows]
    notes = []
    if width is not None and table_width(headers, rows) > width:
        narrowed = [h for h in two_line if h in headers]
        for h in narrowed:
            i = headers.index(h)
            for r in rows:
                r[i] = _two_lines(r[i])
        if narrowed:
            notes.append("intervals under their medians")
        left_out = []
        for h in drop:
            if table_width(headers, rows) <= width:
                break
            if h in headers:
                i = headers.index(h)
                headers.pop(i)
                for r in rows:
                    r.pop(i)
                left_out.append(h.replace("\n", " "))
        if left_out:
            notes.append("left out: " + ", ".join(left_out))
    fits = width is None or table_width(headers, rows) <= width
    table = Table(title=title, title_justify="left")
    for h in headers:
        text = h in TEXT_COLUMNS
        # never cut a cell; only when even this cannot fit may names fold
        table.add_column(h, justify="left" if text else "right", no_wrap=fits or not text,
                         overflow="fold")
    for r in rows:
        table.add_row(*r)
    if notes:
        table.caption = f"To fit {width} columns: {'; '.join(notes)} (--json has everything)."
        table.caption_justify = "left"
    return table
