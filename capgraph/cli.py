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
from capgraph.model import DEFAULT_SAMPLES, DEFAULT_SEED, CapabilityMap, load
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
    # One line: the C encoder only runs without indent, and maps of 100,000 nodes need it (jq formats).
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")


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


SamplesOpt = Annotated[int, typer.Option("--samples", min=1, help="Monte Carlo samples for "
                                         "parameter ranges.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same output.")]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit of the scale given: params, tokens or "
                                              "flops (default: the map's axis).", show_default=False)]


def _check_unit(unit: str | None) -> None:
    if unit is not None and unit not in AXES:
        raise typer.BadParameter(f"must be one of {', '.join(AXES)}", param_hint="--unit")


@app.command()
def predict(
    path: MapArg,
    samples: SamplesOpt = DEFAULT_SAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    by: Annotated[str | None, typer.Option("--by", help="Also give the probability of having crossed by "
                                           "this scale (e.g. 1e25 with --unit flops).",
                                           show_default=False)] = None,
    unit: UnitOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """At which scale each node with a threshold crosses it (params, tokens, FLOPs), with intervals."""
    _check_unit(unit)
    cmap = _load(path)
    options = {"samples": samples, "seed": seed, "by": by, "by_unit": unit}
    try:
        cmap.log_axis(by, unit) if by is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--by") from None
    if as_json:
        _emit_json(cmap.predict_json(**options))
        return
    from capgraph.present import predictions_table, progress_reporter

    with progress_reporter(out, samples if cmap.uncertain else 0) as progress:
        predictions = cmap.predict(progress=progress, **options)
    out.print(predictions_table(cmap, predictions, by=by))


@app.command()
def at(
    path: MapArg,
    scale: Annotated[str, typer.Argument(help="A scale such as 70B, 1.4T or 1e24.",
                                         show_default=False)],
    unit: UnitOpt = None,
    samples: SamplesOpt = DEFAULT_SAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    as_json: JsonOpt = False,
) -> None:
    """Every node's value at one scale, with a 90% interval when parameters are ranges."""
    _check_unit(unit)
    cmap = _load(path)
    try:
        snap = cmap.at(scale, unit, samples=samples, seed=seed)
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
