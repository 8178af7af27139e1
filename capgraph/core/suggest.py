"""Did-you-mean hints for near-miss names, one wording everywhere."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, options: Iterable[str]) -> str | None:
    """The option nearest to ``name`` if it is close enough to be a typo, else None."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a near miss, else the empty string.

    >>> did_you_mean("reasonig", ["reasoning", "lookup"])
    " (did you mean 'reasoning'?)"
    """
    hint = closest(name, options)
    return f" (did you mean '{hint}'?)" if hint else ""
