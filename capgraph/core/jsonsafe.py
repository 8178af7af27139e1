"""JSON that is always valid: no ``NaN`` or ``Infinity`` tokens, which strict parsers (jq, browsers'
``JSON.parse``, most languages) refuse.

:func:`finite_json` replaces every non-finite number by ``null`` and lists where it did so, with
the reason, under the top-level key ``"non_finite"``; :func:`dumps` then encodes with
``allow_nan=False`` so that nothing non-finite can slip through unnoticed.
"""

from __future__ import annotations

import json
import math
from typing import Any

REASON = "not a finite number (an overflow or an undefined value); written as null"


def finite_json(payload: Any) -> Any:
    """``payload`` with non-finite floats as None; a dict payload gains ``non_finite`` if any were.

    >>> out = finite_json({"a": [1.0, float("inf")], "b": float("nan")})
    >>> out["a"], out["b"], out["non_finite"]["paths"]
    ([1.0, None], None, ['a[1]', 'b'])
    >>> finite_json({"a": 1.0})
    {'a': 1.0}
    """
    paths: list[str] = []
    out = _walk(payload, paths)
    if paths and isinstance(out, dict):
        out["non_finite"] = {"paths": paths, "reason": REASON}
    return out


def _walk(root: Any, paths: list[str]) -> Any:
    """A copy of ``root`` with non-finite floats replaced, built with an explicit stack (no recursion)."""
    if not _has_non_finite(root):
        return root  # the common case: nothing to copy
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, str]] = [(root, holder, 0, "")]
    while stack:
        value, parent, key, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            paths.append(path)
            parent[key] = None
        elif isinstance(value, dict):
            copy: dict[Any, Any] = dict(value)
            parent[key] = copy
            for k, v in value.items():
                stack.append((v, copy, k, f"{path}.{k}" if path else str(k)))
        elif isinstance(value, list | tuple):
            items = list(value)
            parent[key] = items
            for i, v in enumerate(items):
                stack.append((v, items, i, f"{path}[{i}]"))
        else:
            parent[key] = value
    paths.sort()
    return holder[0]


def _has_non_finite(root: Any) -> bool:
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return False


def dumps(payload: Any, **options: Any) -> str:
    """``json.dumps`` of ``payload``, never writing NaN or Infinity (see :func:`finite_json`).

    >>> dumps({"x": float("inf")}, sort_keys=True)[:30]
    '{"non_finite": {"paths": ["x"]'
    """
    try:  # the common case costs one encoding: walk the payload only when something is not finite
        return json.dumps(payload, allow_nan=False, **options)
    except ValueError:
        return json.dumps(finite_json(payload), allow_nan=False, **options)
