"""Terminal presentation: rich tables and trees for the results the library computes.

Nothing here computes a number; it only lays out what :mod:`capgraph.model.capmap` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from capgraph.core.units import human
from capgraph.outputs.columns import fit_table
from capgraph.outputs.wording import (
    NONE,
    at_most,
    comparison_lines,
    counted,
    crossing_interval,
    data_check_text,
    dates_text,
    never_text,
    node_summary,
    number,
    scenario_words,
    value_interval,
)

if TYPE_CHECKING:  # type names only: the terminal lays out what the façade returns
    from capgraph.engine.predict import Prediction
    from capgraph.model.capmap import CapabilityMap, Snapshot


def _sharp(p: Prediction) -> str:
    return NONE if p.sharpness_decades is None else f"{p.sharpness_decades:.2f}"


def _extrapolation_note(table: Table, predictions: list[Prediction]) -> None:
    """Mark crossings beyond the data of a fitted or points curve below them, with a caption."""
    beyond = sorted({name for p in predictions for name in p.extrapolated})
    if beyond:
        note = f"† beyond the data behind {', '.join(beyond)}: an extrapolation"
        table.caption = f"{table.caption}\n{note}" if table.caption else note  # after fit_table's note
        table.caption_justify = "left"


def _mark(p: Prediction) -> str:
    return " †" if p.extrapolated else ""


_TEXT_COLUMNS = ("node", "kind", "bottleneck", "")


def _table(title: str, headers: list[str]) -> Table:
    """A table with names folded on the left and numbers on the right."""
    table = Table(title=title, title_justify="left")
    for header in headers:
        text = header in _TEXT_COLUMNS
        # fold, never cut: a truncated number or flag is worse than a wrapped one
        table.add_column(header, justify="left" if text else "right", overflow="fold")
    return table


def _scenario(cmap: CapabilityMap) -> str:
    """`` under scenario NAME, efficiency ×e`` for a map taken under a scenario, else nothing."""
    words = scenario_words(cmap)
    return f" under {words}" if words else ""


def predictions_table(cmap: CapabilityMap, predictions: list[Prediction], by: str | None = None,
                      width: int | None = None) -> Table:
    """``predict``'s table; with ``width``, no wider than that (:func:`columns.fit_table`)."""
    if any(p.at_medians is not None for p in predictions):  # a Monte Carlo run
        return _uncertain_table(cmap, predictions, by, width)
    by_column = [] if by is None else [f"by {by}"]
    point = ", every range at its median" if cmap.uncertain else ""
    headers = ["node", "threshold", "params", "tokens", "FLOPs", "sharpness\n(decades)", *by_column,
               "bottleneck"]
    rows = []
    for p in predictions:
        if p.status == "never":
            cells = [Text(never_text(p.max_value), style="dim"), "", ""]
        else:
            c = p.crossing
            assert c is not None
            prefix = at_most(p.status)
            style = "bold red" if p.data_limited else ""
            cells = [Text(prefix + number(c.params, "params") + _mark(p)),
                     Text(prefix + number(c.tokens, "tokens") + (" data-limited" if p.data_limited else ""),
                          style=style),
                     Text(prefix + number(c.flops, "flops"))]
        crossed = [] if by is None else ["yes" if p.p_crossed_by else "no"]
        rows.append([p.name, f"{p.threshold:g}", *cells, _sharp(p), *crossed, p.bottleneck or ""])
    table = fit_table(f"{cmap.name}: threshold crossings ({cmap.axis} axis{point}){_scenario(cmap)}",
                      headers, rows, width,
                      drop=("tokens", "sharpness\n(decades)", "threshold", "bottleneck"))
    _extrapolation_note(table, predictions)
    return table


def _uncertain_table(cmap: CapabilityMap, predictions: list[Prediction], by: str | None,
                     width: int | None = None) -> Table:
    """Median crossing with its 90% interval in each unit, the sharpness, the share that never
    crosses, and the bottleneck; with ``width``, no wider than that."""
    by_column = [] if by is None else [f"by {by}"]
    headers = ["node", "threshold", "params", "tokens", "FLOPs", "sharpness\n(decades)", "never",
               *by_column, "bottleneck"]
    rows = []
    for p in predictions:
        params = (crossing_interval(p, "params") + _mark(p)) if p.crossing else Text("never", style="dim")
        row = [p.name, f"{p.threshold:g}", params, crossing_interval(p, "tokens"),
               crossing_interval(p, "flops"),
               _sharp(p), f"{p.p_never:.0%}"]
        if by is not None:
            row.append(f"{p.p_crossed_by:.0%}")
        rows.append([*row, p.bottleneck or ""])
    table = fit_table(f"{cmap.name}: threshold crossings, median [90% interval] ({cmap.axis} axis)"
                      f"{_scenario(cmap)}", headers, rows, width, two_line=("params", "tokens", "FLOPs"),
                      drop=("tokens", "sharpness\n(decades)", "threshold", "FLOPs", "bottleneck"))
    _extrapolation_note(table, predictions)
    return table


@contextmanager
def progress_reporter(console: Console, total: int, delay: float = 1.0,
                      label: str = "sampling") -> Iterator[Callable[[int], None]]:
    """A callback that advances a progress bar, shown only on a terminal and once work takes > delay s."""
    started = time.monotonic()
    state: dict[str, object] = {}
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if "bar" not in state and console.is_terminal and time.monotonic() - started > delay and total:
            # deferred: rich.progress is a tenth of predict's start-up, and most runs never show a bar
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            # redrawn as work advances, not by a thread of its own: a Monte Carlo pass may fork
            # (engine/workers), which is safe only while this process has no other thread
            bar = Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                           TimeRemainingColumn(), console=console, transient=True, auto_refresh=False)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task(label, total=total)
        if "bar" in state:
            state["bar"].update(state["task"], completed=done, refresh=True)

    try:
        yield advance
    finally:
        if "bar" in state:
            state["bar"].stop()


def snapshot_table(cmap: CapabilityMap, snap: Snapshot, width: int | None = None) -> Table:
    """``at``'s table, levels then names; with ``width``, no wider than that."""
    if snap.at_medians is not None:  # a Monte Carlo run
        return _uncertain_snapshot(cmap, snap, width)
    s = snap.scale
    rows = []
    for name in snap.values:  # levels, then names
        value, threshold = snap.values[name], cmap.threshold(name)
        mark = ""
        if threshold is not None:
            mark = "✓ above" if value >= threshold else "below"
        rows.append([name, cmap.graph.nodes[name]["kind"], f"{value:.4f}",
                     "" if threshold is None else f"{threshold:g}", mark])
    return fit_table(f"{cmap.name} at {_when(snap)}{_scale_point(s)}",
                     ["node", "kind", "value", "threshold", ""], rows, width, drop=("kind",))


def _when(snap: Snapshot) -> str:
    return f"{snap.date}: " if snap.date else ""


def _uncertain_snapshot(cmap: CapabilityMap, snap: Snapshot, width: int | None = None) -> Table:
    s = snap.scale
    rows = []
    for name in snap.values:  # levels, then names
        q, threshold = snap.quantiles[name], cmap.threshold(name)
        text = f"{snap.values[name]:.4f}" if q["p5"] == q["p95"] else value_interval(q)
        rows.append([name, cmap.graph.nodes[name]["kind"], text,
                     "" if threshold is None else f"{threshold:g}"])
    return fit_table(f"{cmap.name} at {_when(snap)}{_scale_point(s)}: median [90% interval]",
                     ["node", "kind", "value", "threshold"], rows, width, two_line=("value",),
                     drop=("kind", "threshold"))


def _scale_point(s) -> str:
    return (f"{number(s.params, 'params')} params, {number(s.tokens, 'tokens')} tokens, "
            f"{number(s.flops, 'flops')} FLOPs")


def describe(cmap: CapabilityMap, name: str) -> str:
    """One line: a skill's curve or a capability's rule, then its lens and threshold
    (:func:`capgraph.outputs.wording.node_summary` in detail)."""
    return node_summary(cmap, name, detail=True)


def hierarchy_tree(cmap: CapabilityMap, width: int | None = None,
                   only: set[str] | None = None) -> Tree:
    """The map as a tree from its most composite abilities down; shared nodes expand once.

    With ``only``, just those nodes: each drawn under the nearest selected node that requires it.

    Built with an explicit stack (a chain of 10,000 steps is 10,000 levels deep). Each level
    indents four columns, so at ``width`` columns the branches are cut where too little room
    is left to read a name, and the cut says how many levels it hides.
    """
    from capgraph.format.graph import depth, roots

    tree = Tree(Text(cmap.name, style="bold"))
    deepest = None if width is None else max(1, (width - _LABEL_ROOM) // _INDENT)
    levels = depth(cmap.graph) if deepest is not None else {}
    if only is None:
        tops = roots(cmap.graph)
    else:  # a selected node no selected node requires starts a tree of its own
        tops = [n for n in cmap.nodes[::-1] if n in only
                and not any(p in only for p in cmap.graph.successors(n))]
    shown: set[str] = set()
    stack: list[tuple[Tree, str, float | None, int]] = [(tree, root, None, 1) for root in reversed(tops)]
    while stack:
        branch, name, weight, level = stack.pop()
        count = "" if weight in (None, 1) else f" ×{weight:g}"
        label = Text.assemble((name, "bold"), count, "  ", (describe(cmap, name), "dim"))
        if name in shown and cmap.graph.in_degree(name):
            branch.add(Text.assemble(label, (" (shown above)", "italic dim")))
            continue
        shown.add(name)
        child = branch.add(label)
        below = sorted(n for n in cmap.graph.predecessors(name) if only is None or n in only)
        if below and deepest is not None and level >= deepest:
            child.add(Text(f"… {levels[name]} more level(s) below, cut to fit {width} columns "
                           "(capgraph show --json lists every node)", style="italic"))
            continue
        stack.extend((child, sub, cmap.graph.edges[sub, name]["weight"], level + 1)
                     for sub in reversed(below))
    return tree


#: Columns each tree level indents, and the least room left for a node's name and summary.
_INDENT = 4
_LABEL_ROOM = 24


# --- the real world: data limits, dates, scenarios, loss fits ----------------------------------------


def outlook_table(cmap: CapabilityMap, predictions: list[Prediction]) -> Table | None:
    """Loss, data limit and date of each crossing; None when the map has none of them to show."""
    law = getattr(cmap.units, "law", None)
    limit = cmap.settings.scale.data_limit
    timeline = cmap.settings.timeline
    if law is None and limit is None and timeline is None:
        return None
    title = f"{cmap.name}: in the world"
    if scenario_words(cmap):
        title += f" ({scenario_words(cmap)})"
    table = Table(title=title, title_justify="left")
    table.add_column("node", overflow="fold")
    if law is not None:
        table.add_column("loss", justify="right")
    if limit is not None:
        table.add_column(f"data (limit {human(limit)} tokens)", overflow="fold")
    if timeline is not None:
        table.add_column("date", justify="right")
    for p in predictions:
        extra = cmap.outlook(p)
        cells = [p.name]
        if law is not None:
            loss = p.crossing.loss if p.crossing else None
            cells.append(NONE if loss is None else f"{loss:.3f}")
        if limit is not None:
            text, level = data_check_text(p, cmap.data_limit_check(p))
            cells.append(Text(text, style=_LEVEL_STYLES[level]))
        if timeline is not None:
            cells.append(dates_text(p, extra))
        table.add_row(*cells)
    return table


#: How a data check's seriousness shows in the terminal.
_LEVEL_STYLES = {"ok": "", "none": "", "warn": "yellow", "bad": "bold red"}


def comparison_table(result: dict) -> Table:
    """``capgraph compare``: one column a scenario, FLOPs (and date) of each crossing."""
    table = Table(title=f"{result['map']}: crossings by scenario (FLOPs)", title_justify="left")
    table.add_column("node", overflow="fold")
    for s in result["scenarios"]:
        head = s["name"] + (f"\n×{s['efficiency']:g}" if s["efficiency"] != 1 else "")
        table.add_column(head, justify="right")
    for row in result["capabilities"]:
        cells = [row["name"]]
        for s in result["scenarios"]:
            lines, says = comparison_lines(row["crossings"][s["name"]])
            style = {"limited": "bold red", "none": "dim"}.get(says, "")
            cells.append(Text("\n".join(lines), style=style))
        table.add_row(*cells)
    return table


def check_summary(report) -> str:
    """``capgraph check`` when every map is valid: how many maps, skills and capabilities."""
    skills = sum(m.n_skills for m in report.maps)
    caps = sum(m.n_capabilities for m in report.maps)
    return (f"ok: {counted(len(report.maps), 'map')}, {counted(skills, 'skill')}, "
            f"{counted(caps, 'capability', 'capabilities')}")
