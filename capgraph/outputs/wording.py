"""The words capgraph uses for its results, in one place: crossings, scales, intervals, dates, nodes.

The terminal tables, the graph labels, the plots and the report all say things through these
functions, so that what a node is and where it crosses read the same everywhere. Nothing here
computes a result: each function turns numbers the library returned into text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from capgraph.core.units import human
from capgraph.kernels.curves import FAMILIES
from capgraph.kernels.lenses import LENSES
from capgraph.kernels.rules import RULES

if TYPE_CHECKING:  # the façade pulls in the engine; wording only reads what it returns
    from capgraph.engine.predict import Prediction
    from capgraph.model.capmap import CapabilityMap

#: The dash a table cell shows where there is nothing to say.
NONE = "–"


# --- numbers and scales ------------------------------------------------------------------------------


def number(value: float | None, unit: str, digits: int = 3) -> str:
    """A scale in ``unit`` as a bare number: ``79.1B`` for counts, ``5.88e+23`` for FLOPs with
    ``digits`` significant digits (counts always keep three: their suffix makes them short).

    >>> number(7.912e10, "params"), number(5.876e23, "flops"), number(5.876e23, "flops", 2)
    ('79.1B', '5.88e+23', '5.9e+23')
    """
    if value is None:
        return NONE
    return f"{value:.{digits}g}" if unit == "flops" else human(value)


def unit_name(unit: str) -> str:
    """How a unit is written after a number: ``params``, ``tokens``, ``FLOPs``, ``loss``."""
    return "FLOPs" if unit == "flops" else unit


def scale_text(cmap: CapabilityMap, log_axis: float, unit: str | None = None, digits: int = 3,
               with_unit: bool = True) -> str:
    """A scale on the map's grid axis (log10) written in ``unit`` (default: the axis) for people.

    >>> from capgraph import loads
    >>> m = loads("skills: {s: {curve: {logistic: {midpoint: 1e10, slope: 1}}}}")
    >>> scale_text(m, 10.0), scale_text(m, 10.0, "flops"), scale_text(m, 10.0, "flops", 2, False)
    ('10B params', '1.2e+22 FLOPs', '1.2e+22')
    """
    unit = unit or cmap.grid_axis
    value = 10.0 ** float(cmap.units.convert(log_axis, cmap.grid_axis, unit))
    text = number(value, unit, digits)
    return f"{text} {unit_name(unit)}" if with_unit else text


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``1 skill``, ``3 skills``, ``2 capabilities``.

    >>> counted(1, "skill"), counted(3, "skill"), counted(2, "capability", "capabilities")
    ('1 skill', '3 skills', '2 capabilities')
    """
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


# --- crossings ---------------------------------------------------------------------------------------


def at_most(status: str) -> str:
    """The prefix of a crossing scale in a table cell: ``≤ `` when the node is above from the start."""
    return "≤ " if status == "above_at_start" else ""


def never_text(max_value: float | None = None, threshold: float | None = None) -> str:
    """A crossing that never happens in the range, with the highest value reached when known.

    >>> never_text(0.4), never_text(), never_text(0.4, 0.5)
    ('never in range (max 0.4)', 'never in range', 'never reaches 0.5 in range (max 0.4)')
    """
    head = "never in range" if threshold is None else f"never reaches {threshold:g} in range"
    return head if max_value is None else f"{head} (max {max_value:.3g})"


def crossing_phrase(status: str, where: str, max_value: float | None = None, *,
                    threshold: float | None = None, data_limited: bool = False) -> str:
    """Where a node crosses its threshold, in words; ``where`` is the scale already written.

    >>> crossing_phrase("crosses", "10B params")
    'crosses at 10B params'
    >>> crossing_phrase("above_at_start", "100M params", threshold=0.5)
    'above 0.5 from the start (≤ 100M params)'
    >>> crossing_phrase("never", "", 0.4)
    'never in range (max 0.4)'
    """
    t = "" if threshold is None else f" {threshold:g}"
    if status == "never":
        return never_text(max_value, threshold)
    if status == "above_at_start":
        return f"above{t} from the start (≤ {where})"
    return f"crosses{t} at {where}" + (" · data-limited" if data_limited else "")


def crossing_log(cmap: CapabilityMap, p: Prediction) -> float:
    """log10 of a prediction's crossing on the map's grid axis (it must have one)."""
    import math

    assert p.crossing is not None
    return math.log10(getattr(p.crossing, cmap.grid_axis))


def crossing_text(cmap: CapabilityMap, p: Prediction, unit: str | None = None, *, digits: int = 3,
                  with_unit: bool = True, threshold: bool = False) -> str:
    """Where a prediction crosses, in ``unit`` (default: the map's axis), for a label or a cell."""
    where = "" if p.crossing is None else scale_text(cmap, crossing_log(cmap, p), unit, digits, with_unit)
    if p.crossing is not None and p.uncertain:  # the median, then its 90% interval
        where += " " + interval_ends(p, unit or cmap.grid_axis, digits)
    text = crossing_phrase(p.status, where, p.max_value, data_limited=p.data_limited,
                           threshold=p.threshold if threshold else None)
    return text + chance_never(p)


def interval_ends(p: Prediction, unit: str, digits: int = 3) -> str:
    """``[p5–p95]`` of a crossing in ``unit``; a percentile beyond the range reads ``never``."""
    q = p.quantiles or {}

    def one(key: str) -> str:
        return "never" if q.get(key) is None else number(getattr(q[key], unit), unit, digits)

    return f"[{one('p5')}–{one('p95')}]"


def crossing_interval(p: Prediction, unit: str) -> str:
    """A table cell: the median crossing in ``unit`` with its 90% interval, one number when the
    crossing has no spread (``≤`` when above from the start); empty without quantiles."""
    q = p.quantiles
    if not q:
        return ""
    digits = 2 if p.uncertain else 3
    mid = "never" if q["p50"] is None else number(getattr(q["p50"], unit), unit, digits)
    text = at_most(p.status) + mid
    return f"{text} {interval_ends(p, unit, digits)}" if p.uncertain else text


def chance_never(p: Prediction) -> str:
    """`` · never in 12% of draws`` when some draws of a ranged map never cross, else nothing.

    A crossing whose median never happens says ``never in range`` already.
    """
    if p.status == "never" or not p.uncertain or p.p_never < 0.005:  # would read "0%"
        return ""
    return f" · never in {p.p_never:.0%} of draws"


# --- intervals and dates -----------------------------------------------------------------------------


def interval_text(mid: str, lo: str, hi: str) -> str:
    """A central value with its 90% interval: ``median [p5–p95]``.

    >>> interval_text("10B", "3B", "30B")
    '10B [3B–30B]'
    """
    return f"{mid} [{lo}–{hi}]"


def quantiles_text(quantiles: dict[str, Any] | None, unit: str, digits: int = 2) -> str:
    """A crossing's Monte Carlo quantiles (``p5``, ``p50``, ``p95`` scale points) in ``unit``."""
    if not quantiles:
        return ""
    q = {k: number(getattr(v, unit), unit, digits) for k, v in quantiles.items()}
    return interval_text(q["p50"], q["p5"], q["p95"])


def value_interval(q: dict[str, float]) -> str:
    """A value's median and 90% interval from its quantiles.

    >>> value_interval({"p5": 0.1, "p50": 0.25, "p95": 0.5})
    '0.250 [0.100–0.500]'
    """
    return interval_text(f"{q['p50']:.3f}", f"{q['p5']:.3f}", f"{q['p95']:.3f}")


def range_text(lo: str, hi: str) -> str:
    """A parameter range as a map writes it: ``3B to 30B``."""
    return f"{lo} to {hi}"


def data_words(name: str, n: int) -> str:
    """The legend entry of the observations behind a curve: ``lookup: 19 data points``."""
    return f"{name}: {counted(n, 'data point')}"


def data_end_words(names: list[str], end: str) -> str:
    """The legend entry of the line where the data behind ``names`` ends."""
    return f"data ends at {end} ({', '.join(names)})"


def date_text(date: str | None) -> str:
    """A crossing date (ISO) for a table, or the dash when there is none."""
    return date or NONE


def dates_text(p: Prediction, outlook: dict[str, Any]) -> str:
    """The crossing's date, with the dates of its 90% interval when it has a spread;
    ``outlook`` is :meth:`~capgraph.model.capmap.CapabilityMap.outlook` of ``p``."""
    dates = outlook.get("dates")
    if not p.uncertain or not dates:
        return date_text(outlook["date"])
    ends = [dates[k] or ("never" if p.quantiles[k] is None else "beyond data") for k in ("p5", "p95")]
    return f"{date_text(outlook['date'])} [{ends[0]}–{ends[1]}]"


def data_check_text(p: Prediction, check: Any) -> tuple[str, str]:
    """A crossing against the data limit in words, and how serious it is (``ok``, ``warn``,
    ``bad`` or ``none``); ``check`` is :meth:`~capgraph.model.capmap.CapabilityMap.data_limit_check`.

    A ranged map's draws may disagree: then the share of draws that need more tokens than exist.
    """
    share = p.p_data_limited
    if share is not None and 0.0 < share < 1.0:
        return f"{share:.0%} of draws exceed", "warn"
    if check is None:
        return ("exceeds", "bad") if share == 1.0 else (NONE, "none")
    if not check.exceeds:
        return "fits", "ok"
    if check.reachable is None:
        return f"needs {human(check.needed_tokens)}; unknown beyond (no loss law)", "bad"
    if check.reachable:
        return (f"needs {human(check.needed_tokens)}; a {human(check.min_params)} model on the limit: "
                f"{check.min_flops:.3g} FLOPs", "warn")
    return f"needs {human(check.needed_tokens)}; unreachable on the data", "bad"


def comparison_lines(cell: dict[str, Any] | None) -> tuple[list[str], str]:
    """One scenario's cell of ``compare`` as lines (FLOPs median, its interval, date, data-limited)
    and what it says: ``none`` (no threshold or never crosses), ``limited`` or ``crosses``."""
    if cell is None:
        return ["no threshold"], "none"
    if cell["status"] == "never":
        return [never_text()], "none"
    lines = [at_most(cell["status"]) + number(cell["crossing"]["flops"], "flops")]
    q = cell.get("quantiles")
    if q and q["p5"] != q["p95"]:  # a spread: the 90% interval under the median
        ends = ["never" if q[k] is None else f"{q[k]['flops']:.2g}" for k in ("p5", "p95")]
        lines.append(f"[{ends[0]}–{ends[1]}]")
    if cell["date"]:
        lines.append(cell["date"])
    if cell["data_limited"]:
        lines.append("data-limited")
    return lines, "limited" if cell["data_limited"] else "crosses"


# --- nodes -------------------------------------------------------------------------------------------

#: Curve parameters that are scales (written ``10B``), from the registry; the others are plain numbers.
_SCALE_PARAMS = {p.name for family in FAMILIES.values() for p in family.params if p.log}


def param_text(key: str, value: Any) -> str:
    """A curve parameter for people: ``10B``, ``1.5``, or a range ``3B to 30B``.

    >>> from capgraph.kernels.sampling import Interval
    >>> param_text("midpoint", 1e10), param_text("slope", 1.5), param_text("midpoint", Interval(3e9, 3e10))
    ('10B', '1.5', '3B to 30B')
    >>> param_text("slope", 1.204883), param_text("exponent", 0.412056), param_text("floor", 0.25)
    ('1.2', '0.412', '0.25')
    """
    # three significant digits, as scales are: a fitted slope of 1.204883 reads 1.2
    fmt = human if key in _SCALE_PARAMS else (lambda v: f"{float(f'{v:.3g}'):g}")
    if hasattr(value, "p5") and hasattr(value, "p95"):  # an Interval
        return range_text(fmt(value.p5), fmt(value.p95))
    return fmt(value)


def curve_parameters(node: Any, sep: str = "=") -> str:
    """A skill's curve parameters: ``midpoint=10B, slope=1.5`` (observed points: ``[10B, 0.2], …``)."""
    kind = node.curve.kind
    body = getattr(node.curve, kind)
    if FAMILIES[kind].batch == "table":  # observed points
        return ", ".join(f"[{human(q.x)}, {q.y:g}]" for q in body)
    return ", ".join(f"{k}{sep}{param_text(k, getattr(body, k))}" for k in FAMILIES[kind].names)


def has_parameters(node: Any) -> bool:
    """Whether a skill's curve has named parameters (not a table of observed points)."""
    return FAMILIES[node.curve.kind].batch != "table"


def curve_words(node: Any) -> str:
    """A skill's curve family, as its registry record words it: ``logistic``, ``power law``, ``12 points``."""
    kind = node.curve.kind
    return FAMILIES[kind].summary(getattr(node.curve, kind))


def rule_words(node: Any) -> str:
    """A capability's composition rule, as its registry record words it: ``all of``, ``8 of 10``."""
    rule = RULES[node.combine]
    return rule.summary(getattr(node, rule.param) if rule.param else None, sum(node.requires.values()))


def lens_words(metric: Any) -> str | None:
    """A metric lens other than identity: ``exact match L=10``, ``multiple choice n=4``, ``pass@5``."""
    if metric is None or metric.kind == "identity":
        return None
    lens = LENSES[metric.kind]
    return lens.summary(getattr(getattr(metric, metric.kind), lens.param or "", None))


def node_summary(cmap: CapabilityMap, name: str, *, detail: bool = False) -> str:
    """What a node is in one line: its curve or rule, then its lens; with ``detail``, the curve's
    parameters and the threshold too (``show``), without (the graph, the report) the short form.

    >>> from capgraph import loads
    >>> m = loads('''
    ... skills: {s: {curve: {power_law: {scale: 1e9, exponent: 0.3}}}}
    ... capabilities:
    ...   c: {requires: {s: 10}, combine: k_of_n, k: 8, metric: {pass_at: {k: 5}}, threshold: 0.5}
    ... ''')
    >>> node_summary(m, "s"), node_summary(m, "c")
    ('power law', '8 of 10 · pass@5')
    >>> node_summary(m, "s", detail=True), node_summary(m, "c", detail=True)
    ('power law(scale=1B, exponent=0.3)', '8 of 10 · pass@5 · threshold 0.5')
    """
    node = cmap.node(name)
    if name in cmap.spec.skills:
        text = curve_words(node)
        if detail and has_parameters(node):
            text += f"({curve_parameters(node)})"
    else:
        text = rule_words(node)
    parts = [text]
    lens = lens_words(node.metric)
    if lens:
        parts.append(lens)
    threshold = cmap.threshold(name)
    if detail and threshold is not None:
        parts.append(f"threshold {threshold:g}")
    return " · ".join(parts)


#: What ``predict`` says instead of an empty table.
NO_THRESHOLD = ("nothing to predict: no node has a threshold. Give a capability or skill one "
                "(threshold: 0.5), or the whole map (a top-level threshold: applies to every capability).")


def scenario_words(cmap: CapabilityMap) -> str:
    """``scenario NAME, efficiency ×e`` for a map taken under a scenario, else the empty string."""
    if not getattr(cmap, "scenario_name", None):
        return ""
    gain = f", efficiency ×{cmap.efficiency:g}" if cmap.efficiency != 1.0 else ""
    return f"scenario {cmap.scenario_name}{gain}"


def bootstrap_words(n_ok: int, n_failed: int = 0) -> str:
    """How many bootstrap refits an interval rests on, never more than succeeded.

    >>> bootstrap_words(1000), bootstrap_words(988, 12)
    ('1000 bootstrap refits', '988 bootstrap refits (12 of 1000 failed)')
    """
    text = f"{n_ok} bootstrap refits"
    return text + (f" ({n_failed} of {n_ok + n_failed} failed)" if n_failed else "")
