"""Terminal presentation: rich tables and trees for the results the library computes.

Nothing here computes a number; it only lays out what :mod:`capgraph.model.capmap` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from capgraph.core.units import human
from capgraph.engine.predict import Prediction
from capgraph.kernels.curves import FAMILIES
from capgraph.kernels.rules import RULES
from capgraph.kernels.sampling import Interval
from capgraph.model.capmap import CapabilityMap, Snapshot


def _sharp(p: Prediction) -> str:
    return "–" if p.sharpness_decades is None else f"{p.sharpness_decades:.2f}"


def _interval(p: Prediction, unit: str) -> str:
    """``median [p5–p95]`` of the crossing in one unit, from the Monte Carlo quantiles."""
    q = p.quantiles
    if not q:
        return ""
    fmt = human if unit != "flops" else (lambda x: f"{x:.2g}")
    mid = fmt(getattr(q["p50"], unit))
    return f"{mid} [{fmt(getattr(q['p5'], unit))}–{fmt(getattr(q['p95'], unit))}]"


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
    """`` under scenario NAME (efficiency ×e)`` for a map taken under a scenario, else nothing."""
    if not getattr(cmap, "scenario_name", None):
        return ""
    gain = f", efficiency ×{cmap.efficiency:g}" if cmap.efficiency != 1.0 else ""
    return f" under scenario {cmap.scenario_name}{gain}"


def predictions_table(cmap: CapabilityMap, predictions: list[Prediction], by: str | None = None) -> Table:
    if cmap.uncertain:
        return _uncertain_table(cmap, predictions, by)
    by_column = [] if by is None else [f"by {by}"]
    table = _table(f"{cmap.name}: threshold crossings ({cmap.axis} axis){_scenario(cmap)}",
                   ["node", "threshold", "params", "tokens", "FLOPs", "sharpness\n(decades)", *by_column,
                    "bottleneck"])
    for p in predictions:
        if p.status == "never":
            cells = [Text(f"never (max {p.max_value:.3g})", style="dim"), "", ""]
        else:
            c = p.crossing
            assert c is not None
            prefix = "≤ " if p.status == "above_at_start" else ""
            style = "bold red" if p.data_limited else ""
            cells = [Text(prefix + human(c.params)),
                     Text(prefix + human(c.tokens) + (" data-limited" if p.data_limited else ""),
                          style=style),
                     Text(prefix + f"{c.flops:.3g}")]
        crossed = [] if by is None else ["yes" if p.p_crossed_by else "no"]
        table.add_row(p.name, f"{p.threshold:g}", *cells, _sharp(p), *crossed, p.bottleneck or "")
    return table


def _uncertain_table(cmap: CapabilityMap, predictions: list[Prediction], by: str | None) -> Table:
    """Median crossing with its 90% interval, the share that never crosses, and the bottleneck."""
    by_column = [] if by is None else [f"by {by}"]
    table = _table(f"{cmap.name}: threshold crossings, median [90% interval] ({cmap.axis} axis)"
                   f"{_scenario(cmap)}",
                   ["node", "threshold", "params", "FLOPs", "never", *by_column, "bottleneck"])
    for p in predictions:
        row = [p.name, f"{p.threshold:g}", _interval(p, "params") or "never",
               _interval(p, "flops"), f"{p.p_never:.0%}"]
        if by is not None:
            row.append(f"{p.p_crossed_by:.0%}")
        table.add_row(*row, p.bottleneck or "")
    return table


@contextmanager
def progress_reporter(console: Console, total: int, delay: float = 1.0) -> Iterator[Callable[[int], None]]:
    """A callback that advances a progress bar, shown only on a terminal and once work takes > delay s."""
    started = time.monotonic()
    state: dict[str, object] = {}
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if "bar" not in state and console.is_terminal and time.monotonic() - started > delay and total:
            bar = Progress(TextColumn("sampling"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                           TimeRemainingColumn(), console=console, transient=True)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("sampling", total=total)
        if "bar" in state:
            state["bar"].update(state["task"], completed=done)

    try:
        yield advance
    finally:
        if "bar" in state:
            state["bar"].stop()


def snapshot_table(cmap: CapabilityMap, snap: Snapshot) -> Table:
    if cmap.uncertain:
        return _uncertain_snapshot(cmap, snap)
    s = snap.scale
    table = _table(f"{cmap.name} at {human(s.params)} params, {human(s.tokens)} tokens, {s.flops:.3g} FLOPs",
                   ["node", "kind", "value", "threshold", ""])
    for name in cmap.nodes[::-1]:  # most composite first
        value, threshold = snap.values[name], cmap.threshold(name)
        mark = ""
        if threshold is not None:
            mark = "✓ above" if value >= threshold else "below"
        table.add_row(name, cmap.graph.nodes[name]["kind"], f"{value:.4f}",
                      "" if threshold is None else f"{threshold:g}", mark)
    return table


def _uncertain_snapshot(cmap: CapabilityMap, snap: Snapshot) -> Table:
    s = snap.scale
    table = _table(f"{cmap.name} at {human(s.params)} params, {human(s.tokens)} tokens, "
                   f"{s.flops:.3g} FLOPs: median [90% interval]", ["node", "kind", "value", "threshold"])
    for name in cmap.nodes[::-1]:
        q, threshold = snap.quantiles[name], cmap.threshold(name)
        table.add_row(name, cmap.graph.nodes[name]["kind"],
                      f"{q['p50']:.3f} [{q['p5']:.3f}–{q['p95']:.3f}]",
                      "" if threshold is None else f"{threshold:g}")
    return table


def describe(cmap: CapabilityMap, name: str) -> str:
    """One line: a skill's curve or a capability's rule, then its lens and threshold."""
    node = cmap.node(name)
    parts = []
    if name in cmap.spec.skills:
        kind = node.curve.kind
        body = getattr(node.curve, kind)
        if FAMILIES[kind].batch == "table":  # observed points
            parts.append(f"{kind} ({len(body)})")
        else:
            args = ", ".join(f"{k}={param_text(k, getattr(body, k))}" for k in FAMILIES[kind].names)
            parts.append(f"{kind}({args})")
    else:
        param = RULES[node.combine].param
        parts.append(node.combine + (f" {param}={getattr(node, param)}" if param else ""))
    if node.metric and node.metric.kind != "identity":
        lens = node.metric.kind
        args = ", ".join(f"{k}={v:g}" for k, v in getattr(node.metric, lens).model_dump().items())
        parts.append(f"{lens}({args})")
    threshold = cmap.threshold(name)
    if threshold is not None:
        parts.append(f"threshold {threshold:g}")
    return " · ".join(parts)


#: Curve parameters that are scales (written and shown as 70B, 1.4T), from the registry.
_SCALE_PARAMS = {p.name for family in FAMILIES.values() for p in family.params if p.log}


def param_text(key: str, value: float | Interval) -> str:
    """A curve parameter for people: ``10B``, ``1.5``, or a range ``3B to 30B``."""
    fmt = human if key in _SCALE_PARAMS else (lambda v: f"{v:g}")
    if isinstance(value, Interval):
        return f"{fmt(value.p5)} to {fmt(value.p95)}"
    return fmt(value)


def hierarchy_tree(cmap: CapabilityMap, width: int | None = None) -> Tree:
    """The map as a tree from its most composite abilities down; shared nodes expand once.

    Built with an explicit stack (a chain of 10,000 steps is 10,000 levels deep). Each level
    indents four columns, so at ``width`` columns the branches are cut where too little room
    is left to read a name, and the cut says how many levels it hides.
    """
    from capgraph.format.graph import depth, roots

    tree = Tree(Text(cmap.name, style="bold"))
    deepest = None if width is None else max(1, (width - _LABEL_ROOM) // _INDENT)
    levels = depth(cmap.graph) if deepest is not None else {}
    shown: set[str] = set()
    stack: list[tuple[Tree, str, float | None, int]] = [
        (tree, root, None, 1) for root in reversed(roots(cmap.graph))]
    while stack:
        branch, name, weight, level = stack.pop()
        count = "" if weight in (None, 1) else f" ×{weight:g}"
        label = Text.assemble((name, "bold"), count, "  ", (describe(cmap, name), "dim"))
        if name in shown and cmap.graph.in_degree(name):
            branch.add(Text.assemble(label, (" (shown above)", "italic dim")))
            continue
        shown.add(name)
        child = branch.add(label)
        below = sorted(cmap.graph.predecessors(name))
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
    limit = cmap.spec.scale.data_limit
    timeline = cmap.spec.timeline
    if law is None and limit is None and timeline is None:
        return None
    title = f"{cmap.name}: in the world"
    if cmap.scenario_name:
        gain = f", efficiency ×{cmap.efficiency:g}" if cmap.efficiency != 1.0 else ""
        title += f" (scenario {cmap.scenario_name}{gain})"
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
            cells.append("–" if loss is None else f"{loss:.3f}")
        if limit is not None:
            check = cmap.data_limit_check(p)
            if check is None:
                cells.append("–")
            elif not check.exceeds:
                cells.append("fits")
            elif check.reachable is None:
                cells.append(Text(f"needs {human(check.needed_tokens)}; unknown beyond (no loss law)",
                                  style="bold red"))
            elif check.reachable:
                cells.append(Text(f"needs {human(check.needed_tokens)}; a {human(check.min_params)} "
                                  f"model on the limit: {check.min_flops:.3g} FLOPs", style="yellow"))
            else:
                cells.append(Text(f"needs {human(check.needed_tokens)}; unreachable on the data",
                                  style="bold red"))
        if timeline is not None:
            cells.append(extra["date"] or "–")
        table.add_row(*cells)
    return table


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
            cell = row["crossings"][s["name"]]
            if cell is None:
                cells.append(Text("no threshold", style="dim"))
            elif cell["status"] == "never":
                cells.append(Text("never", style="dim"))
            else:
                prefix = "≤ " if cell["status"] == "above_at_start" else ""
                text = prefix + f"{cell['crossing']['flops']:.3g}"
                if cell["date"]:
                    text += f"\n{cell['date']}"
                style = "bold red" if cell["data_limited"] else ""
                cells.append(Text(text + ("\ndata-limited" if cell["data_limited"] else ""), style=style))
        table.add_row(*cells)
    return table


def loss_fit_table(fit) -> Table:
    """``capgraph fit-loss``: each constant with its bootstrap interval."""
    table = Table(title="L(N, D) = E + A/N^α + B/D^β", title_justify="left")
    table.add_column("constant")
    table.add_column("estimate", justify="right")
    table.add_column("5%", justify="right")
    table.add_column("95%", justify="right")
    for name, value in fit.law.as_dict().items():
        lo, hi = fit.intervals.get(name, (None, None))
        table.add_row(name, f"{value:.4g}", "–" if lo is None else f"{lo:.4g}",
                      "–" if hi is None else f"{hi:.4g}")
    return table


def loss_fit_summary(fit) -> str:
    """One line under the fit table: runs used, runs dropped (file lines), bootstrap."""
    dropped = ", ".join(str(line) for line in fit.dropped) or "none"
    return (f"{fit.n_used} runs fitted; dropped (file lines): {dropped}; "
            f"{fit.resamples} bootstrap resamples, seed {fit.seed}")
