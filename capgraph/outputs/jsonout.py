"""JSON for scripts: the one writer every ``--json`` goes through, and the JSON of ``show``.

Keys are stable; the values come from the library's result objects (``to_json()``) and, for node
summaries, from :mod:`capgraph.outputs.wording`, the same words the tree and the graph use.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

from capgraph.core import jsonsafe

if TYPE_CHECKING:  # type names only: importing the façade would load the engine
    from capgraph.engine.predict import Prediction
    from capgraph.kernels.scale import ScalePoint
    from capgraph.model.capmap import CapabilityMap


_RAW_CONTROL = re.compile("[\x7f-\x9f\u2028\u2029]")


def emit_json(payload: Any) -> None:
    """Write ``payload`` as one line of JSON on stdout."""
    # One line: the C encoder only runs without indent, and maps of 100,000 nodes need it (jq formats).
    # never NaN or Infinity tokens (invalid JSON): non-finite numbers become null, listed with why
    _write(jsonsafe.dumps(payload, ensure_ascii=False))


def _write(text: str) -> None:
    # C1 controls and line separators are valid raw in JSON strings, but a terminal acts on them
    sys.stdout.write(_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
    sys.stdout.flush()


def emit_predictions(cmap: CapabilityMap, options: dict[str, Any], only: set[str] | None = None) -> None:
    """``capgraph predict --json``: exactly ``emit_json(cmap.predict_json(**options))`` with the
    capabilities not in ``only`` (when given) left out, written straight from the predictions.

    Building a dict a prediction and encoding it took 2.2 s of a 100,000-node map's 12; each
    prediction is written as text by :func:`prediction_text` instead (a point-estimate crossing's
    three quantiles are the crossing itself: encoded once). Anything that text cannot write the way
    ``json.dumps`` would (a non-finite number, an unexpected type) sends the whole answer through
    the general writer, so the output is the same either way (tests/test_jsonout.py holds it to that).
    """
    predictions = cmap.predict(**options)
    if only is not None:
        predictions = [p for p in predictions if p.name in only]
    try:
        items = [prediction_text(p, cmap.outlook(p)) for p in predictions]
        envelope = json.dumps(cmap.predict_envelope([], **options), ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError):
        emit_json(cmap.predict_envelope([{**p.to_json(), **cmap.outlook(p)} for p in predictions], **options))
        return
    # '"capabilities": []' can only be the key itself: inside a JSON string every quote is escaped
    _write(envelope.replace('"capabilities": []', f'"capabilities": [{", ".join(items)}]', 1))


_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes a str with
_float = float.__repr__  # what it writes a float (or a numpy float) with


def _value(v: Any) -> str:
    """One JSON value as ``json.dumps(v, ensure_ascii=False, allow_nan=False)`` writes it."""
    if type(v) is float:
        if v - v != 0.0:  # inf or nan: not for this writer
            raise ValueError(v)
        return _float(v)
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, str):
        return _string(v)
    return json.dumps(v, ensure_ascii=False, allow_nan=False)


def _point(q: ScalePoint | None) -> str:
    """``q.as_dict()`` (or None) as JSON."""
    if q is None:
        return "null"
    loss = "" if q.loss is None else f', "loss": {_value(q.loss)}'
    return f'{{"params": {_value(q.params)}, "tokens": {_value(q.tokens)}, "flops": {_value(q.flops)}{loss}}}'


def prediction_text(p: Prediction, outlook: dict[str, Any]) -> str:
    """``{**p.to_json(), **outlook}`` as JSON text, key for key as ``json.dumps`` writes it."""
    crossing = _point(p.crossing)
    quantiles = "null"
    if p.quantiles:
        seen = {id(p.crossing): crossing}  # a point estimate's quantiles are its crossing
        quantiles = "{" + ", ".join(
            f"{_string(k)}: {seen[id(q)] if id(q) in seen else seen.setdefault(id(q), _point(q))}"
            for k, q in p.quantiles.items()) + "}"
    v = _value
    text = (f'{{"name": {_string(p.name)}, "kind": {_string(p.kind)}, "threshold": {v(p.threshold)}, '
            f'"status": {_string(p.status)}, "crossing": {crossing}, "data_limited": {v(p.data_limited)}, '
            f'"value_at_start": {v(p.value_at_start)}, "value_at_end": {v(p.value_at_end)}, '
            f'"max_value": {v(p.max_value)}, "sharpness_decades": {v(p.sharpness_decades)}, '
            f'"bottleneck": {v(p.bottleneck)}, "quantiles": {quantiles}, "p_never": {v(p.p_never)}, '
            f'"p_above_at_start": {v(p.p_above_at_start)}, "p_crossed_by": {v(p.p_crossed_by)}, '
            f'"p_data_limited": {v(p.p_data_limited)}, '
            f'"extrapolated": {v(list(p.extrapolated)) if p.extrapolated else "[]"}')
    if p.why_missing:
        text += f', "why_missing": {v(dict(p.why_missing))}'
    if p.at_medians is not None:
        a = p.at_medians
        text += (f', "at_medians": {{"status": {v(a.status)}, "crossing": {_point(a.crossing)}, '
                 f'"data_limited": {v(a.data_limited)}, "sharpness_decades": {v(a.sharpness_decades)}, '
                 f'"bottleneck": {v(a.bottleneck)}}}')
    for key, value in outlook.items():
        text += f", {_string(key)}: {v(value)}"
    return text + "}"


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
