"""The map as a picture: a Graphviz graph of the hierarchy, coloured by value at one scale.

:func:`to_dot` builds the DOT text with the ``graphviz`` package's :class:`graphviz.Digraph`, which
quotes every identifier and attribute, from sorted nodes and edges with no randomness, so the same
map and options always give the same bytes; :func:`render` lays it out with the Graphviz engine
bundled in the pygraphviz wheel (no system ``dot`` needed) and draws SVG, PNG or PDF. Skills sit on
the left and the most composite abilities on the right, one rank per level of
:func:`capgraph.format.graph.depth`.
Each node shows its name, its curve or rule and lens, its value at the chosen scale and, when it
has a threshold, where it crosses; its fill encodes the value on the viridis scale of the legend.
For a map with parameter ranges these are the Monte Carlo medians of ``predict``, each with its
90% interval (a node without spread shows one number).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import sys
import tempfile
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

import graphviz
import networkx as nx
import numpy as np

from capgraph.core.defaults import DEFAULT_SAMPLES, DEFAULT_SEED
from capgraph.core.interrupt import interruptible
from capgraph.core.text import clip
from capgraph.engine.predict import Prediction
from capgraph.format.graph import depth as node_depth
from capgraph.kernels.scale import AXES
from capgraph.model.capmap import CapabilityMap
from capgraph.outputs import colors
from capgraph.outputs.wording import (
    crossing_log,
    crossing_text,
    node_summary,
    scale_text,
    value_interval,
)

#: Output formats by file extension.
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}

#: The font used for layout and drawing: matched exactly by fontconfig wherever DejaVu is
#: installed (so text widths, hence the layout, do not depend on which other fonts exist), with a
#: generic fallback for browsers that lack it.
FONT = "DejaVu Sans,sans-serif"

_NAME_WIDTH = 26
# At its own crossing (the default scale) a node sits on its threshold up to the refinement error;
# count it as past, as the crossing scale is by definition where it is reached.
_AT_CROSSING = 1e-6
_TEXT_WIDTH = 34
_DESCRIPTION_LINES = 3


# --- which nodes, at which scale ---------------------------------------------------------------------


def neighbourhood(graph: nx.DiGraph, focus: str, steps: int) -> set[str]:
    """``focus`` and every node within ``steps`` edges of it, following edges up or down only.

    Up means towards the abilities that use a node, down towards what it requires; a sibling (up
    then down) is not included.

    >>> g = nx.DiGraph([("a", "ab"), ("b", "ab"), ("ab", "top"), ("c", "top")])
    >>> sorted(neighbourhood(g, "ab", 1))
    ['a', 'ab', 'b', 'top']
    """
    if focus not in graph:
        raise KeyError(focus)
    if steps < 0:
        raise ValueError(f"depth must be 0 or more, got {steps}")
    up = nx.single_source_shortest_path_length(graph, focus, cutoff=steps)
    down = nx.single_source_shortest_path_length(graph.reverse(copy=False), focus, cutoff=steps)
    return set(up) | set(down)


def default_at(cmap: CapabilityMap, names: Iterable[str] | None = None,
               predictions: list[Prediction] | None = None, *, samples: int = DEFAULT_SAMPLES,
               seed: int = DEFAULT_SEED) -> float:
    """The scale a picture shows by default (log10 on the map's axis).

    Where the most composite ability (deepest level; by name among equals) crosses its threshold,
    or the middle of the range when none at that level has a threshold it reaches.
    """
    names = list(cmap.nodes if names is None else names)
    predictions = cmap.predict(samples=samples, seed=seed) if predictions is None else predictions
    by_name = {p.name: p for p in predictions}
    depths = node_depth(cmap.graph)
    deepest = max(depths[n] for n in names)
    for name in sorted(n for n in names if depths[n] == deepest):
        p = by_name.get(name)
        if p is not None and p.status != "never":
            return crossing_log(cmap, p)
    lo, hi = cmap.log_range
    return (lo + hi) / 2


# --- what each node says -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeView:
    """Everything one drawn node shows; :func:`node_views` computes them, :func:`to_dot` draws."""

    name: str
    kind: str  # skill | capability
    level: int
    summary: str  # curve kind or rule, and lens
    description: str | None
    value: float  # the median over Monte Carlo draws for a map with ranges
    spread: tuple[float, float] | None  # 5th and 95th percentile value, None without a spread
    color: str
    threshold: float | None
    past: bool  # value ≥ threshold at the chosen scale
    crossing: str | None  # "crosses at …", "above from the start …", "never in range …"
    hidden_inputs: int  # children not drawn (with --focus)
    hidden_users: int  # parents not drawn


def node_views(cmap: CapabilityMap, names: Iterable[str], log_at: float,
               predictions: list[Prediction] | None = None, unit: str | None = None, *,
               samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> list[NodeView]:
    """The drawn nodes with what they show at ``log_at`` (log10 on the map's axis), by name.

    Values and crossings are those of ``predict``: for a map with ranges the Monte Carlo medians
    (with their 90% intervals), so the picture and the table give one answer.
    """
    names = sorted(names)
    drawn = set(names)
    predictions = cmap.predict(samples=samples, seed=seed) if predictions is None else predictions
    by_name = {p.name: p for p in predictions}
    bands = cmap.bands(np.array([log_at]), names, samples=samples, seed=seed)
    depths = node_depth(cmap.graph)
    out = []
    for name in names:
        lo, value, hi = (float(v) for v in bands[name][:, 0])
        threshold = cmap.threshold(name)
        p = by_name.get(name)
        out.append(NodeView(
            name=name, kind=cmap.graph.nodes[name]["kind"], level=depths[name],
            summary=node_summary(cmap, name), description=cmap.node(name).description,
            value=value, spread=(lo, hi) if lo != hi else None, color=colors.value_color(value),
            threshold=threshold,
            past=threshold is not None and value >= threshold - _AT_CROSSING,
            crossing=crossing_text(cmap, p, unit) if p is not None else None,
            hidden_inputs=sum(1 for c in cmap.graph.predecessors(name) if c not in drawn),
            hidden_users=sum(1 for c in cmap.graph.successors(name) if c not in drawn),
        ))
    return out


# --- DOT ---------------------------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def html_text(text: str) -> str:
    """Escape text for a Graphviz HTML-like label (newlines become line breaks).

    >>> html_text('a<b> & "c"')
    'a&lt;b&gt; &amp; &quot;c&quot;'
    """
    text = _CONTROL.sub("", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text.replace("\n", "<BR/>")


def dot_string(text: str) -> str:
    r"""Text for a DOT attribute whose value is exactly ``text``, for the ``graphviz`` package to
    quote: no control characters, backslashes and ``<...>`` literal, newlines as DOT's ``\n``.

    >>> from graphviz.quoting import quote
    >>> print(quote(dot_string('say "hi" \\ <b>')))
    "say \"hi\" \\ <b>"
    >>> print(quote(dot_string("<b>")))
    "<b>"
    """
    return graphviz.nohtml(graphviz.escape(_CONTROL.sub("", text)).replace("\n", "\\n"))


def wrap_name(name: str, width: int = _NAME_WIDTH) -> list[str]:
    """Break an identifier after ``_``, ``-``, ``.`` or spaces, hard-breaking longer pieces.

    >>> wrap_name("understand_the_whole_unfamiliar_codebase", 16)
    ['understand_the_', 'whole_', 'unfamiliar_', 'codebase']
    """
    pieces = [p for p in re.split(r"(?<=[_\-. ])", name) if p]
    lines: list[str] = []
    line = ""
    for piece in pieces:
        while len(piece) > width:  # no break point: cut
            if line:
                lines.append(line)
                line = ""
            lines.append(piece[:width])
            piece = piece[width:]
        if len(line) + len(piece) > width and line:
            lines.append(line)
            line = ""
        line += piece
    if line:
        lines.append(line)
    return [ln.strip() for ln in lines] or [""]


def wrap_text(text: str, width: int = _TEXT_WIDTH, max_lines: int | None = None) -> list[str]:
    """Word-wrap free text, ending with an ellipsis when cut at ``max_lines``."""
    lines = textwrap.wrap(" ".join(text.split()), width, break_long_words=True) or [""]
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


#: Longest texts drawn (the data keeps them whole): Graphviz refuses a DOT token over 16 KiB, and a
#: picture cannot show a 10,000-character name anyway.
_NAME_LINES = 6
_TOOLTIP = 2000
_TITLE = 200


def _cut_lines(lines: list[str], most: int = _NAME_LINES) -> list[str]:
    """At most ``most`` lines, the last ending in an ellipsis when some were cut."""
    if len(lines) <= most:
        return lines
    return [*lines[:most - 1], clip(lines[most - 1] + "…", len(lines[most - 1]))]


def _node_label(view: NodeView) -> str:
    small = '<FONT POINT-SIZE="10">{}</FONT>'
    rows = ["<B>" + "<BR/>".join(html_text(s) for s in _cut_lines(wrap_name(view.name))) + "</B>"]
    rows.append(small.format("<BR/>".join(html_text(s) for s in wrap_text(view.summary))))
    value = f"value {view.value:.3f}" if view.spread is None else \
        "value " + value_interval({"p5": view.spread[0], "p50": view.value, "p95": view.spread[1]})
    if view.threshold is not None:
        value += f" · threshold {view.threshold:g}"
    rows.append(html_text(value))
    if view.crossing is not None:
        mark = "✓ past threshold · " if view.past else ""
        rows.append(small.format(
            "<BR/>".join(html_text(s) for s in wrap_text(mark + view.crossing))))
    if view.description:
        lines = wrap_text(view.description, _TEXT_WIDTH + 4, _DESCRIPTION_LINES)
        rows.append('<FONT POINT-SIZE="9"><I>' + "<BR/>".join(html_text(s) for s in lines)
                    + "</I></FONT>")
    hidden = []
    if view.hidden_inputs:
        hidden.append(f"+{view.hidden_inputs} input{'s' * (view.hidden_inputs > 1)}")
    if view.hidden_users:
        hidden.append(f"+{view.hidden_users} user{'s' * (view.hidden_users > 1)}")
    if hidden:
        rows.append(small.format(html_text(", ".join(hidden) + " not shown")))
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="0">{cells}</TABLE>>'


def _legend(cmap: CapabilityMap, log_at: float, unit: str | None, focus: str | None,
            steps: int | None) -> str:
    cells = []
    for i in range(11):
        v = i / 10
        fill = colors.value_color(v)
        cells.append(f'<TD BGCOLOR="{fill}" WIDTH="30" HEIGHT="16">'
                     f'<FONT POINT-SIZE="9" COLOR="{colors.text_color(fill)}">{v:.1f}</FONT></TD>')
    units = [scale_text(cmap, log_at, u) for u in AXES]
    if unit:  # the unit asked for first
        units.sort(key=lambda s: not s.endswith(unit if unit != "flops" else "FLOPs"))
    where = "values at " + " · ".join(units)
    rows = [
        f'<TR><TD COLSPAN="11" ALIGN="LEFT"><FONT POINT-SIZE="16"><B>{html_text(clip(cmap.name, _TITLE))}</B>'
        "</FONT></TD></TR>",
        f'<TR><TD COLSPAN="11" ALIGN="LEFT">{html_text(where)}</TD></TR>',
    ]
    if focus is not None:
        note = html_text(f"only what lies within {steps} step(s) of {clip(focus, _TITLE)}; "
                         "dashed border: some neighbours not shown")
        rows.append(f'<TR><TD COLSPAN="11" ALIGN="LEFT">{note}</TD></TR>')
    rows.append("<TR>" + "".join(cells) + "</TR>")
    key = ("fill: value (viridis) · square corners: skill · rounded: capability · "
           "thick black border, ✓: past its threshold · ×n: count or weight")
    rows.append(f'<TR><TD COLSPAN="11" ALIGN="LEFT"><FONT POINT-SIZE="10">{html_text(key)}'
                "</FONT></TD></TR>")
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="2">' + "".join(rows) \
        + "</TABLE>>"


def to_dot(cmap: CapabilityMap, at: float | str | None = None, unit: str | None = None,
           focus: str | None = None, depth: int | None = None,
           predictions: list[Prediction] | None = None, only: set[str] | None = None, *,
           samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> str:
    """The map as DOT text.

    Parameters
    ----------
    at, unit
        The scale whose values colour the nodes, in ``unit`` (default: the map's axis); default:
        :func:`default_at` of the drawn nodes.
    focus, depth
        Draw only ``focus`` and the nodes within ``depth`` steps of it (default 1).
    predictions
        ``cmap.predict()``, when the caller has it already.
    only
        Draw only these nodes (``--select``); inputs left out show as dashed borders.
    samples, seed
        The Monte Carlo of a map with ranges, as in ``predict`` (``samples`` 0 or 1: the map at
        its medians).
    """
    predictions = cmap.predict(samples=samples, seed=seed) if predictions is None else predictions
    if focus is not None:
        steps = 1 if depth is None else depth
        names = neighbourhood(cmap.graph, focus, steps)
    else:
        steps = None
        names = set(cmap.graph)
    if only is not None:
        names &= only
    log_at = default_at(cmap, names, predictions) if at is None else cmap.log_axis(at, unit)
    views = node_views(cmap, names, log_at, predictions, unit, samples=samples, seed=seed)
    ids = {v.name: f"n{i}" for i, v in enumerate(views)}

    dot = graphviz.Digraph("capgraph")
    dot.graph_attr.update(rankdir="LR", ranksep="0.6", nodesep="0.25", fontname=FONT, labelloc="t",
                          labeljust="l", bgcolor="white", pad="0.2",
                          label=_legend(cmap, log_at, unit, focus, steps))
    dot.node_attr.update(shape="box", style="filled", fontname=FONT, fontsize="12", color="#444444",
                         penwidth="1", margin="0.12,0.06")
    dot.edge_attr.update(color="#555555", arrowsize="0.7", fontname=FONT, fontsize="11")
    for view in views:
        style = "filled" if view.kind == "skill" else "rounded,filled"
        if view.hidden_inputs or view.hidden_users:
            style += ",dashed"
        tip = view.name + (": " + view.description if view.description else "")
        past = {"color": "#000000", "penwidth": "3.5"} if view.past else {}
        # Graphviz refuses a token over 16 KiB: long texts are cut for drawing only
        dot.node(ids[view.name], label=_node_label(view), style=style, fillcolor=view.color,
                 fontcolor=colors.text_color(view.color), tooltip=dot_string(clip(tip, _TOOLTIP)),
                 **past)
    by_level: dict[int, list[str]] = {}
    for view in views:
        by_level.setdefault(view.level, []).append(ids[view.name])
    # One rank per level: rank=same groups a level, and an invisible chain of one point per level
    # keeps the levels in order (dot alone would pull a skill next to the only node that uses it).
    present = sorted(by_level)
    for level in present:
        with dot.subgraph() as rank:
            rank.attr(rank="same")
            rank.node(f"level{level}", shape="point", style="invis", width="0", height="0", label="")
            for node_id in by_level[level]:
                rank.node(node_id)
    for lower, upper in itertools.pairwise(present):
        dot.edge(f"level{lower}", f"level{upper}", style="invis")
    for child, parent in sorted(cmap.graph.subgraph(names).edges):
        weight = cmap.graph.edges[child, parent]["weight"]
        dot.edge(ids[child], ids[parent], **({"label": f"×{weight:g}"} if weight != 1 else {}))
    return dot.source


# --- drawing -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _graphviz_stderr():
    """Hold back what the bundled C libraries print on stderr, passing on all but known noise.

    The fontconfig inside the pygraphviz wheel is older than most systems' configuration and
    warns about elements it does not know; that says nothing about the map.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (e.g. captured): nothing to do
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            kept = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("Fontconfig")]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


_GENERATOR = re.compile(rb"<!-- Generated by graphviz version.*?-->\n", re.S)
_PDF_DATE = re.compile(rb"/CreationDate \(D:\d{14}([^)]*)\)")


def draw(dot: str, fmt: str) -> bytes:
    """Lay out DOT text with Graphviz's ``dot`` and draw it as ``fmt`` (svg, png, pdf or dot)."""
    if fmt == "dot":
        return dot.encode("utf-8")
    if fmt not in FORMATS.values():
        raise ValueError(f"unknown format {fmt!r}")
    with _graphviz_stderr():  # a forked child lays out: Ctrl-C must not wait for Graphviz
        data = interruptible(lambda: _layout(dot, fmt))
    # Nothing in the file may depend on when or with which Graphviz build it was drawn.
    if fmt == "svg":
        data = _GENERATOR.sub(b"", data)
    elif fmt == "pdf":  # cairo stamps the time; keep the length so the xref offsets stay right
        data = _PDF_DATE.sub(lambda m: b"/CreationDate (D:19700101000000" + m.group(1) + b")", data)
    return data


def _layout(dot: str, fmt: str) -> bytes:
    import pygraphviz

    graph = pygraphviz.AGraph(string=dot)
    if fmt == "png":
        graph.graph_attr["dpi"] = "110"
    return graph.draw(format=fmt, prog="dot")


def render(cmap: CapabilityMap, fmt: str = "svg", **options) -> bytes:
    """The map drawn as ``fmt``; ``options`` are those of :func:`to_dot`."""
    return draw(to_dot(cmap, **options), fmt)
