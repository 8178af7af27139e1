"""The :class:`CapabilityMap` façade: load a map, query it, compare its scenarios."""

from capgraph.model.capmap import DEFAULT_SAMPLES, DEFAULT_SEED, CapabilityMap, Snapshot, load, loads

__all__ = ["DEFAULT_SAMPLES", "DEFAULT_SEED", "CapabilityMap", "Snapshot", "load", "loads"]
