"""capgraph: capability maps that predict the scale at which composite abilities emerge.

>>> import capgraph
>>> m = capgraph.loads("skills: {step: {curve: {logistic: {midpoint: 1e10, slope: 2}}, threshold: 0.5}}")
>>> f"{m.predict()[0].crossing.params:.3g}"
'1e+10'
"""

from capgraph.errors import MapError, Problem
from capgraph.model import CapabilityMap, Snapshot, load, loads
from capgraph.predict import Prediction
from capgraph.scale import ScalePoint

__all__ = [
    "CapabilityMap",
    "MapError",
    "Prediction",
    "Problem",
    "ScalePoint",
    "Snapshot",
    "load",
    "loads",
]
__version__ = "0.1.0"
