"""Scenarios side by side: every node's crossing under the map as written and under each scenario."""

from __future__ import annotations

from typing import Any

from capgraph.format.scenarios import BASELINE


def compare(cmap, **options: Any) -> dict[str, Any]:
    """The crossing of every node with a threshold under every scenario, side by side.

    Rows follow the baseline's table order (nodes only a scenario gives a threshold come last);
    each cell holds the status, the crossing in every unit (for a map with ranges, the Monte Carlo
    median, as ``predict`` gives it, with its 90% interval and the chance it never crosses),
    whether it is data-limited, and its date. ``options`` (``samples``, ``seed``) go to ``predict``.
    """
    base = cmap.base
    names = base.scenario_names
    rows: dict[str, dict[str, Any]] = {}
    for name in names:
        m = base if name == BASELINE else base.scenario(name)
        for p in m.predict(**options):
            row = rows.setdefault(p.name, {"name": p.name, "kind": p.kind, "crossings": {}})
            extra = m.outlook(p)
            row["crossings"][name] = {
                "threshold": p.threshold,
                "status": p.status,
                "crossing": p.crossing.as_dict() if p.crossing else None,
                "data_limited": p.data_limited,
                "date": extra["date"],
                "quantiles": ({k: q.as_dict() if q else None for k, q in p.quantiles.items()}
                              if p.quantiles else None),
                "p_never": p.p_never,
                "dates": extra["dates"],
            }
    for row in rows.values():  # a node without a threshold in some scenario has no crossing there
        row["crossings"] = {n: row["crossings"].get(n) for n in names}
    scenarios = [{"name": BASELINE, "description": None, "efficiency": 1.0}]
    scenarios += [{"name": n, "description": s.description, "efficiency": s.efficiency}
                  for n, s in base.spec.scenarios.items()]
    return {"map": base.name, "scenarios": scenarios, "capabilities": list(rows.values())}
