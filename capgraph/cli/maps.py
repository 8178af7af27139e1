"""Commands that query a map: check, show, predict, at, compare, schema."""

from __future__ import annotations

from typing import Annotated

import typer

from capgraph.cli.common import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    AtMediansOpt,
    ExcludeOpt,
    JsonOpt,
    MapArg,
    SamplesOpt,
    SeedOpt,
    SelectOpt,
    UnitOpt,
    check_samples,
    check_unit,
    emit_json,
    load_map,
    out,
    selection,
    usage,
    warn,
    with_options,
)
from capgraph.outputs.jsonout import emit_predictions

# Each command imports the library it needs in its body: `capgraph --help` loads none of it (start-up).


def check(
    maps: Annotated[list[str], typer.Argument(help="Map files to validate.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Validate maps; print every problem as file:line:col: message."""
    from capgraph.model.check import check as check_maps
    from capgraph.outputs.terminal import check_summary

    report = check_maps(maps)
    if as_json:
        emit_json(report.to_json())
    else:
        for entry in report.maps:
            warn(list(entry.problems))
        if report.ok:
            out.print(check_summary(report))
    if not report.ok:
        raise typer.Exit(1)


def show(path: MapArg, select: SelectOpt = None, exclude: ExcludeOpt = None,
         as_json: JsonOpt = False) -> None:
    """Show the hierarchy as a tree: each node's curve or rule, lens and threshold."""
    cmap = load_map(path)
    only = selection(cmap, select, exclude)
    if as_json:
        from capgraph.outputs.jsonout import hierarchy_json

        emit_json(hierarchy_json(cmap, only))
        return
    from capgraph.outputs.terminal import hierarchy_tree

    out.print(hierarchy_tree(cmap, out.width, only))


def predict(
    path: MapArg,
    samples: SamplesOpt = DEFAULT_SAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    by: Annotated[str | None, typer.Option("--by", help="Also give the probability of having crossed by "
                                           "this scale (e.g. 1e25 with --unit flops) or date "
                                           "(YYYY-MM-DD, with a timeline).",
                                           show_default=False)] = None,
    unit: UnitOpt = None,
    scenario: Annotated[str | None, typer.Option(help="Use a scenario of the map.")] = None,
    data_limit: Annotated[str | None, typer.Option(help="Usable training tokens, e.g. 3e14 "
                                                   "(overrides scale.data_limit).")] = None,
    at_medians: AtMediansOpt = False,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """At which scale each node with a threshold crosses it (params, tokens, FLOPs), with intervals."""
    check_unit(unit)
    cmap = with_options(load_map(path), scenario, data_limit)
    samples = 1 if at_medians else samples
    check_samples(cmap, samples)
    options = {"samples": samples, "seed": seed, "by": by, "by_unit": unit}
    if by is not None:
        usage("--by", cmap.log_axis, by, unit)
    only = selection(cmap, select, exclude)
    if as_json:
        emit_predictions(cmap, options, only)
        return
    from capgraph.outputs.terminal import outlook_table, predictions_table, progress_reporter

    with progress_reporter(out, samples if cmap.monte_carlo(samples) else 0) as progress:
        predictions = cmap.predict(progress=progress, **options)
    if only is not None:
        predictions = [p for p in predictions if p.name in only]
    if not predictions and only is None:
        from capgraph.outputs.wording import NO_THRESHOLD

        out.print(NO_THRESHOLD, markup=False)
        return
    out.print(predictions_table(cmap, predictions, by=by, width=out.width))
    extra = outlook_table(cmap, predictions)
    if extra is not None:
        out.print(extra)


def at(
    path: MapArg,
    scale: Annotated[str, typer.Argument(help="A scale such as 70B, 1.4T or 1e24, or a date "
                                         "YYYY-MM-DD (with a timeline).", show_default=False)],
    unit: UnitOpt = None,
    samples: SamplesOpt = DEFAULT_SAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    at_medians: AtMediansOpt = False,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every node's value at one scale, with a 90% interval when parameters are ranges."""
    check_unit(unit)
    cmap = load_map(path)
    check_samples(cmap, samples)
    only = selection(cmap, select, exclude)
    snap = usage("SCALE", cmap.at, scale, unit, samples=1 if at_medians else samples, seed=seed)
    if only is not None:
        snap = snap.only(n for n in cmap.nodes if n in only)
    if as_json:
        emit_json(snap.to_json())
        return
    from capgraph.outputs.terminal import snapshot_table

    out.print(snapshot_table(cmap, snap, width=out.width))


def schema() -> None:
    """Print the JSON Schema of the map format (for editors and yaml-language-server)."""
    from capgraph.format.schema import json_schema

    emit_json(json_schema())


def compare(path: MapArg, samples: SamplesOpt = DEFAULT_SAMPLES, seed: SeedOpt = DEFAULT_SEED,
            at_medians: AtMediansOpt = False, as_json: JsonOpt = False) -> None:
    """The crossing of every capability under every scenario of the map, side by side."""
    cmap = load_map(path)
    result = cmap.compare(samples=1 if at_medians else samples, seed=seed)
    if as_json:
        emit_json(result)
        return
    from capgraph.outputs.terminal import comparison_table

    out.print(comparison_table(result))
