"""Evaluation results as tables: CSV or JSON Lines, row filters, numeric columns with skip counts.

Every problem with a data file is a :class:`~capgraph.errors.Problem` naming the file (and the line
where one applies), raised as :class:`~capgraph.errors.MapError` so the CLI prints it like a map
error and exits 1. Rows whose values are missing or not numbers are not errors: they are skipped
and counted, because real result files have gaps (a checkpoint that was not evaluated).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from capgraph.core.errors import MapError, Problem
from capgraph.core.limits import DATA_BYTES
from capgraph.core.suggest import did_you_mean
from capgraph.core.units import parse_number
from capgraph.format.source import decode, nesting_problem, read_bytes, read_chunks

#: File name endings read as JSON Lines; anything else is read as CSV (or sniffed, see read_table).
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class Table:
    """Rows of a results file as text-or-number cells, each with the line it came from."""

    path: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    lines: tuple[int, ...]
    digest: str  # sha256 of the file's bytes: the cache key of fits made from it
    format: str = "csv"  # or "jsonl"

    def __len__(self) -> int:
        return len(self.rows)

    def column_of(self, row: Mapping[str, Any], name: str) -> int:
        """The 1-based text column where a row's cell starts (CSV); 1 in JSON Lines."""
        if self.format != "csv":
            return 1
        i = self.columns.index(name)
        return sum(len(str(row.get(c, ""))) + 1 for c in self.columns[:i]) + 1

    def require(self, *names: str) -> None:
        """Raise a located problem for every column that the table does not have."""
        problems = [
            Problem(self.path, 1, 1, f"no column '{name}'{did_you_mean(name, self.columns)}")
            for name in names if name not in self.columns
        ]
        if problems:
            raise MapError(problems)

    def where(self, conditions: Mapping[str, Any]) -> Table:
        """The rows whose cells equal every condition (numbers compare as numbers: 0 == 0.0)."""
        self.require(*conditions)
        if not conditions:
            return self
        keep = [i for i, row in enumerate(self.rows)
                if all(same_value(row.get(k), v) for k, v in conditions.items())]
        return Table(self.path, self.columns, tuple(self.rows[i] for i in keep),
                     tuple(self.lines[i] for i in keep), self.digest, self.format)

    def numeric(self, *names: str, positive: Iterable[str] = ()) -> Columns:
        """The named columns as float arrays over the rows where all are numbers.

        Rows with a missing or non-numeric cell, or a non-positive value in a ``positive`` column
        (a scale we take log10 of), are skipped and counted.
        """
        self.require(*names)
        positive = set(positive)
        usable = np.ones(len(self.rows), dtype=bool)
        arrays = {}
        for name in names:
            arrays[name] = values = column_floats([row.get(name) for row in self.rows])
            usable &= (values > 0) if name in positive else np.isfinite(values)  # NaN fails both
        keep = np.flatnonzero(usable)
        return Columns(
            self.path,
            {name: values[keep] for name, values in arrays.items()},
            tuple(self.lines[i] for i in keep.tolist()),
            len(self.rows) - keep.size,
        )


@dataclass(frozen=True)
class Columns:
    """Numeric columns over the usable rows, the lines they came from, and how many were skipped."""

    path: str
    values: dict[str, np.ndarray]
    lines: tuple[int, ...]
    n_skipped: int

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    @property
    def n_used(self) -> int:
        return len(self.lines)

    def require_fraction(self, name: str) -> None:
        """Scores must lie in [0, 1]: name the first line where one does not."""
        bad = np.flatnonzero((self.values[name] < 0) | (self.values[name] > 1))
        if bad.size:
            i = int(bad[0])
            raise MapError([Problem(
                self.path, self.lines[i], 1,
                f"'{name}' must be a score in [0, 1], got {self.values[name][i]:g} "
                f"({bad.size} such row(s) in all)")])


def to_float(cell: Any) -> float | None:
    """A finite number from a cell, or None (missing, empty, text, NaN, infinite, boolean).

    >>> to_float("0.25"), to_float("70M"), to_float(""), to_float("n/a"), to_float("nan")
    (0.25, 70000000.0, None, None, None)
    """
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        try:
            value = float(cell)
        except OverflowError:  # a JSON integer of 400 digits
            return None
    else:
        try:
            value = float(str(cell).strip())
        except ValueError:
            try:  # scales as people write them: 70M, 1.4B
                value = parse_number(str(cell))
            except ValueError:
                return None
    return value if math.isfinite(value) else None


def column_floats(cells: list[Any]) -> np.ndarray:
    """:func:`to_float` of every cell as one array, NaN where it gives None.

    A column of plain number text (CSV) or of JSON numbers converts in one pass, which matters for
    a million rows; a column with anything else (``70M``, blanks, booleans) goes cell by cell.

    >>> column_floats(["0.25", "7B", "", "nan", None, True]).tolist()
    [0.25, 7000000000.0, nan, nan, nan, nan]
    """
    kinds = set(map(type, cells))
    try:
        if kinds <= {str}:  # float() of text, as to_float: the same numbers, NaN and inf included
            values = np.fromiter(map(float, cells), dtype=float, count=len(cells))
        elif kinds <= {int, float}:  # JSON numbers (bool is its own type, so never here)
            values = np.array(cells, dtype=float)
        else:
            raise ValueError("mixed cells")
    except (ValueError, OverflowError):
        values = np.array([math.nan if (v := to_float(c)) is None else v for c in cells], dtype=float)
    values[~np.isfinite(values)] = math.nan  # infinite is as unusable as missing
    return values


def same_value(cell: Any, wanted: Any) -> bool:
    """Cell equals a filter value: as numbers when both are numbers, else as trimmed text."""
    if isinstance(wanted, bool) or isinstance(cell, bool):  # YAML true / CSV "True" / JSON true
        return _text(cell).lower() == _text(wanted).lower()
    a, b = to_float(cell), to_float(wanted)
    if a is not None and b is not None:
        return a == b
    return _text(cell) == _text(wanted)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_where(items: Iterable[str]) -> dict[str, str]:
    """``["task=lambada", "deduped=0"]`` → ``{"task": "lambada", "deduped": "0"}``.

    >>> parse_where(["task=lambada", "size = 1b"])
    {'task': 'lambada', 'size': '1b'}
    """
    out = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise ValueError(f"expected COLUMN=VALUE, got {item!r}")
        out[column.strip()] = value.strip()
    return out


# --- reading ---------------------------------------------------------------------------------------


def read_table(path: str | Path) -> Table:
    """Read a CSV file (header row first) or JSON Lines file (one object a line).

    JSON Lines is chosen by the ending ``.jsonl``/``.ndjson``, or when the first character of the
    file is ``{``; anything else is CSV.
    """
    name = str(path)
    raw = read_bytes(path, "data file", DATA_BYTES)
    digest = hashlib.sha256(raw).hexdigest()
    text = decode(raw, name)
    if not text.strip():
        raise MapError([Problem(name, 1, 1, "empty data file")])
    jsonl = name.lower().endswith(JSONL_SUFFIXES) or text.lstrip().startswith(("{", "["))
    if jsonl and (deep := nesting_problem(text, name, json_text=True)) is not None:
        raise MapError([deep])  # json.loads recurses once a level: bounded before it runs
    columns, rows, lines = (_read_jsonl if jsonl else _read_csv)(name, text)
    if len(rows) == 1 and _looks_like_results(rows[0]):  # a harness file written on one line
        raise MapError([Problem(name, lines[0], 1, _NOT_JSONL + _RESULTS_HINT)])
    return Table(name, columns, tuple(rows), tuple(lines), digest, "jsonl" if jsonl else "csv")


_NOT_JSONL = "this is one JSON document, but a results table in JSON Lines has one JSON object a line"
_RESULTS_HINT = ("; it looks like evaluation-harness results: read such files with `capgraph results "
                 "FILE...`, or give them to `capgraph fit` (or a map's fit:) with a models table")


def _looks_like_results(data: Any) -> bool:
    return isinstance(data, dict) and (isinstance(data.get("results"), dict)
                                       or isinstance(data.get("evaluation_results"), list))


def _whole_document(text: str) -> str | None:
    """Why the text is not JSON Lines when it is one JSON document spread over lines, else None."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return _NOT_JSONL + (_RESULTS_HINT if _looks_like_results(data) else "")


def file_digest(path: str | Path) -> str:
    """sha256 of a data file's bytes, streamed: the cache key of its fits, without parsing it.

    The same checks as :func:`read_table` apply (a regular file, within the size limit).
    """
    digest = hashlib.sha256()
    for chunk in read_chunks(path, "data file", DATA_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def _read_csv(name: str, text: str) -> tuple[tuple[str, ...], list[dict], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
        seen: set[str] = set()
        for h in header:
            if not h:
                raise MapError([Problem(name, 1, 1, "the header row has an empty column name")])
            if h in seen:
                raise MapError([Problem(name, 1, 1, f"column '{h}' appears twice in the header")])
            seen.add(h)
        rows, lines = [], []
        for record in reader:
            line = reader.line_num
            if not "".join(record).strip():  # a blank line, or nothing but separators and spaces
                continue
            if len(record) != len(header):
                raise MapError([Problem(name, line, 1,
                                        f"{len(record)} fields, but the header has {len(header)}")])
            rows.append(dict(zip(header, record, strict=True)))
            lines.append(line)
    except csv.Error as exc:
        raise MapError([Problem(name, reader.line_num or 1, 1, f"CSV error: {exc}")]) from None
    return tuple(header), rows, lines


def _read_jsonl(name: str, text: str) -> tuple[tuple[str, ...], list[dict], list[int]]:
    columns: dict[str, None] = {}  # insertion-ordered set
    rows, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            whole = _whole_document(text) if not rows else None
            raise MapError([Problem(name, number, exc.colno, whole or f"invalid JSON: {exc.msg}")]) from None
        except RecursionError:  # bounded by nesting_problem; a raised limit may still reach this
            raise MapError([Problem(name, number, 1, "the line nests too deeply to read")]) from None
        if not isinstance(row, dict):
            whole = _whole_document(text) if not rows and isinstance(row, list) else None
            raise MapError([Problem(name, number, 1, whole or "each line must be a JSON object")])
        columns.update(dict.fromkeys(str(k) for k in row))
        rows.append(row)
        lines.append(number)
    return tuple(columns), rows, lines
