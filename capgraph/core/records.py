"""Results as flat records: one dict a row with stable keys, and a pandas DataFrame when pandas is there.

Every result object a notebook gets back (predictions, snapshots, comparisons, fits, harness rows)
has ``to_records()`` built on :func:`flatten`, and ``to_frame()`` built on :func:`to_frame`. Nested
JSON becomes ``parent_child`` keys (``crossing_params``, ``quantiles_p5_flops``), so
``pandas.DataFrame(records)`` gives plain columns instead of columns of dicts. pandas is an optional
extra (``pip install 'capgraph[pandas]'``); nothing else needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def flatten(value: Mapping[str, Any], prefix: str = "", sep: str = "_",
            parents: set[str] | None = None) -> dict[str, Any]:
    """A nested mapping as one flat dict: nested keys joined by ``sep``, lists kept as they are.

    ``parents``, when given, collects the names that held a nested mapping.

    >>> flatten({"name": "a", "crossing": {"params": 1e9, "flops": 1e21}, "quantiles": None})
    {'name': 'a', 'crossing_params': 1000000000.0, 'crossing_flops': 1e+21, 'quantiles': None}
    """
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(item, Mapping):
            if parents is not None:
                parents.add(name)
            out.update(flatten(item, name, sep, parents))
        else:
            out[name] = item
    return out


def records(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Flatten every item, then give every record the same keys, in first-seen order.

    A key one record has and another lacks becomes ``None`` where it is missing, and a ``None``
    that stands for a whole sub-object (a crossing that is ``None`` in one row and a dict in the
    next) gives way to that sub-object's flattened keys, so the columns are stable.

    >>> records([{"a": 1, "c": None}, {"a": 2, "c": {"x": 3}}])
    [{'a': 1, 'c_x': None}, {'a': 2, 'c_x': 3}]
    """
    parents: set[str] = set()
    flat = [flatten(item, parents=parents) for item in items]
    keys: dict[str, None] = {}
    for row in flat:
        keys.update(dict.fromkeys(row))
    order = [k for k in keys if k not in parents]
    return [{k: row.get(k) for k in order} for row in flat]


def to_frame(rows: list[dict[str, Any]]):
    """``rows`` as a :class:`pandas.DataFrame` (pandas is an optional extra, imported only here)."""
    try:
        import pandas as pd  # an optional extra: imported only when a frame is asked for
    except ImportError:
        raise ImportError("to_frame() needs pandas: pip install 'capgraph[pandas]' "
                          "(to_records() gives the same rows as plain dicts)") from None
    return pd.DataFrame.from_records(rows)


class RecordsMixin:
    """``to_frame()`` for any class that defines ``to_records()`` (flat dicts with stable keys)."""

    def to_frame(self):
        """:meth:`to_records` as a :class:`pandas.DataFrame` (needs the ``pandas`` extra)."""
        return to_frame(self.to_records())  # type: ignore[attr-defined]  # each subclass defines it
