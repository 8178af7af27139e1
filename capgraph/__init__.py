"""capgraph: capability maps that predict the scale at which composite abilities emerge.

>>> import capgraph
>>> m = capgraph.loads("skills: {step: {curve: {logistic: {midpoint: 1e10, slope: 2}}, threshold: 0.5}}")
>>> f"{m.predict()[0].crossing.params:.3g}"
'1e+10'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public names and the module that defines each. They load on first use, so that `capgraph --help`
# does not pay for numpy, scipy and pydantic (see bench/README.md, start-up).
_EXPORTS = {
    "CapabilityMap": "capgraph.model.capmap",
    "Snapshot": "capgraph.model.capmap",
    "load": "capgraph.model.capmap",
    "loads": "capgraph.model.capmap",
    "MapError": "capgraph.core.errors",
    "Problem": "capgraph.core.errors",
    "Prediction": "capgraph.engine.predict",
    "ScalePoint": "capgraph.kernels.scale",
    "read_results": "capgraph.evidence.harness",
}
__all__ = ["CapabilityMap", "MapError", "Prediction", "Problem", "ScalePoint", "Snapshot", "load", "loads",
           "read_results"]

if TYPE_CHECKING:
    from capgraph.core.errors import MapError, Problem
    from capgraph.engine.predict import Prediction
    from capgraph.evidence.harness import read_results
    from capgraph.kernels.scale import ScalePoint
    from capgraph.model.capmap import CapabilityMap, Snapshot, load, loads


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'capgraph' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
