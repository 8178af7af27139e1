"""Limits on what capgraph reads and computes, far above real use, each with a way to raise it.

A hostile or mistaken input (a map nested 10,000 deep, ``/dev/zero`` given as a data file, a count of
a billion trials, ``--samples 1e20``) must end in one clear line, not a traceback, a hang or the OOM
killer. Every bound lives here, named, with the reason for its default; each can be raised by an
environment variable (``CAPGRAPH_MAX_FILE_BYTES=2G capgraph check big.yaml``). A refusal names the
limit, the amount asked for, and the variable that raises it (:meth:`Limit.refusal`).

Memory is bounded by estimate, before anything is allocated: :func:`memory_refusal` turns a count
of float64 values into a message when it would exceed :data:`MEMORY`.

>>> FILE_BYTES.value >= 32 * 2**20
True
>>> print(parse_size("1.5G"), parse_size("512M"), parse_size("1000"))
1610612736 536870912 1000
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([KMGT]?)(?:i?B)?\s*$", re.I)
_POWERS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int:
    """A count or a byte size as people write it: ``1000``, ``64M``, ``1.5G`` (powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size (write e.g. 1000, 512M or 2G)")
    return int(float(match.group(1)) * _POWERS[match.group(2).upper()])


def human_bytes(n: float) -> str:
    """``1.5 GiB``, ``64 MiB``, ``512 bytes``.

    >>> human_bytes(3 * 2**30 // 2), human_bytes(64 * 2**20), human_bytes(512)
    ('1.5 GiB', '64 MiB', '512 bytes')
    """
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


@dataclass(frozen=True)
class Limit:
    """One bound: its default, the environment variable that overrides it, and what it bounds."""

    env: str
    default: int
    #: What is counted, for messages: "file size", "nesting depth"...
    what: str
    #: Whether the value is a number of bytes (printed as MiB/GiB, parsed with K/M/G suffixes).
    in_bytes: bool = False
    #: A bound no override can pass (what the code can represent at all), or None.
    hard_max: int | None = None

    @property
    def value(self) -> int:
        """The bound in force: the environment variable when set to a valid size, else the default."""
        raw = os.environ.get(self.env)
        value = self.default
        if raw:
            try:
                value = max(1, parse_size(raw))
            except ValueError:
                pass  # a bad override must not make every command fail; the default still protects
        return value if self.hard_max is None else min(value, self.hard_max)

    def show(self, n: float) -> str:
        if self.in_bytes:
            return human_bytes(n)
        return f"{n:,.0f}" if math.isfinite(n) else str(n)

    def exceeded(self, n: float) -> bool:
        return n > self.value

    def refusal(self, n: float, subject: str | None = None) -> str:
        """``"<subject> is 3 GiB, over the limit of 256 MiB (raise it with CAPGRAPH_X=...)"``."""
        subject = subject or self.what
        return (f"{subject} is {self.show(n)}, over the limit of {self.show(self.value)} "
                f"({self.what}; raise it with the environment variable {self.env})")


#: A map file: the largest real maps (100,000 generated nodes) are about 15 MiB of JSON. A load
#: holds the text, PyYAML's node tree and the validated models at once (~1.4 GiB for 100,000
#: nodes of YAML), so twice that size keeps a load within the 4 GiB a laptop can spare.
FILE_BYTES = Limit("CAPGRAPH_MAX_FILE_BYTES", 32 * 2**20, "file size", in_bytes=True)
#: A results file behind `fit`, `backtest` or `fit:`: a million rows of a few columns is ~60 MiB.
DATA_BYTES = Limit("CAPGRAPH_MAX_DATA_BYTES", 256 * 2**20, "data file size", in_bytes=True)
#: Nesting of lists and mappings in a map or a JSON Lines row. Real maps nest about 8 deep;
#: parsers and validators recurse per level, so the bound also keeps them far from the stack's end.
NESTING = Limit("CAPGRAPH_MAX_NESTING", 100, "nesting depth")
#: Memory one computation may ask for (estimated before allocating): the Monte Carlo draws and
#: results, a k-of-n block's trials, bootstrap resamples. Beyond it a run would swap or be killed.
MEMORY = Limit("CAPGRAPH_MAX_MEMORY", 2 * 2**30, "memory", in_bytes=True)
#: Independent trials of one k_of_n capability (the sum of its counts). The engine's cost follows
#: the distinct children, not the trials, but counts are whole numbers held exactly (64-bit
#: integers, float64 sums): a trillion is far above real use, and 2^53 is the most any override gets.
TRIALS = Limit("CAPGRAPH_MAX_TRIALS", 10**12, "k_of_n trials", hard_max=2**53)


def memory_refusal(floats: float, subject: str) -> str | None:
    """A message when ``floats`` float64 values would exceed :data:`MEMORY`, else None.

    >>> memory_refusal(1e3, "x") is None
    True
    >>> memory_refusal(1e12, "--samples 1e12")[:40]
    '--samples 1e12 needs about 7.28 TiB, ove'
    """
    need = 8.0 * floats
    if need <= MEMORY.value:
        return None
    return (f"{subject} needs about {human_bytes(need)}, over the limit of {human_bytes(MEMORY.value)} "
            f"(memory; raise it with the environment variable {MEMORY.env})")
