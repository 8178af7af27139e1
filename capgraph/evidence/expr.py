"""Derived columns: small arithmetic expressions over a table's columns, parsed safely.

``1 / lambada_openai_ppl``, ``exp(-loss)``, ``6 * params * tokens``: numbers, column names,
``+ - * / ^`` (``**`` too; ``×``, ``÷`` and ``−`` are read as their ASCII forms), unary minus,
parentheses and the functions ``exp``, ``log`` (natural), ``log10`` and ``sqrt``. The text is parsed
by Python's :mod:`ast` and every node is checked against a whitelist before anything is computed;
nothing is ever evaluated by Python itself, so ``__import__('os')``, ``params.real`` or
``[1][0]`` are refused with the column where they start, never run.

A row whose cells are missing or not numbers, or where the arithmetic has no finite answer (a
division by zero, the log of a negative number), gets no value: it is skipped and counted like any
row with a gap.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from capgraph.core.errors import MapError, Problem
from capgraph.core.suggest import did_you_mean
from capgraph.evidence.data import Table, to_float

#: Longest expression accepted, and deepest nesting: expressions are a line, not a program.
MAX_LENGTH = 500
MAX_DEPTH = 40

FUNCTIONS: dict[str, Callable[[float], float]] = {
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "sqrt": math.sqrt,
}

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a ** b,
}
_TYPOGRAPHIC = str.maketrans({"×": "*", "÷": "/", "−": "-", "·": "*"})

Node = Callable[[Mapping[str, float]], float]


class ExpressionError(ValueError):
    """An expression that cannot be read; ``col`` is the 1-based column where the trouble starts."""

    def __init__(self, message: str, col: int = 1) -> None:
        super().__init__(message)
        self.col = col


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, the columns it reads, and a function of a row of numbers."""

    text: str
    columns: tuple[str, ...]
    _run: Node

    def __call__(self, row: Mapping[str, float]) -> float | None:
        """The value for one row of numbers, or None where the arithmetic has no finite answer.

        >>> parse("1 / ppl")({"ppl": 4.0})
        0.25
        >>> parse("log(x)")({"x": -1.0}) is None
        True
        """
        try:
            value = float(self._run(row))
        except (ArithmeticError, ValueError):
            return None
        return value if math.isfinite(value) else None


def parse(text: str) -> Expression:
    """Parse ``text``; raise :class:`ExpressionError` for anything outside the small language.

    >>> e = parse("exp(-loss) ^ 2 + 1")
    >>> e.columns, round(e({"loss": 0.0}), 6)
    (('loss',), 2.0)
    >>> parse("params.real")
    Traceback (most recent call last):
    ...
    capgraph.evidence.expr.ExpressionError: 'params.real': attribute access is not allowed
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    # `^` means power, as people write it, with power's precedence (Python's `^` binds loosest)
    source = text.translate(_TYPOGRAPHIC).replace("^", "**")
    if not source.strip():
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not an arithmetic expression: {exc.msg}", max(1, exc.offset or 1)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression nested too deeply") from None
    offset = len(source) - len(source.lstrip())
    columns: dict[str, None] = {}
    run = _compile(tree.body, source.strip(), offset, columns, 0)
    return Expression(text, tuple(columns), run)


def _compile(node: ast.AST, text: str, offset: int, columns: dict[str, None], depth: int) -> Node:
    col = getattr(node, "col_offset", 0) + offset + 1
    if depth > MAX_DEPTH:
        raise ExpressionError(f"expression nested more than {MAX_DEPTH} deep", col)
    segment = ast.get_source_segment(text, node) or text
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        value = float(node.value)
        return lambda row: value
    if isinstance(node, ast.Name):
        name = node.id
        columns[name] = None
        return lambda row: row[name]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _compile(node.operand, text, offset, columns, depth + 1)
        if isinstance(node.op, ast.USub):
            return lambda row: -inner(row)
        return inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op = _BINARY[type(node.op)]
        left = _compile(node.left, text, offset, columns, depth + 1)
        right = _compile(node.right, text, offset, columns, depth + 1)
        return lambda row: op(left(row), right(row))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.get_source_segment(
                text, node.func) or "?"
            raise ExpressionError(f"'{called}' is not a function here; use "
                                  f"{', '.join(FUNCTIONS)}{did_you_mean(called, FUNCTIONS)}", col)
        if node.keywords or len(node.args) != 1:
            raise ExpressionError(f"{node.func.id}() takes exactly one argument", col)
        fn = FUNCTIONS[node.func.id]
        arg = _compile(node.args[0], text, offset, columns, depth + 1)
        return lambda row: fn(arg(row))
    if isinstance(node, ast.Attribute):
        raise ExpressionError(f"'{segment}': attribute access is not allowed", col)
    if isinstance(node, ast.Constant):
        raise ExpressionError(f"'{segment}': only numbers may be written in an expression", col)
    return _refuse(segment, col)


def _refuse(segment: str, col: int) -> Node:
    raise ExpressionError(f"'{segment}' is not allowed: an expression has numbers, columns, "
                          "+ - * / ^, parentheses and exp, log, log10, sqrt", col)


# --- over tables -----------------------------------------------------------------------------------


def derive(table: Table, text: str) -> tuple[Table, str]:
    """``(table, column)``: ``text`` as a column of ``table``, computed if it is an expression.

    A column whose name is exactly ``text`` is used as it is (so a CSV header such as
    ``FLOPs (1E21)`` still works); otherwise ``text`` is parsed and every column it names must
    exist. The derived column is named by the expression's text. Raises :class:`MapError` naming
    the file, for an expression that cannot be read or an unknown column.
    """
    if text in table.columns:
        return table, text
    try:
        expression = parse(text)
    except ExpressionError as exc:
        if text.isidentifier():  # a plain name that is not a column: say that, not a parse error
            table.require(text)
        raise MapError([Problem(table.path, 1, 1, f"expression '{text}', column {exc.col}: {exc}")]) from None
    table.require(*expression.columns)
    rows = []
    for row in table.rows:
        cells = {name: to_float(row.get(name)) for name in expression.columns}
        value = None if any(v is None for v in cells.values()) else expression(cells)
        rows.append({**row, text: value})
    return Table(table.path, (*table.columns, text), tuple(rows), table.lines, table.digest), text
