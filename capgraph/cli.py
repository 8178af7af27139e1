"""The ``capgraph`` command: a thin Typer layer over the library.

Each command loads a map, calls one library function and prints its result as a rich table or, with
``--json``, as JSON with stable keys. Exit status: 0 success, 1 invalid input (every problem printed
as ``file:line:col: message``), 2 usage error, 3 a bug in capgraph (with a report worth filing).
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Annotated, Any

import typer
from rich.console import Console

from capgraph import __version__
from capgraph.errors import MapError, Problem
from capgraph.model import CapabilityMap, load
from capgraph.schema import AXES, json_schema

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Capability maps: at which scale do composite abilities cross their thresholds?",
)
# Piped output gets a fixed, generous width: stable text for scripts and tests, no truncated names.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False)

MapArg = Annotated[str, typer.Argument(help="A capability map (YAML or JSON).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON with stable keys.")]


# Typer re-exports click's exceptions (newer releases vendor click), so find the base class there.
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def _warn(problems: list[Problem]) -> None:
    """One unwrapped line a problem on stderr, the form editors and CI annotations read."""
    for problem in problems:
        sys.stderr.write(f"{problem}\n")


def _load(path: str) -> CapabilityMap:
    """Load a map, or print its problems and exit with status 1."""
    try:
        cmap = load(path)
    except MapError as exc:
        _warn(exc.problems)
        raise typer.Exit(1) from None
    _warn(cmap.warnings())
    return cmap


def _version(value: bool) -> None:
    if value:
        out.print(f"capgraph {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """capgraph: predict where composite abilities emerge from smooth skill curves."""


@app.command()
def check(
    maps: Annotated[list[str], typer.Argument(help="Map files to validate.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Validate maps; print every problem as file:line:col: message."""
    report, failed, counts = [], False, [0, 0]
    for path in maps:
        try:
            cmap = load(path)
        except MapError as exc:
            failed = True
            report.append({"path": path, "ok": False, "problems": [_problem(p) for p in exc.problems]})
            if not as_json:
                _warn(exc.problems)
            continue
        warnings = cmap.warnings()
        counts[0] += len(cmap.spec.skills)
        counts[1] += len(cmap.spec.capabilities)
        report.append({"path": path, "ok": True, "problems": [_problem(p) for p in warnings]})
        if not as_json:
            _warn(warnings)
    if as_json:
        _emit_json({"ok": not failed, "maps": report})
    elif not failed:
        noun = "map" if len(maps) == 1 else "maps"
        out.print(f"ok: {len(maps)} {noun}, {counts[0]} skills, {counts[1]} capabilities")
    if failed:
        raise typer.Exit(1)


def _problem(p: Problem) -> dict[str, Any]:
    return {"line": p.line, "col": p.col, "severity": p.severity, "message": p.message}


@app.command()
def show(path: MapArg, as_json: JsonOpt = False) -> None:
    """Show the hierarchy as a tree: each node's curve or rule, lens and threshold."""
    cmap = _load(path)
    if as_json:
        from capgraph.present import describe

        _emit_json({
            "map": cmap.name,
            "axis": cmap.axis,
            "nodes": [
                {"name": n, "kind": cmap.graph.nodes[n]["kind"], "summary": describe(cmap, n),
                 "threshold": cmap.threshold(n), "description": cmap.node(n).description,
                 "requires": {c: cmap.graph.edges[c, n]["weight"]
                              for c in sorted(cmap.graph.predecessors(n))}}
                for n in cmap.nodes
            ],
        })
        return
    from capgraph.present import hierarchy_tree

    out.print(hierarchy_tree(cmap))


@app.command()
def predict(path: MapArg, as_json: JsonOpt = False) -> None:
    """At which scale each node with a threshold crosses it (params, tokens, FLOPs)."""
    cmap = _load(path)
    if as_json:
        _emit_json(cmap.predict_json())
        return
    from capgraph.present import predictions_table

    out.print(predictions_table(cmap, cmap.predict()))


@app.command()
def at(
    path: MapArg,
    scale: Annotated[str, typer.Argument(help="A scale such as 70B, 1.4T or 1e24.",
                                         show_default=False)],
    unit: Annotated[str | None, typer.Option(help="Unit of SCALE: params, tokens or flops "
                                             "(default: the map's axis).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every node's value at one scale."""
    if unit is not None and unit not in AXES:
        raise typer.BadParameter(f"must be one of {', '.join(AXES)}", param_hint="--unit")
    cmap = _load(path)
    try:
        snap = cmap.at(scale, unit)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="SCALE") from None
    if as_json:
        _emit_json(snap.to_json())
        return
    from capgraph.present import snapshot_table

    out.print(snapshot_table(cmap, snap))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the map format (for editors and yaml-language-server)."""
    _emit_json(json_schema())


def main() -> None:
    """Entry point: usage errors exit 2, bugs exit 3 with a report instead of a bare traceback."""
    try:
        code = app(standalone_mode=False)
    except _ClickException as exc:  # usage errors: exit status 2
        exc.show()
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # invalid input never gets here (commands exit 1); this is a bug
        err.print("capgraph: internal error (a bug; please report it with the map and this text):",
                  markup=False)
        err.print("".join(traceback.format_exception(exc)), markup=False)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)


# --- pictures: render, plot, report ------------------------------------------------------------------

OutputOpt = Annotated[str, typer.Option("-o", "--output", help="The file to write; its extension "
                                        "names the format.", show_default=False)]
AtOpt = Annotated[str | None, typer.Option("--at", help="Show values at this scale (e.g. 70B, "
                                           "1e24), in --unit.", show_default=False)]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit of --at and of the scales shown: "
                                             "params, tokens or flops (default: the map's axis).",
                                             show_default=False)]


def _check_unit(unit: str | None) -> None:
    if unit is not None and unit not in AXES:
        raise typer.BadParameter(f"must be one of {', '.join(AXES)}", param_hint="--unit")


def _check_at(cmap: CapabilityMap, at: str | None, unit: str | None) -> None:
    if at is not None:
        try:
            cmap.log_axis(at, unit)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--at") from None


def _check_names(cmap: CapabilityMap, names: list[str], hint: str) -> None:
    from capgraph.validate import did_you_mean

    for name in names:
        if name not in cmap.graph:
            raise typer.BadParameter(f"the map has no node '{name}'{did_you_mean(name, cmap.graph)}",
                                     param_hint=hint)


def _format(output: str, formats: dict[str, str]) -> str:
    from pathlib import Path

    suffix = Path(output).suffix.lower()
    if suffix not in formats:
        raise typer.BadParameter(f"cannot tell the format from '{output}': end it with "
                                 + ", ".join(formats), param_hint="-o")
    return formats[suffix]


def _write(output: str, data: bytes) -> None:
    """Write the whole file or nothing; a file that cannot be written is an input error (exit 1)."""
    from capgraph.files import write_atomic

    try:
        write_atomic(output, data)
    except OSError as exc:
        err.print(f"capgraph: cannot write {output}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    out.print(f"wrote {output}", markup=False)


def _need_graphviz() -> None:
    """Drawing needs pygraphviz (a dependency, but its wheel may be missing on rare platforms)."""
    try:
        import pygraphviz  # noqa: F401
    except ImportError as exc:
        err.print(f"capgraph: drawing needs pygraphviz, which failed to import ({exc}); "
                  "`pip install pygraphviz`, or write .dot and run Graphviz yourself", markup=False)
        raise typer.Exit(1) from None


@app.command("render")
def render_command(
    path: MapArg,
    output: OutputOpt,
    at: AtOpt = None,
    unit: UnitOpt = None,
    focus: Annotated[str | None, typer.Option("--focus", help="Draw only this node and its "
                                              "neighbourhood.", show_default=False)] = None,
    depth: Annotated[int | None, typer.Option("--depth", min=0, help="With --focus: how many steps "
                                              "up and down to draw [default: 1].",
                                              show_default=False)] = None,
) -> None:
    """Draw the map as a graph (.svg, .png, .pdf or .dot), coloured by each node's value."""
    from capgraph.render import FORMATS, render

    fmt = _format(output, FORMATS)
    _check_unit(unit)
    if fmt != "dot":
        _need_graphviz()
    if depth is not None and focus is None:
        raise typer.BadParameter("needs --focus", param_hint="--depth")
    cmap = _load(path)
    _check_at(cmap, at, unit)
    if focus is not None:
        _check_names(cmap, [focus], "--focus")
    _write(output, render(cmap, fmt, at=at, unit=unit, focus=focus, depth=depth))


@app.command("plot")
def plot_command(
    path: MapArg,
    nodes: Annotated[list[str] | None, typer.Argument(help="Nodes to draw (default: every node with "
                                                      "a threshold); their inputs are drawn dashed.",
                                                      show_default=False)] = None,
    output: OutputOpt = ...,
    lenses: Annotated[bool, typer.Option("--lenses", help="One node's success probability under the "
                                         "identity, exact-match and multiple-choice lenses.")] = False,
    at: AtOpt = None,
    unit: UnitOpt = None,
    length: Annotated[float, typer.Option("--length", help="With --lenses: exact-match answer length "
                                          "L.")] = 10.0,
    options: Annotated[int, typer.Option("--options", help="With --lenses: multiple-choice options "
                                         "n.")] = 4,
) -> None:
    """Plot value against scale (.svg, .png or .pdf): thresholds, crossings, data limit."""
    from capgraph.plot import FORMATS, plot

    fmt = _format(output, FORMATS)
    _check_unit(unit)
    if lenses:
        if nodes and len(nodes) > 1:
            raise typer.BadParameter("--lenses draws one node; name just one", param_hint="NODES")
        if length <= 0:
            raise typer.BadParameter(f"must be greater than 0, got {length:g}", param_hint="--length")
        if options < 2:
            raise typer.BadParameter(f"must be at least 2, got {options}", param_hint="--options")
    cmap = _load(path)
    _check_at(cmap, at, unit)
    _check_names(cmap, nodes or [], "NODES")
    extra = {"length": length, "options": options} if lenses else {}
    _write(output, plot(cmap, fmt, nodes or None, show_lenses=lenses, at=at, unit=unit, **extra))


@app.command("report")
def report_command(path: MapArg, output: OutputOpt, at: AtOpt = None, unit: UnitOpt = None) -> None:
    """Write one self-contained HTML page: the graph, the curves, the predictions, every node."""
    from capgraph.report import report

    _format(output, {".html": "html", ".htm": "html"})
    _check_unit(unit)
    _need_graphviz()
    cmap = _load(path)
    _check_at(cmap, at, unit)
    _write(output, report(cmap, at=at, unit=unit).encode("utf-8"))
