"""Commands that query a map: check, show, predict, at, compare, schema."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from capgraph.cli.common import (
    JsonOpt,
    MapArg,
    SamplesOpt,
    SeedOpt,
    UnitOpt,
    check_samples,
    check_unit,
    emit_json,
    load_map,
    out,
    warn,
    with_options,
)
from capgraph.core.errors import MapError, Problem
from capgraph.format.schema import json_schema
from capgraph.model.capmap import DEFAULT_SAMPLES, DEFAULT_SEED, load


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
                warn(exc.problems)
            continue
        warnings = cmap.warnings()
        counts[0] += len(cmap.spec.skills)
        counts[1] += len(cmap.spec.capabilities)
        report.append({"path": path, "ok": True, "problems": [_problem(p) for p in warnings]})
        if not as_json:
            warn(warnings)
    if as_json:
        emit_json({"ok": not failed, "maps": report})
    elif not failed:
        noun = "map" if len(maps) == 1 else "maps"
        skills = f"{counts[0]} skill" + ("s" if counts[0] != 1 else "")
        caps = f"{counts[1]} capabilit" + ("ies" if counts[1] != 1 else "y")
        out.print(f"ok: {len(maps)} {noun}, {skills}, {caps}")
    if failed:
        raise typer.Exit(1)


def _problem(p: Problem) -> dict[str, Any]:
    return {"line": p.line, "col": p.col, "severity": p.severity, "message": p.message}


def show(path: MapArg, as_json: JsonOpt = False) -> None:
    """Show the hierarchy as a tree: each node's curve or rule, lens and threshold."""
    cmap = load_map(path)
    if as_json:
        from capgraph.outputs.terminal import describe

        emit_json({
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
    from capgraph.outputs.terminal import hierarchy_tree

    out.print(hierarchy_tree(cmap, out.width))


def predict(
    path: MapArg,
    samples: SamplesOpt = DEFAULT_SAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    by: Annotated[str | None, typer.Option("--by", help="Also give the probability of having crossed by "
                                           "this scale (e.g. 1e25 with --unit flops).",
                                           show_default=False)] = None,
    unit: UnitOpt = None,
    scenario: Annotated[str | None, typer.Option(help="Use a scenario of the map.")] = None,
    data_limit: Annotated[str | None, typer.Option(help="Usable training tokens, e.g. 3e14 "
                                                   "(overrides scale.data_limit).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """At which scale each node with a threshold crosses it (params, tokens, FLOPs), with intervals."""
    check_unit(unit)
    cmap = with_options(load_map(path), scenario, data_limit)
    check_samples(cmap, samples)
    options = {"samples": samples, "seed": seed, "by": by, "by_unit": unit}
    try:
        cmap.log_axis(by, unit) if by is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--by") from None
    if as_json:
        emit_json(cmap.predict_json(**options))
        return
    from capgraph.outputs.terminal import outlook_table, predictions_table, progress_reporter

    with progress_reporter(out, samples if cmap.uncertain else 0) as progress:
        predictions = cmap.predict(progress=progress, **options)
    out.print(predictions_table(cmap, predictions, by=by))
    extra = outlook_table(cmap, predictions)
    if extra is not None:
        out.print(extra)


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
    check_unit(unit)
    cmap = load_map(path)
    check_samples(cmap, samples)
    try:
        snap = cmap.at(scale, unit, samples=samples, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="SCALE") from None
    if as_json:
        emit_json(snap.to_json())
        return
    from capgraph.outputs.terminal import snapshot_table

    out.print(snapshot_table(cmap, snap))


def schema() -> None:
    """Print the JSON Schema of the map format (for editors and yaml-language-server)."""
    emit_json(json_schema())


def compare(path: MapArg, as_json: JsonOpt = False) -> None:
    """The crossing of every capability under every scenario of the map, side by side."""
    cmap = load_map(path)
    result = cmap.compare()
    if as_json:
        emit_json(result)
        return
    from capgraph.outputs.terminal import comparison_table

    out.print(comparison_table(result))
