"""JSON for scripts: the one writer every ``--json`` goes through, and the JSON of ``show``.

Keys are stable; the values come from the library's result objects (``to_json()``) and, for node
summaries, from :mod:`capgraph.outputs.wording`, the same words the tree and the graph use.
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from capgraph.core import jsonsafe

if TYPE_CHECKING:  # type names only: importing the façade would load the engine
    from capgraph.engine.predict import PointColumns, Prediction
    from capgraph.kernels.scale import ScalePoint
    from capgraph.model.capmap import CapabilityMap


_RAW_CONTROL = re.compile("[\x7f-\x9f\u2028\u2029]")


def emit_json(payload: Any) -> None:
    """Write ``payload`` as one line of JSON on stdout."""
    # One line: the C encoder only runs without indent, and maps of 100,000 nodes need it (jq formats).
    # never NaN or Infinity tokens (invalid JSON): non-finite numbers become null, listed with why
    _write(jsonsafe.dumps(payload, ensure_ascii=False))


def _write(*pieces: str) -> None:
    """Write the text of ``pieces`` and a newline on stdout, piece by piece (no copy of the whole)."""
    for text in pieces:
        # C1 controls and line separators are valid raw in JSON strings, but a terminal acts on them
        if not text.isascii() or "\x7f" in text:  # isascii() is a flag of the string: free
            text = _RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        sys.stdout.write(text)
    sys.stdout.write("\n")
    sys.stdout.flush()


def emit_predictions(cmap: CapabilityMap, options: dict[str, Any], only: set[str] | None = None) -> None:
    """``capgraph predict --json``: exactly ``emit_json(cmap.predict_json(**options))`` with the
    capabilities not in ``only`` (when given) left out, written straight from the predictions.

    Building a dict a prediction and encoding it took 2.2 s of a 100,000-node map's 12; the
    predictions are written as text by :func:`predictions_text` instead. Anything that cannot be
    written there the way ``json.dumps`` would (a non-finite number, an unexpected type) sends the
    whole answer through the general writer, so the output is the same either way
    (tests/test_fastpaths.py holds it to that).
    """
    columns, outlook = cmap.point_columns(**options), cmap.shared_outlook()
    items = None if columns is None or outlook is None else columns_text(columns, outlook, only)
    predictions: list[Prediction] = []
    if items is None:
        predictions = columns.predictions() if columns is not None else cmap.predict(**options)
        if only is not None:
            predictions = [p for p in predictions if p.name in only]
    try:
        if items is None:
            items = predictions_text(predictions, cmap.outlook)
        envelope = json.dumps(cmap.predict_envelope([], **options), ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError):
        if columns is not None and not predictions:
            predictions = [p for p in columns.predictions() if only is None or p.name in only]
        emit_json(cmap.predict_envelope([{**p.to_json(), **cmap.outlook(p)} for p in predictions], **options))
        return
    # '"capabilities": []' can only be the key itself: inside a JSON string every quote is escaped
    head, tail = envelope.split('"capabilities": []', 1)
    _write(head, '"capabilities": [', ", ".join(items), "]", tail)


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
    """``q.as_dict()`` (or None) as JSON; a float that is not finite shows as nan or inf (see below)."""
    if q is None:
        return "null"
    loss = "" if q.loss is None else f', "loss": {_float(q.loss)}'
    return f'{{"params": {_float(q.params)}, "tokens": {_float(q.tokens)}, "flops": {_float(q.flops)}{loss}}}'


def predictions_text(predictions: list[Prediction], outlook: Callable[[Prediction], dict[str, Any]]
                     ) -> list[str]:
    """``{**p.to_json(), **outlook(p)}`` of each prediction as JSON text, key for key as
    ``json.dumps`` writes it, or ValueError or TypeError where it could not be the same.

    Floats are written with ``float.__repr__``, as ``json.dumps`` writes them; a value of another
    type where a float belongs raises TypeError. A float that is not finite comes out as ``nan``,
    ``inf`` or ``-inf``, which can only follow a key's colon where it is a number, since every
    float here is a value of an object: one search of the text finds them (a name that happens
    to hold such text only costs the general writer).
    """
    few: dict[float, str] = {}  # the text of values that recur (thresholds, 0 and 1): repr once
    texts = [_prediction(p, outlook(p), few) for p in predictions]
    for token in (": nan", ": inf", ": -inf"):
        if any(map(operator.contains, texts, itertools.repeat(token))):
            raise ValueError(f"a number is not finite ({token[2:]})")
    return texts


def _often(v: float, few: dict[float, str]) -> str:
    """``float.__repr__(v)``, remembered in ``few`` for floats (1 == 1.0 in a dict) other than zero
    (-0.0 == 0.0 too)."""
    return (few.get(v) or few.setdefault(v, _float(v))) if type(v) is float and v else _float(v)


def _prediction(p: Prediction, outlook: dict[str, Any], few: dict[float, str]) -> str:
    f, s, often = _float, _string, _often
    crossing = _point(p.crossing)
    sharp, neck, by, limited = p.sharpness_decades, p.bottleneck, p.p_crossed_by, p.p_data_limited
    end, top = p.value_at_end, p.max_value
    end_text = f(end)
    return (f'{{"name": {s(p.name)}, "kind": {s(p.kind)}, "threshold": {often(p.threshold, few)}, '
            f'"status": {s(p.status)}, "crossing": {crossing}, "data_limited": {_bool(p.data_limited)}, '
            f'"value_at_start": {f(p.value_at_start)}, "value_at_end": {end_text}, '
            f'"max_value": {end_text if top == end and top and type(top) is type(end) else f(top)}, '
            f'"sharpness_decades": {"null" if sharp is None else f(sharp)}, '
            f'"bottleneck": {"null" if neck is None else s(neck)}, "quantiles": {_quantiles(p, crossing)}, '
            f'"p_never": {often(p.p_never, few)}, "p_above_at_start": {often(p.p_above_at_start, few)}, '
            f'"p_crossed_by": {"null" if by is None else f(by)}, '
            f'"p_data_limited": {"null" if limited is None else f(limited)}, '
            f'"extrapolated": {_value(list(p.extrapolated)) if p.extrapolated else "[]"}'
            f'{_tail(p, outlook)}}}')


def columns_text(c: PointColumns, outlook: dict[str, Any], only: set[str] | None = None
                 ) -> list[str] | None:
    """The text :func:`predictions_text` gives for ``c.predictions()`` (those named in ``only``,
    when given), written from the columns: no record is made, and each column's numbers are
    written by one C-level ``map``. ``outlook`` is every prediction's (the map's shared outlook).

    None where the columns hold what this writer does not: points with a loss, or a number that
    is not finite (the records then go through :func:`predictions_text` or the general writer).
    """
    import numpy as np  # deferred: --help and the commands without a map do not load numpy (start-up)

    if c.points is not None or any(v is not None for v in outlook.values()):
        return None
    crossed = c.status != 2
    scales = [np.array(column, dtype=float) for column in c.scales]
    numbers = [c.thresholds, c.starts, c.ends, c.tops, *(column[crossed] for column in scales)]
    if not all(np.isfinite(column).all() for column in numbers):
        return None
    order = c.order()
    if only is not None:
        order = order[np.fromiter(map(only.__contains__, c.names), dtype=bool, count=len(c.names))[order]]
    rows = order.tolist()

    def pick(column: Any) -> list[Any]:
        return list(map(column.__getitem__, rows)) if isinstance(column, list) else column[order].tolist()

    status = c.status[order]
    units = (map(_float, column[order].tolist()) for column in scales)  # nan where none: then null
    crossing = list(map(_POINT.__mod__, zip(*units, strict=True)))
    for i in np.flatnonzero(status == 2).tolist():
        crossing[i] = "null"
    sharp = c.sharpness[order]
    flags = ("false", "true")
    chances = ("0.0", "1.0")
    limited = c.data_limited()[order].tolist()
    extrapolated = c.extrapolated
    ends = list(map(_float, pick(c.ends)))
    return list(map(_PREDICTION.__mod__, zip(
        map(_string, pick(c.names)), map(_string, pick(c.kinds)), map(_float, pick(c.thresholds)),
        map(_STATUS.__getitem__, status.tolist()), crossing, map(flags.__getitem__, limited),
        map(_float, pick(c.starts)), ends, _tops(c.tops[order], c.ends[order], ends),
        ["null" if s != s else _float(s) for s in sharp.tolist()],
        ["null" if n is None else _string(n) for n in pick(c.bottlenecks)],
        [f'{{"p5": {x}, "p50": {x}, "p95": {x}}}' if x != "null" else x for x in crossing],
        map(chances.__getitem__, (status == 2).tolist()), map(chances.__getitem__, (status == 0).tolist()),
        itertools.repeat("null") if c.by is None else map(chances.__getitem__, c.by[order].tolist()),
        itertools.repeat("null") if c.data_limit is None else map(chances.__getitem__, limited),
        [_value(list(extrapolated[i])) if i in extrapolated else "[]" for i in rows],
        itertools.repeat(_empty(tuple(outlook))))))


def _tops(tops: Any, ends: Any, end_texts: list[str]) -> list[str]:
    """The text of each curve's highest value: its value at the end's text where the two are the
    same float (most curves rise), written anew elsewhere (and at zero, which may be -0.0)."""
    texts = list(end_texts)
    for i in ((tops != ends) | (tops == 0)).nonzero()[0].tolist():
        texts[i] = _float(float(tops[i]))
    return texts


_PREDICTION = ('{"name": %s, "kind": %s, "threshold": %s, "status": %s, "crossing": %s, '
               '"data_limited": %s, "value_at_start": %s, "value_at_end": %s, "max_value": %s, '
               '"sharpness_decades": %s, "bottleneck": %s, "quantiles": %s, "p_never": %s, '
               '"p_above_at_start": %s, "p_crossed_by": %s, "p_data_limited": %s, "extrapolated": %s%s}')
_POINT = '{"params": %s, "tokens": %s, "flops": %s}'
_STATUS = ('"above_at_start"', '"crosses"', '"never"')


def _bool(v: Any) -> str:
    if v is True or v is False:
        return "true" if v else "false"
    raise TypeError(v)


def _quantiles(p: Prediction, crossing: str) -> str:
    """``quantiles`` of ``p.to_json()``; ``crossing`` is the text of ``p.crossing``."""
    q = p.quantiles
    if not q:
        return "null"
    c = p.crossing
    if tuple(q) == _QUANTILE_KEYS and q["p5"] is c and q["p50"] is c and q["p95"] is c:
        return f'{{"p5": {crossing}, "p50": {crossing}, "p95": {crossing}}}'  # a point estimate's
    return "{" + ", ".join(f"{_string(k)}: {_point(v)}" for k, v in q.items()) + "}"


_QUANTILE_KEYS = ("p5", "p50", "p95")


def _tail(p: Prediction, outlook: dict[str, Any]) -> str:
    """The keys after ``extrapolated``: ``why_missing`` and ``at_medians`` if present, then the outlook."""
    text = ""
    if p.why_missing:
        text += f', "why_missing": {_value(dict(p.why_missing))}'
    if p.at_medians is not None:
        a = p.at_medians
        text += (f', "at_medians": {{"status": {_value(a.status)}, "crossing": {_point(a.crossing)}, '
                 f'"data_limited": {_bool(a.data_limited)}, "sharpness_decades": '
                 f'{_value(a.sharpness_decades)}, "bottleneck": {_value(a.bottleneck)}}}')
    if list(outlook.values()).count(None) == len(outlook):  # all None
        return text + _empty(tuple(outlook))
    return text + "".join(f", {_string(k)}: {_value(v)}" for k, v in outlook.items())


@functools.cache
def _empty(keys: tuple[str, ...]) -> str:
    return "".join(f", {_string(k)}: null" for k in keys)


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
