"""A shareable report: one self-contained HTML page about a map.

The page carries everything inline (the graph and the curves as SVG, the styles in a ``<style>``
element, no scripts, no fonts, no links outside the page), so it opens the same with no network,
from an e-mail attachment or a shared drive. It holds the map's name and description, the graph
coloured at one scale, the scaling curves, the prediction table (for a map with ranges: medians
with 90% intervals, the chance of never crossing, dates and the data check, as ``predict`` gives
them), the scenarios side by side and every node's definition.
Nothing in it depends on the time or the machine, so the same map gives the same bytes.
"""

from __future__ import annotations

import html
import re

from capgraph import __version__
from capgraph.core.defaults import DEFAULT_SAMPLES, DEFAULT_SEED
from capgraph.core.units import human
from capgraph.engine.predict import Prediction
from capgraph.model.capmap import CapabilityMap
from capgraph.outputs.plot import curves_figure, save
from capgraph.outputs.render import default_at, draw, to_dot
from capgraph.outputs.wording import (
    NONE,
    at_most,
    comparison_lines,
    counted,
    crossing_interval,
    crossing_log,
    crossing_text,
    curve_parameters,
    data_check_text,
    dates_text,
    has_parameters,
    never_text,
    node_summary,
    number,
    scale_text,
)

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)  # XML declaration, DOCTYPE, comments before <svg
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0 auto; max-width: 1200px; padding: 1.5rem 2rem 3rem; color: #1a1a1a;
       line-height: 1.45; background: #fff; }
h1 { font-size: 1.8rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .2rem; }
.lead { font-size: 1.05rem; color: #333; max-width: 60rem; }
.meta { color: #555; font-size: .92rem; }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: .9rem; margin-top: .4rem; }
table { border-collapse: collapse; font-size: .92rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #e4e4e4; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.never { color: #777; }
.limited { color: #b00020; font-weight: 600; }
.warn { color: #8a5a00; }
dl.node { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dl.node dt { color: #555; }
dl.node dd { margin: 0; }
section.def { border-left: 3px solid #ddd; padding: .1rem 0 .4rem .9rem; margin: .8rem 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .92em; }
footer { margin-top: 3rem; color: #777; font-size: .85rem; }
"""


def inline_svg(svg: bytes | str) -> str:
    """An SVG file's text ready to sit inside HTML: no XML prologue, DOCTYPE or RDF metadata."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    return _METADATA.sub("", _PROLOGUE.sub("", text, count=1)).strip()


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(name: str) -> str:
    """An HTML id for a node, stable and unique for distinct names.

    >>> anchor("fix_bug"), anchor("a b/c")
    ('node-fix_bug', 'node-a-20b-2fc')
    """
    return "node-" + "".join(c if c.isalnum() or c == "_" else f"-{ord(c):x}" for c in name)


def _scale_cells(cmap: CapabilityMap, p: Prediction) -> list[str]:
    if p.status == "never":
        return [f'<td class="never" colspan="3">{_e(never_text(p.max_value))}</td>']
    c = p.crossing
    assert c is not None
    mark = " †" if p.extrapolated else ""

    def cell(unit: str) -> str:  # the median with its 90% interval, as the terminal writes it
        if p.quantiles:
            return crossing_interval(p, unit)
        return at_most(p.status) + number(getattr(c, unit), unit)

    tokens = cell("tokens")
    tokens_cell = (f'<td class="num limited" title="more training tokens than exist">{_e(tokens)} '
                   "data-limited</td>" if p.data_limited else f'<td class="num">{_e(tokens)}</td>')
    return [f'<td class="num">{_e(cell("params") + mark)}</td>', tokens_cell,
            f'<td class="num">{_e(cell("flops"))}</td>']


def predictions_html(cmap: CapabilityMap, predictions: list[Prediction]) -> str:
    """The prediction table (the numbers of ``capgraph predict``) as HTML: each crossing as a median
    with its 90% interval for a map with ranges, the chance it never crosses, its date (with the
    dates of the interval) and the data check when the map has a timeline or a data limit."""
    ranged = any(p.at_medians is not None for p in predictions)  # a Monte Carlo run
    timeline, limit = cmap.spec.timeline is not None, cmap.spec.scale.data_limit is not None
    extra_heads = (["never"] if ranged else []) + (["date"] if timeline else []) + \
        ([f"data (limit {human(cmap.spec.scale.data_limit)} tokens)"] if limit else [])
    head = ("<tr><th>node</th><th>threshold</th><th>params</th><th>tokens</th><th>FLOPs</th>"
            + "".join(f"<th>{_e(h)}</th>" for h in extra_heads)
            + "<th>sharpness (decades, 10–90%)</th><th>bottleneck</th></tr>")
    rows = []
    for p in predictions:
        sharp = NONE if p.sharpness_decades is None else f"{p.sharpness_decades:.2f}"
        bottleneck = (f'<a href="#{anchor(p.bottleneck)}">{_e(p.bottleneck)}</a>'
                      if p.bottleneck else "")
        extra = []
        if ranged:
            extra.append(f'<td class="num">{p.p_never:.0%}</td>')
        if timeline:
            extra.append(f'<td class="num">{_e(dates_text(p, cmap.outlook(p)))}</td>')
        if limit:
            text, level = data_check_text(p, cmap.data_limit_check(p))
            css = {"warn": ' class="warn"', "bad": ' class="limited"'}.get(level, "")
            extra.append(f"<td{css}>{_e(text)}</td>")
        rows.append(f'<tr><td><a href="#{anchor(p.name)}">{_e(p.name)}</a></td>'
                    f'<td class="num">{p.threshold:g}</td>{"".join(_scale_cells(cmap, p))}'
                    f'{"".join(extra)}<td class="num">{sharp}</td><td>{bottleneck}</td></tr>')
    beyond = sorted({name for p in predictions for name in p.extrapolated})
    note = (f'<p class="meta">† beyond the data behind {_e(", ".join(beyond))}: an extrapolation.</p>'
            if beyond else "")
    return f'<table id="predictions"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>{note}'


def scenarios_html(result: dict, only: set[str] | None = None) -> str:
    """``capgraph compare`` as HTML: one column a scenario, each crossing in FLOPs (median and 90%
    interval for a map with ranges), its date, whether it is data-limited; ``only``: just these nodes."""
    heads = "".join(f"<th>{_e(s['name'])}" + (f" (×{s['efficiency']:g})" if s["efficiency"] != 1 else "")
                    + "</th>" for s in result["scenarios"])
    rows = []
    for row in result["capabilities"]:
        if only is not None and row["name"] not in only:
            continue
        cells = []
        for s in result["scenarios"]:
            lines, says = comparison_lines(row["crossings"][s["name"]])
            css = {"limited": "num limited", "none": "never"}.get(says, "num")
            cells.append(f'<td class="{css}">{"<br>".join(_e(ln) for ln in lines)}</td>')
        name = f'<a href="#{anchor(row["name"])}">{_e(row["name"])}</a>'
        rows.append(f'<tr><td>{name}</td>{"".join(cells)}</tr>')
    return (f'<table id="scenarios"><thead><tr><th>node</th>{heads}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _definition(cmap: CapabilityMap, name: str, p: Prediction | None, value: float) -> str:
    node = cmap.node(name)
    kind = cmap.graph.nodes[name]["kind"]
    rows = [("kind", _e(kind)),
            ("rule" if kind == "capability" else "curve", _e(node_summary(cmap, name)))]
    if kind == "skill":
        rows.append(("parameters" if has_parameters(node) else node.curve.kind,
                     _e(curve_parameters(node, " = "))))
    else:
        parts = []
        for child in sorted(cmap.graph.predecessors(name)):
            weight = cmap.graph.edges[child, name]["weight"]
            count = "" if weight == 1 else f" ×{weight:g}"
            parts.append(f'<a href="#{anchor(child)}">{_e(child)}</a>{_e(count)}')
        rows.append(("requires", ", ".join(parts)))
    users = sorted(cmap.graph.successors(name))
    if users:
        rows.append(("used by", ", ".join(f'<a href="#{anchor(u)}">{_e(u)}</a>' for u in users)))
    threshold = cmap.threshold(name)
    if threshold is not None:
        rows.append(("threshold", f"{threshold:g}"))
    if p is not None:
        rows.append(("crossing", _e(crossing_text(cmap, p))))
    rows.append(("value in the graph", f"{value:.3f}"))
    items = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    description = f"<p>{_e(node.description)}</p>" if node.description else ""
    return (f'<section class="def" id="{anchor(name)}"><h3><code>{_e(name)}</code></h3>'
            f'{description}<dl class="node">{items}</dl></section>')


def allocation_text(cmap: CapabilityMap) -> str:
    """How the map splits compute between parameters and data, in words."""
    allocation = cmap.allocation_json()
    parts = []
    if "tokens_per_param" in allocation:
        parts.append(f"{allocation['tokens_per_param']:g} training tokens per parameter")
    if "loss_law" in allocation:
        law = allocation["loss_law"]
        kind = "loss" if parts else "compute-optimal under the loss"
        parts.append(f"{kind} law L = {law['E']:g} + {law['A']:g}/N^{law['alpha']:g} + "
                     f"{law['B']:g}/D^{law['beta']:g}")
    return "; ".join(parts)


def report(cmap: CapabilityMap, at: float | str | None = None, unit: str | None = None,
           only: set[str] | None = None, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> str:
    """The HTML page; ``at`` (in ``unit``) is the scale the graph is coloured at (default:
    :func:`capgraph.render.default_at`); ``only``: just these nodes (``--select``); ``samples``
    and ``seed``: the Monte Carlo of a map with ranges, as in ``predict``."""
    import numpy as np

    from capgraph.outputs.plot import default_nodes

    mc = {"samples": samples, "seed": seed}
    predictions = cmap.predict(**mc)  # as `capgraph predict`: Monte Carlo medians for a ranged map
    if only is not None:
        predictions = [p for p in predictions if p.name in only]
    log_at = (default_at(cmap, only, predictions) if at is None else cmap.log_axis(at, unit))
    dot = to_dot(cmap, at=at, unit=unit, predictions=predictions, only=only, **mc)
    graph_svg = inline_svg(draw(dot, "svg"))
    drawn = None if only is None else [n for n in default_nodes(cmap) if n in only] or sorted(only)
    curves_svg = inline_svg(save(curves_figure(cmap, drawn, **mc), "svg"))
    values = {n: v[1] for n, v in cmap.bands(np.array([log_at]), **mc).items()}  # median values
    by_name = {p.name: p for p in predictions}
    spec = cmap.spec.scale
    lo, hi = cmap.axis_bounds
    meta = [f"curves written against <b>{_e(cmap.axis)}</b>",
            f"range {_e(human(lo))} – {_e(human(hi))} {_e(cmap.axis)}",
            _e(allocation_text(cmap)),
            f"default threshold {cmap.spec.threshold:g}"]
    if spec.data_limit is not None:
        meta.append(f"data limit {_e(human(spec.data_limit))} tokens")
    n_skills, n_caps = len(cmap.spec.skills), len(cmap.spec.capabilities)
    counts = f"{counted(n_skills, 'skill')}, {counted(n_caps, 'capability', 'capabilities')}"
    where = " · ".join(scale_text(cmap, log_at, u) for u in ("params", "tokens", "flops"))
    crossing_nodes = [p for p in predictions if p.status != "never"]
    first = (f" The first to cross is <code>{_e(crossing_nodes[0].name)}</code> at "
             f"{_e(scale_text(cmap, crossing_log(cmap, crossing_nodes[0])))}." if crossing_nodes else "")
    definitions = "".join(_definition(cmap, n, by_name.get(n), float(values[n][0]))
                          for n in reversed(cmap.nodes) if only is None or n in only)
    description = f'<p class="lead">{_e(cmap.spec.description)}</p>' if cmap.spec.description else ""
    scenarios = ""
    if cmap.spec.scenarios:
        scenarios = ('<h2 id="scenarios">Scenarios</h2>\n<p>Each crossing in FLOPs under the map as '
                     "written and under each scenario.</p>\n" + scenarios_html(cmap.compare(**mc), only))
    ranged = ("For a map with parameter ranges each number is the median over "
              f"{samples:,} Monte Carlo draws (seed {seed}) with its 90% interval "
              "[5th–95th percentile], and <i>never</i> is the share of draws that never cross in "
              "the range." if any(p.at_medians is not None for p in predictions) else "")
    source = f" from <code>{_e(cmap.path)}</code>" if cmap.path else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="capgraph {_e(__version__)}">
<title>{_e(cmap.name)} · capgraph report</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_e(cmap.name)}</h1>
{description}
<p class="meta">{counts}; {" · ".join(meta)}.</p>
</header>
<main>
<h2 id="graph">The map</h2>
<figure id="graph-figure">
{graph_svg}
<figcaption>Skills on the left, the most composite abilities on the right, one column per level.
Fill: each node's value at {_e(where)}; a thick black border marks a node past its threshold
there. ×n on an edge is a count or weight other than 1.</figcaption>
</figure>
<h2 id="curves">Scaling curves</h2>
<figure id="curves-figure">
{curves_svg}
<figcaption>Value against scale for every node with a threshold; dots mark the crossings.</figcaption>
</figure>
<h2 id="prediction">Predictions</h2>
<p>Where each node with a threshold first reaches it, in all three units.{first} {ranged}</p>
{predictions_html(cmap, predictions)}
{scenarios}<h2 id="definitions">Definitions</h2>
<p>Every node, the most composite first.</p>
{definitions}
</main>
<footer>Made with capgraph {_e(__version__)}{source}.</footer>
</body>
</html>
"""
