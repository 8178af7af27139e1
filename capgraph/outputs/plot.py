"""Scaling-curve plots with matplotlib: value against scale, thresholds and crossings.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never through pyplot,
so nothing depends on a display or on global figure state. Saving fixes everything matplotlib
would otherwise vary between runs (the SVG id salt, dates, the software stamp), so the same map
and options give byte-identical files.

Two pictures:

- :func:`curves_figure`: nodes' values on a log axis in the map's unit, a second axis on top in
  FLOPs (in params when the map's axis is FLOPs), threshold lines, each crossing marked and
  labelled, and the region shaded where training would need more tokens than ``data_limit``.
  For a map with parameter ranges each curve is the median over the Monte Carlo draws of
  ``predict`` (seed and samples its defaults), shaded between the 5th and 95th percentile values,
  and marked at the median crossing, labelled with its 90% interval.
- :func:`lenses_figure`: one ability's success probability p scored three ways side by side
  (identity p, exact match p^L, multiple choice 1/n + (1 − 1/n)·p), the picture at the heart of
  the emergence debate (Schaeffer et al. 2023).
"""

from __future__ import annotations

import functools
import io
import math
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from capgraph.core.defaults import DEFAULT_SAMPLES, DEFAULT_SEED, LENS_LENGTH, LENS_OPTIONS
from capgraph.core.text import clip
from capgraph.core.units import human
from capgraph.engine.plan import evaluate
from capgraph.engine.predict import first_crossing, grid, sharpness
from capgraph.format.graph import depth as node_depth
from capgraph.kernels import lenses
from capgraph.model.capmap import CapabilityMap
from capgraph.outputs import colors
from capgraph.outputs.wording import crossing_phrase, crossing_text, data_end_words, data_words, scale_text
from capgraph.world.timeline import calendar_years

#: Formats :func:`save` writes, by file extension.
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}

#: At most this many curves are labelled in the legend and at their crossings; more are context.
MAX_LABELLED = 16

#: Defaults of the lenses picture: a 10-token exact-match answer, 4-option multiple choice.
DEFAULT_LENGTH = LENS_LENGTH
DEFAULT_OPTIONS = LENS_OPTIONS

_AXIS_TITLE = {"params": "parameters", "tokens": "training tokens", "flops": "training FLOPs"}
_RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.right": False,
    "svg.hashsalt": "capgraph",  # fixed ids in SVG output
    # text stays text: selectable and searchable; the reader's sans-serif stands in for DejaVu Sans
    "svg.fonttype": "none",
}


def _styled(build):
    """Run a figure builder under the house style (text properties are fixed at creation)."""

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_RC):
            return build(*args, **kwargs)

    return wrapper


def short_scale(cmap: CapabilityMap, log_axis: float, unit: str | None = None) -> str:
    """A compact scale label: ``79.1B`` for counts, ``1.2e+22`` for FLOPs."""
    return scale_text(cmap, log_axis, unit, digits=2, with_unit=False)


def _other_unit(cmap: CapabilityMap) -> str:
    return "params" if cmap.grid_axis == "flops" else "flops"


def _scale_positions(log_x):
    return 10.0 ** np.asarray(log_x, dtype=float)


def positions(cmap: CapabilityMap, against: str = "scale"):
    """Where grid-axis scales (log10) sit on the x axis: the scale itself, or with ``against``
    ``"date"`` the calendar year the map's timeline reaches that compute (ValueError without one).
    """
    if against == "scale":
        return _scale_positions
    if against != "date":
        raise ValueError(f"--against takes scale or date, got {against!r}")
    timeline = cmap.spec.timeline
    if timeline is None:
        raise ValueError("plotting against date needs the map's timeline (a timeline block: start, "
                         "flops, growth_per_year); without one, plot against scale")

    def years(log_x):
        log_flops = cmap.units.convert(np.asarray(log_x, dtype=float), cmap.grid_axis, "flops")
        return calendar_years(10.0 ** log_flops, timeline.start, timeline.flops, timeline.growth_per_year)

    return years


def _style_axis(ax, cmap: CapabilityMap, log_x: np.ndarray, secondary: bool = True,
                pos=_scale_positions) -> None:
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if pos is not _scale_positions:  # calendar years: the compute trend makes the axis linear in time
        ax.set_xlim(float(pos(log_x[0])), float(pos(log_x[-1])))
        ax.set_xlabel("year (the map's timeline: when the largest run reaches each compute)")
        return
    ax.set_xscale("log")
    ax.set_xlim(10.0 ** log_x[0], 10.0 ** log_x[-1])
    ax.set_xlabel(f"{_AXIS_TITLE[cmap.grid_axis]} ({cmap.grid_axis})")
    if secondary:
        other = _other_unit(cmap)

        def forward(x):
            with np.errstate(divide="ignore", invalid="ignore"):
                return 10.0 ** cmap.units.convert(np.log10(np.maximum(x, 1e-300)), cmap.grid_axis, other)

        def inverse(x):
            with np.errstate(divide="ignore", invalid="ignore"):
                return 10.0 ** cmap.units.convert(np.log10(np.maximum(x, 1e-300)), other, cmap.grid_axis)

        top = ax.secondary_xaxis("top", functions=(forward, inverse))
        top.set_xlabel(f"{_AXIS_TITLE[other]} ({other})", fontsize=9)


def _shade_data_limit(ax, cmap: CapabilityMap, log_x: np.ndarray, pos=_scale_positions) -> bool:
    """Shade the scales whose training needs more tokens than ``scale.data_limit``."""
    limit = cmap.spec.scale.data_limit
    if limit is None:
        return False
    log_limit = float(cmap.units.convert(math.log10(limit), "tokens", cmap.grid_axis))
    if log_limit >= log_x[-1]:
        return False
    start = max(log_limit, log_x[0])
    ax.axvspan(float(pos(start)), float(pos(log_x[-1])), facecolor="#bbbbbb", alpha=0.25, hatch="//",
               edgecolor="#999999", linewidth=0,
               label=f"data-limited: needs > {human(limit)} training tokens")
    return True


def _mark_at(ax, cmap: CapabilityMap, log_at: float | None, unit: str | None,
             pos=_scale_positions) -> None:
    if log_at is None:
        return
    ax.axvline(float(pos(log_at)), color="#000000", linestyle="-.", linewidth=1,
               label=f"at {scale_text(cmap, log_at, unit)}")


def _threshold_lines(ax, thresholds: list[float]) -> None:
    for tau in sorted(set(thresholds)):
        ax.axhline(tau, color="#555555", linestyle=":", linewidth=1)
        ax.annotate(f"threshold {tau:g}", xy=(1.0, tau), xycoords=("axes fraction", "data"),
                    xytext=(-4, 3), textcoords="offset points", ha="right", va="bottom",
                    fontsize=8, color="#555555")


_OFFSETS = [(7, -15), (7, 7), (-7, 7), (-7, -15), (7, -29), (7, 21), (-7, -29), (-7, 21),
            (7, -43), (7, 35), (-7, -43), (-7, 35)]


def _label_crossings(fig: Figure, ax, marks: list[tuple[float, float, str, str]]) -> None:
    """Label each crossing (x, y, text, colour) where its text overlaps no other label.

    Greedy: the first of a few offsets around the point whose box is clear of the labels placed
    so far and inside the axes; a label with no such place is left out (its dot and the legend
    still name the curve), so labels never overlap.
    """
    if not marks:
        return
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()  # run the layout engine so boxes are where they will be drawn
    frame = ax.get_window_extent(renderer)
    placed = []
    for x, y, text, color in sorted(marks):
        for dx, dy in _OFFSETS:
            label = ax.annotate(text, xy=(x, y), xytext=(dx, dy), textcoords="offset points",
                                ha="left" if dx > 0 else "right", va="bottom", fontsize=8,
                                color=color, fontweight="bold",
                                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                      "alpha": 0.85})
            label.set_in_layout(False)
            box = label.get_window_extent(renderer)
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                      and box.y1 <= frame.y1)
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()  # never two labels over each other: one that fits nowhere is left out


def _legend(fig: Figure, ax, entries: int) -> None:
    ncols = 1 if entries <= 16 else 2
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", ncols=ncols,
               frameon=False, handlelength=2.6)


def _wrap(text: str, width: int = 50) -> str:
    text = clip(text, 3 * width)  # a legend entry of a 10,000-character name would squash the axes
    return "\n".join(textwrap.wrap(text, width, break_long_words=True)) or text


def default_nodes(cmap: CapabilityMap) -> list[str]:
    """What ``capgraph plot`` draws without names: every node with a threshold, else every node."""
    with_threshold = [n for n in cmap.nodes if cmap.threshold(n) is not None]
    return with_threshold or list(cmap.nodes)


@_styled
def curves_figure(cmap: CapabilityMap, names: list[str] | None = None, at: float | str | None = None,
                  unit: str | None = None, data: bool = False, against: str = "scale", *,
                  samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> Figure:
    """Value against scale for ``names`` (default: :func:`default_nodes`) and, dashed, their
    children when names are given; ``at`` (in ``unit``) draws a vertical line there. With
    ``data``, the observations behind drawn fitted or ``points`` curves (:func:`show_data`).
    ``against="date"`` puts calendar years on the x axis (:func:`positions`). ``samples`` and
    ``seed``: the Monte Carlo of a map with ranges, as in ``predict``.

    With more than :data:`MAX_LABELLED` nodes, the most composite ones (deepest level, then
    earliest crossing) are labelled and the others drawn thin and grey.
    """
    for name in names or []:
        cmap.node(name)  # KeyError for an unknown name
    pos = positions(cmap, against)
    solid = list(dict.fromkeys(names)) if names else default_nodes(cmap)
    dashed = []
    if names:
        children = {c for n in solid for c in cmap.graph.predecessors(n)}
        dashed = sorted(children - set(solid))
    log_x = grid(*cmap.log_range)
    # as `predict` answers: for a map with ranges, the median curve (it crosses each threshold at
    # the median crossing) with the 5th and 95th percentile values around it
    bands = cmap.bands(log_x, solid + dashed, samples=samples, seed=seed)
    values = {n: b[1] for n, b in bands.items()}
    ranked = cmap.predict(samples=samples, seed=seed)
    predictions = {p.name: p for p in ranked}
    order = {p.name: i for i, p in enumerate(ranked)}
    solid.sort(key=lambda n: (order.get(n, len(order)), n))  # legend in crossing order
    # Past a dozen curves a legend and crossing labels stop being readable: label the most
    # composite nodes and draw the rest thin and grey, as context.
    context: list[str] = []
    if len(solid) > MAX_LABELLED:
        depths = node_depth(cmap.graph)
        keep = set(sorted(solid, key=lambda n: (-depths[n], order.get(n, len(order)), n))
                   [:MAX_LABELLED])
        context = [n for n in solid if n not in keep]
        solid = [n for n in solid if n in keep]
    dashed_context = len(dashed) > MAX_LABELLED
    labelled = solid + ([] if dashed_context else dashed)
    color = dict(zip(labelled, colors.line_colors(len(labelled)), strict=True))
    x = pos(log_x)

    fig = Figure(figsize=(10, 5.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _style_axis(ax, cmap, log_x, pos=pos)
    ax.set_ylabel("value")
    ax.set_title(clip(cmap.name, 100), loc="left", fontweight="bold")
    for i, name in enumerate(context):
        ax.plot(x, values[name], color="#aaaaaa", linewidth=0.7, alpha=0.6, zorder=1,
                label=f"{len(context)} other nodes with a threshold" if i == 0 else "_")
    for i, name in enumerate(dashed if dashed_context else []):
        ax.plot(x, values[name], color="#aaaaaa", linewidth=0.7, alpha=0.6, linestyle="--",
                zorder=1, label=f"{len(dashed)} inputs" if i == 0 else "_")
    marks = []
    shaded = False
    for name in solid:
        p = predictions.get(name)
        label = name
        if p is not None:
            label += f" ({crossing_text(cmap, p, digits=2, with_unit=False, threshold=True)})"
            if p.status == "crosses":
                log_c = math.log10(getattr(p.crossing, cmap.grid_axis))
                marks.append((float(pos(log_c)), p.threshold, short_scale(cmap, log_c), color[name]))
        ax.plot(x, values[name], color=color[name], linewidth=2, label=_wrap(label))
        lo, hi = bands[name][0], bands[name][2]
        if not np.array_equal(lo, hi):
            ax.fill_between(x, lo, hi, color=color[name], alpha=0.15, linewidth=0, zorder=0.5,
                            label="_" if shaded else "90% interval of the value (shaded)")
            shaded = True
    for name in [] if dashed_context else dashed:
        ax.plot(x, values[name], color=color[name], linewidth=1.4, linestyle="--",
                label=_wrap(f"{name} (input)"))
    for mx, my, _, c in marks:
        ax.plot([mx], [my], marker="o", markersize=6, color=c, markeredgecolor="black",
                markeredgewidth=0.8, linestyle="none")
    _threshold_lines(ax, [predictions[n].threshold for n in solid if n in predictions])
    _shade_data_limit(ax, cmap, log_x, pos)
    _mark_at(ax, cmap, None if at is None else cmap.log_axis(at, unit), unit, pos)
    if data:
        show_data(ax, cmap, labelled, color, pos)
    _legend(fig, ax, len(ax.get_legend_handles_labels()[1]))
    _label_crossings(fig, ax, marks)
    return fig


def show_data(ax, cmap: CapabilityMap, names: list[str], color: dict[str, str],
              pos=_scale_positions) -> None:
    """Scatter the observations behind each of ``names`` that has them (SVG group ``data-<name>``,
    one marker a point) and draw a dotted vertical line where the data ends (``data-end-<i>``,
    one line for curves whose data end together): past it the curve is an extrapolation.
    """
    ends: dict[float, list[str]] = {}
    for name in names:
        found = cmap.data_points(name)
        if found is None or len(found[0]) == 0:
            continue
        log_x = cmap.units.convert(np.log10(found[0]), cmap.axis, cmap.grid_axis)
        ax.plot(pos(log_x), found[1], marker="o", markersize=4, linestyle="none",
                color=color[name], markeredgecolor="black", markeredgewidth=0.4, alpha=0.8,
                zorder=3, gid=f"data-{name}", label=_wrap(data_words(name, len(log_x))))
        ends.setdefault(float(np.max(log_x)), []).append(name)
    for i, (end, which) in enumerate(sorted(ends.items())):
        ax.axvline(float(pos(end)), color="#333333", linestyle=":", linewidth=1.2, gid=f"data-end-{i}",
                   label=_wrap(data_end_words(which, short_scale(cmap, end))))


def underlying(cmap: CapabilityMap, name: str, log_x: np.ndarray) -> np.ndarray:
    """A node's success probability p before its own metric lens, at axis scales ``log_x``.

    For a node without a lens this is its value. The lenses picture scores this p three ways.
    """
    node = cmap.plan.index[name]
    return evaluate(cmap.plan, np.asarray(log_x, dtype=float), unscored=(node,))[node, 0]


def most_composite(cmap: CapabilityMap) -> str:
    """The deepest node (by name among equals): the default subject of the lenses picture."""
    depths = node_depth(cmap.graph)
    return min(cmap.nodes, key=lambda n: (-depths[n], n))


def lens_curves(p: np.ndarray, length: float = DEFAULT_LENGTH,
                options: int = DEFAULT_OPTIONS) -> dict[str, np.ndarray]:
    """p under the identity, exact-match (L = ``length``) and multiple-choice (n = ``options``) lenses.

    >>> {k: round(float(v[0]), 4) for k, v in lens_curves(np.array([0.9]), 10, 4).items()}
    {'identity': 0.9, 'exact_match': 0.3487, 'multiple_choice': 0.925}
    """
    return {
        "identity": lenses.apply("identity", p),
        "exact_match": lenses.apply("exact_match", p, length=length),
        "multiple_choice": lenses.apply("multiple_choice", p, options=options),
    }


def check_lens_options(length: float, options: int, names: list[str] | None = None) -> None:
    """The lenses picture draws one node, with an answer length L > 0 and n ≥ 2 options."""
    if names and len(names) > 1:
        raise ValueError("--lenses draws one node; name just one")
    if length <= 0:
        raise ValueError(f"--length must be greater than 0, got {length:g}")
    if options < 2:
        raise ValueError(f"--options must be at least 2, got {options}")


@_styled
def lenses_figure(cmap: CapabilityMap, name: str | None = None, length: float = DEFAULT_LENGTH,
                  options: int = DEFAULT_OPTIONS, at: float | str | None = None,
                  unit: str | None = None) -> Figure:
    """One ability's p scored three ways, side by side, each with its crossing and sharpness."""
    check_lens_options(length, options)
    name = name or most_composite(cmap)
    cmap.node(name)
    log_x = grid(*cmap.log_range)
    x = 10.0 ** log_x
    p = underlying(cmap, name, log_x)
    curves = lens_curves(p, length, options)
    threshold = cmap.threshold(name) or cmap.spec.threshold
    titles = {
        "identity": "identity: p",
        "exact_match": f"exact match, L = {length:g}: p^L",
        "multiple_choice": f"multiple choice, n = {options}: 1/n + (1 − 1/n)·p",
    }
    palette = dict(zip(curves, colors.OKABE_ITO, strict=False))
    log_at = None if at is None else cmap.log_axis(at, unit)

    fig = Figure(figsize=(13, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3, sharey=True)
    fig.suptitle(f"{clip(name, 60)}: one success probability p, three metrics  ({clip(cmap.name, 60)})",
                 fontweight="bold", x=0.01, ha="left")
    for ax, (kind, values) in zip(axes, curves.items(), strict=True):
        _style_axis(ax, cmap, log_x)
        ax.set_title(titles[kind], loc="left")
        if kind != "identity":
            ax.plot(x, curves["identity"], color="#999999", linewidth=1, linestyle="--",
                    label="p (identity)")
        ax.plot(x, values, color=palette[kind], linewidth=2.2, label=titles[kind].split(":")[0])
        ax.axhline(threshold, color="#555555", linestyle=":", linewidth=1)
        crossing = first_crossing(log_x, values[None, :], threshold)
        sharp = float(sharpness(log_x, values[None, :])[0])
        log_c = float(crossing.log_x[0])
        status = ("never" if math.isnan(log_c) else "above_at_start" if bool(crossing.at_start[0])
                  else "crosses")
        where = short_scale(cmap, log_x[0] if status == "above_at_start" else log_c)
        lines = [f"threshold {threshold:g}: "
                 + crossing_phrase(status, where, float(values.max()))]
        lines.append("10–90% rise: " + ("–" if math.isnan(sharp) else f"{sharp:.2f} decades"))
        if not math.isnan(log_c) and not bool(crossing.at_start[0]):
            ax.plot([10.0 ** log_c], [threshold], marker="o", markersize=7, color=palette[kind],
                    markeredgecolor="black", markeredgewidth=0.8, linestyle="none")
        ax.text(0.02, 0.97, "\n".join(lines), transform=ax.transAxes, va="top", ha="left",
                fontsize=9, bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#cccccc"})
        _shade_data_limit(ax, cmap, log_x)
        _mark_at(ax, cmap, log_at, unit)
    axes[0].set_ylabel("score")
    handles, labels = [], []
    for ax in axes:  # one legend for the figure, each entry once
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5), frameon=False)
    return fig


def save(fig: Figure, fmt: str) -> bytes:
    """The figure as ``fmt`` (svg, png or pdf) bytes, identical for identical figures."""
    metadata = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None},
                "pdf": {"CreationDate": None, "Producer": None, "Creator": None}}[fmt]
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=120, facecolor="white")
    return buffer.getvalue()


def plot(cmap: CapabilityMap, fmt: str = "svg", names: list[str] | None = None,
         show_lenses: bool = False, **options) -> bytes:
    """``capgraph plot``: the curves picture, or with ``show_lenses`` the lenses picture."""
    if show_lenses:
        check_lens_options(options.get("length", DEFAULT_LENGTH), options.get("options", DEFAULT_OPTIONS),
                           names)
        fig = lenses_figure(cmap, names[0] if names else None, **options)
    else:
        fig = curves_figure(cmap, names, **options)
    return save(fig, fmt)

