"""Scale numbers as people write them: ``1e10``, ``"1e10"``, ``70M``, ``7B``, ``1.4T``.

PyYAML (YAML 1.1) reads ``1e10`` as a string and nobody writes 70,000,000,000 by hand, so every place
a scale goes accepts a number, a numeric string, or a count with a K/M/B/T suffix.
"""

from __future__ import annotations

import math
import re

SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([KMBTkmbt]?)\s*$")


def parse_number(value: object) -> float:
    """Read a finite number from a YAML/JSON value.

    >>> parse_number("7B"), parse_number("1e10"), parse_number(20)
    (7000000000.0, 10000000000.0, 20.0)
    """
    if type(value) is float and value - value == 0.0:  # the common case, fast: finite floats
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        match = _NUMBER.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a number (write e.g. 1e10, 7B or 1.4T)")
        number = float(match.group(1)) * SUFFIXES.get(match.group(2).upper(), 1.0)
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def parse_scale(value: object) -> float:
    """A scale: a number as above that is strictly positive."""
    number = parse_number(value)
    if number <= 0:
        raise ValueError(f"a scale must be positive, got {number:g}")
    return number


def human(x: float | None, digits: int = 3) -> str:
    """Format a scale for people: ``70B`` for counts below 1e15, ``5.88e+23`` above.

    >>> human(7e10), human(1.4e12), human(5.88e23)
    ('70B', '1.4T', '5.88e+23')
    """
    if x is None or not math.isfinite(x):
        return "–"
    x = float(f"{x:.{digits}g}")  # round first so 999.9B becomes 1T, not 1e+03B
    for suffix, size in reversed(SUFFIXES.items()):
        if size <= x < 1e15:
            return f"{x / size:.{digits}g}{suffix}"
    return f"{x:.{digits}g}"
