"""An on-disk cache of fits, keyed by the data file's content and the fit's options.

A map whose curves come from data (``curve: {fit: ...}``) refits only when the data or the options
change, so it loads fast the second time. Entries are small JSON files written atomically
(:func:`capgraph.core.files.write_atomic`); an entry that cannot be read or does not have the
expected shape is ignored and recomputed, never trusted.

The folder is ``$CAPGRAPH_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/capgraph``, else
``~/.cache/capgraph``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from capgraph.core.files import write_atomic

#: Bump when the meaning of a cached entry changes; old entries then miss instead of misleading.
CACHE_FORMAT = 2


def cache_dir() -> Path:
    """Where fits are cached (see the module docstring for the order of the environment variables)."""
    explicit = os.environ.get("CAPGRAPH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "capgraph"


def cache_key(digest: str, options: dict[str, Any]) -> str:
    """sha256 over the data's digest, the options (canonical JSON) and the cache format."""
    blob = json.dumps({"data": digest, "options": options, "format": CACHE_FORMAT},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def read(key: str, folder: Path | None = None, *, quiet: bool = False) -> dict[str, Any] | None:
    """The cached entry, or None when absent or unreadable (a corrupt entry is a miss, with a note
    unless ``quiet``: a caller that goes on to :func:`cached` lets that one say it)."""
    path = (folder or cache_dir()) / f"{key}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        if not quiet:
            note(path, "not readable JSON")
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("value"), dict):
        if not quiet:
            note(path, "not a fit-cache entry for this key")
        return None
    return entry["value"]


def note(path: Path, why: str) -> None:
    """Say on stderr that a cache entry was ignored: the cache is untrusted input, and a refit costs."""
    sys.stderr.write(f"capgraph: note: ignored the fit-cache entry {path} ({why}); fitting again\n")


def write(key: str, value: dict[str, Any], folder: Path | None = None) -> bool:
    """Store an entry atomically; return False (and carry on) where the cache cannot be written."""
    folder = folder or cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / f"{key}.json", json.dumps({"key": key, "value": value}, sort_keys=True))
    except OSError:
        return False  # a read-only home must not stop a map from loading
    return True


def cached(key: str, compute: Callable[[], dict[str, Any]],
           valid: Callable[[dict[str, Any]], bool] = lambda _: True) -> tuple[dict[str, Any], bool]:
    """``(value, hit)``: the cached value for ``key`` if present and ``valid``, else computed and stored."""
    value = read(key)
    if value is not None:
        if valid(value):
            return value, True
        note(cache_dir() / f"{key}.json", "its values fail the checks a map's curve must pass")
    value = compute()
    write(key, value)
    return value, False
