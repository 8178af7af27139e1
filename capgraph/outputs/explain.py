"""What ``capgraph explain`` shows: a table of drivers and a tornado chart.

Both lay out an :class:`~capgraph.engine.explain.Explanation`; nothing here computes a number.
The chart keeps its text as SVG text (``svg.fonttype: none``), so labels can be selected and
searched, and is saved deterministically by :func:`capgraph.outputs.plot.save`.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from capgraph.core.units import human
from capgraph.engine.explain import Explanation
from capgraph.model.capmap import CapabilityMap

#: The chart shows at most this many drivers (the most important); the table shows all.
MAX_BARS = 20


def headline(cmap: CapabilityMap, e: Explanation) -> str:
    """``task crosses at 230B params; bottleneck: step`` (or why there is no crossing)."""
    if e.crossing is None:
        where = "does not cross its threshold inside the range"
    else:
        value = getattr(e.crossing, cmap.grid_axis)
        where = f"crosses at {value:.2g} {cmap.grid_axis}" if cmap.grid_axis == "flops" \
            else f"crosses at {human(value)} {cmap.grid_axis}"
    neck = f"; bottleneck: {e.bottleneck}" if e.bottleneck else ""
    return f"{e.node} {where}{neck}"


def _number(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def explanation_table(cmap: CapabilityMap, e: Explanation) -> Group:
    """Each driver with its elasticity and (with ranges) its variance share, most important first,
    under a headline and above a note on what the columns mean."""
    shares = any(d.variance_share is not None for d in e.drivers)
    table = Table()
    table.add_column("node", overflow="fold")
    table.add_column("kind")
    table.add_column("elasticity", justify="right", no_wrap=True)
    if shares:
        table.add_column("variance share", justify="right", no_wrap=True)
    for d in e.drivers:
        kind = cmap.plan.kinds[cmap.plan.index[d.node]]
        cells = [d.node, kind, _number(d.elasticity)]
        if shares:
            cells.append("–" if d.variance_share is None else f"{d.variance_share:.0%}")
        table.add_row(*cells)
    note = ("elasticity: decades the crossing moves per decade the node's curve moves (the skills' "
            "sum to 1)" + ("; variance share: the part of the crossing's variance the node's "
                           "ranges explain on their own" if shares else ""))
    return Group(Text(headline(cmap, e)), table, Text(note, style="dim"))


def tornado_figure(cmap: CapabilityMap, e: Explanation):
    """A tornado chart: one bar a driver, elasticity (and variance share) in decreasing importance."""
    import matplotlib
    from matplotlib.figure import Figure

    drivers = e.drivers[:MAX_BARS]
    shares = any(d.variance_share is not None for d in drivers)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "capgraph",
                                "font.family": "DejaVu Sans", "font.size": 10}):
        panels = 2 if shares else 1
        fig = Figure(figsize=(4.2 * panels + 1.8, 0.9 + 0.32 * max(len(drivers), 1)),
                     layout="constrained")
        axes = fig.subplots(1, panels, sharey=True, squeeze=False)[0]
        names = [d.node for d in drivers][::-1]  # most important on top
        y = range(len(names))
        columns = [("elasticity (decades per decade)", [d.elasticity or 0.0 for d in drivers][::-1],
                    "#0072B2")]
        if shares:
            columns.append(("variance share", [d.variance_share or 0.0 for d in drivers][::-1],
                            "#E69F00"))
        for ax, (title, values, color) in zip(axes, columns, strict=True):
            ax.barh(list(y), values, color=color, height=0.6)
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_xlabel(title)
            ax.spines[["top", "right"]].set_visible(False)
            for yi, v in zip(y, values, strict=True):
                ax.annotate(f"{v:.2f}" if "elasticity" in title else f"{v:.0%}", (v, yi),
                            xytext=(3 if v >= 0 else -3, 0), textcoords="offset points",
                            ha="left" if v >= 0 else "right", va="center", fontsize=8)
            ax.margins(x=0.18)
        axes[0].set_yticks(list(y), names)
        fig.suptitle(headline(cmap, e), fontsize=11)
    return fig


def tornado(cmap: CapabilityMap, e: Explanation, fmt: str = "svg") -> bytes:
    """The tornado chart as ``fmt`` bytes (svg, png or pdf), identical for identical input."""
    from capgraph.outputs.plot import save

    return save(tornado_figure(cmap, e), fmt)
