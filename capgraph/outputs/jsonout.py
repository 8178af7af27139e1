"""JSON for scripts: the one writer every ``--json`` goes through, and the JSON of ``show``.

Keys are stable; the values come from the library's result objects (``to_json()``) and, for node
summaries, from :mod:`capgraph.outputs.wording`, the same words the tree and the graph use.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

from capgraph.core import jsonsafe

if TYPE_CHECKING:  # a type name only: importing the façade would load the engine
    from capgraph.model.capmap import CapabilityMap


_RAW_CONTROL = re.compile("[\x7f-\x9f\u2028\u2029]")


def emit_json(payload: Any) -> None:
    """Write ``payload`` as one line of JSON on stdout."""
    # One line: the C encoder only runs without indent, and maps of 100,000 nodes need it (jq formats).
    # never NaN or Infinity tokens (invalid JSON): non-finite numbers become null, listed with why
    text = jsonsafe.dumps(payload, ensure_ascii=False)
    # C1 controls and line separators are valid raw in JSON strings, but a terminal acts on them
    sys.stdout.write(_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
    sys.stdout.flush()


def hierarchy_json(cmap: CapabilityMap, only: set[str] | None = None) -> dict[str, Any]:
    """``capgraph show --json``: each node's kind, summary, threshold, description and inputs
    (of the nodes in ``only``, when given), levels then names."""
    from capgraph.outputs.wording import node_summary  # deferred: it loads the kernels (start-up)

    return {
        "map": cmap.name,
        "axis": cmap.axis,
        "nodes": [
            {"name": n, "kind": cmap.graph.nodes[n]["kind"], "summary": node_summary(cmap, n, detail=True),
             "threshold": cmap.threshold(n), "description": cmap.node(n).description,
             "requires": {c: cmap.graph.edges[c, n]["weight"] for c in sorted(cmap.graph.predecessors(n))}}
            for n in cmap.nodes if only is None or n in only
        ],
    }
