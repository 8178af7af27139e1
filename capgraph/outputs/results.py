"""Harness rows laid out: a summary table for the terminal, and the rows as CSV or JSON Lines text.

Nothing here reads files or computes scores; :mod:`capgraph.evidence.harness` does that.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.table import Table

from capgraph.evidence.harness import Results

#: Output formats by file-name ending.
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def output_format(path: str) -> str | None:
    """``"csv"`` or ``"jsonl"`` from a file name's ending; None for any other ending."""
    lower = path.lower()
    return next((fmt for end, fmt in FORMATS.items() if lower.endswith(end)), None)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


def to_csv(results: Results) -> str:
    """Every row as CSV with a header row; blank cells are empty."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(results.columns)
    for row in results.to_records():
        writer.writerow([_cell(v) for v in row.values()])
    return buffer.getvalue()


def to_jsonl(results: Results) -> str:
    """Every row as one JSON object a line; blank cells are ``null``."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in results.to_records())


def render(results: Results, fmt: str) -> str:
    """The rows as ``fmt`` text (``csv`` or ``jsonl``)."""
    return to_csv(results) if fmt == "csv" else to_jsonl(results)


def summary_table(results: Results) -> Table:
    """One line per (task, metric, filter, shots): how many rows and models, and the range of values."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in results.rows:
        shots = "" if row["n_shot"] is None else row["n_shot"]
        key = (row["task"], row["metric"], row["filter"] or "", shots)
        groups.setdefault(key, []).append(row)
    table = Table(title=f"{len(results)} rows from {len(results.files)} file(s)", title_justify="left")
    for header, justify in (("task", "left"), ("metric", "left"), ("filter", "left"), ("shots", "right"),
                            ("rows", "right"), ("models", "right"), ("value", "right"),
                            ("with stderr", "right")):
        table.add_column(header, justify=justify, overflow="fold")
    for (task, metric, filt, shots), rows in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        values = [r["value"] for r in rows]
        models = {(r["model"], r["revision"]) for r in rows}
        with_se = sum(r["stderr"] is not None for r in rows)
        span = f"{min(values):.4g}" if min(values) == max(values) else f"{min(values):.4g}–{max(values):.4g}"
        table.add_row(task, metric, filt, str(shots), str(len(rows)), str(len(models)), span,
                      f"{with_se}/{len(rows)}")
    return table
