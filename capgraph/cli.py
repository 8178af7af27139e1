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
from capgraph.schema import json_schema

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
def predict(
    path: MapArg,
    as_json: JsonOpt = False,
    scenario: Annotated[str | None, typer.Option(help="Use a scenario of the map.")] = None,
    data_limit: Annotated[str | None, typer.Option(help="Usable training tokens, e.g. 3e14 "
                                                   "(overrides scale.data_limit).")] = None,
) -> None:
    """At which scale each node with a threshold crosses it (params, tokens, FLOPs)."""
    cmap = _with_options(_load(path), scenario, data_limit)
    if as_json:
        _emit_json(cmap.predict_json())
        return
    from capgraph.present import outlook_table, predictions_table

    predictions = cmap.predict()
    out.print(predictions_table(cmap, predictions))
    extra = outlook_table(cmap, predictions)
    if extra is not None:
        out.print(extra)


@app.command()
def at(
    path: MapArg,
    scale: Annotated[str, typer.Argument(help="A scale such as 70B, 1.4T or 1e24.",
                                         show_default=False)],
    unit: Annotated[str | None, typer.Option(help="Unit of SCALE: params, tokens, flops or loss "
                                             "(default: the map's axis).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every node's value at one scale."""
    from capgraph.allocation import UNITS  # params, tokens, flops, and loss with a loss law

    if unit is not None and unit not in UNITS:
        raise typer.BadParameter(f"must be one of {', '.join(UNITS)}", param_hint="--unit")
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


def _with_options(cmap: CapabilityMap, scenario: str | None, data_limit: str | None) -> CapabilityMap:
    """The map under ``--scenario`` and ``--data-limit``; a bad value is one line and exit 1."""
    if scenario is None and data_limit is None:
        return cmap
    limit = None
    if data_limit is not None:
        from capgraph.units import parse_scale

        try:
            limit = parse_scale(data_limit)
        except ValueError as exc:
            sys.stderr.write(f"capgraph: --data-limit: {exc}\n")
            raise typer.Exit(1) from None
    try:
        return cmap.scenario(scenario or "baseline", data_limit=limit)
    except KeyError as exc:
        sys.stderr.write(f"capgraph: --scenario: {exc.args[0]}\n")
        raise typer.Exit(1) from None
    except MapError as exc:
        _warn(exc.problems)
        raise typer.Exit(1) from None


@app.command()
def compare(path: MapArg, as_json: JsonOpt = False) -> None:
    """The crossing of every capability under every scenario of the map, side by side."""
    cmap = _load(path)
    result = cmap.compare()
    if as_json:
        _emit_json(result)
        return
    from capgraph.present import comparison_table

    out.print(comparison_table(result))


@app.command("fit-loss")
def fit_loss(
    data: Annotated[str, typer.Argument(help="A CSV file of training runs.", show_default=False)],
    params: Annotated[str, typer.Option(help="Column of parameter counts N.", show_default=False)],
    tokens: Annotated[str, typer.Option(help="Column of training tokens D.", show_default=False)],
    loss: Annotated[str, typer.Option(help="Column of final pretraining loss L.", show_default=False)],
    resamples: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for the intervals.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    min_tokens_per_param: Annotated[float, typer.Option(
        min=0.0, help="Drop runs trained on fewer tokens a parameter than this (outliers).")] = 0.45,
    as_json: JsonOpt = False,
) -> None:
    """Fit L(N, D) = E + A/N^α + B/D^β (Besiroglu et al. 2024) and print it for scale.allocation."""
    from capgraph import lossfit

    try:
        runs = lossfit.read_runs(data, params, tokens, loss)
    except MapError as exc:
        _warn(exc.problems)
        raise typer.Exit(1) from None
    kept = int((~lossfit.outliers(runs, min_tokens_per_param)).sum())
    if kept < 6:
        sys.stderr.write(f"capgraph: --min-tokens-per-param: leaves {kept} runs; at least 6 are needed\n")
        raise typer.Exit(1)
    try:
        result = lossfit.fit_loss(runs, min_tokens_per_param=min_tokens_per_param, resamples=resamples,
                                  seed=seed)
    except ValueError as exc:
        sys.stderr.write(f"{data}: {exc}\n")
        raise typer.Exit(1) from None
    if as_json:
        _emit_json(result.to_json())
        return
    from capgraph.present import loss_fit_summary, loss_fit_table

    out.print(loss_fit_table(result))
    out.print(loss_fit_summary(result), markup=False)
    out.print(result.yaml_snippet(), markup=False, end="")


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
