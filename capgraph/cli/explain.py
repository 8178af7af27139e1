"""``capgraph explain``: why a node crosses where it does, and what would move it."""

from __future__ import annotations

from typing import Annotated

import typer

from capgraph.cli.common import JsonOpt, MapArg, SamplesOpt, SeedOpt, emit_json, err, load_map, out, usage
from capgraph.core.defaults import DEFAULT_SAMPLES, DEFAULT_SEED

# The library is imported in the command's body: `capgraph --help` loads none of it (start-up).


def explain(
    path: MapArg,
    node: Annotated[str, typer.Argument(metavar="NODE", help="The node whose crossing to explain.",
                                        show_default=False)],
    samples: SamplesOpt = DEFAULT_SAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Also draw a tornado chart "
                                               "(.svg, .png or .pdf).", show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Each node under NODE: how far its curve moves the crossing (elasticity), how much of the
    crossing's uncertainty its ranges explain (variance share), and the bottleneck child."""
    from capgraph.cli.pictures import _format, _write
    from capgraph.outputs.plot import FORMATS

    fmt = _format(output, FORMATS) if output else None
    cmap = load_map(path)
    from capgraph.outputs.terminal import progress_reporter

    try:
        # a bar on stderr, on a terminal only, once sampling takes over a second; none for --json
        with progress_reporter(err, 0 if as_json or not cmap.uncertain else samples) as progress:
            result = usage("NODE", cmap.explain, node, samples=samples, seed=seed, progress=progress)
    except KeyError as exc:  # an unknown node, with did-you-mean
        raise typer.BadParameter(str(exc.args[0]), param_hint="NODE") from None
    from capgraph.outputs.explain import explanation_table, tornado

    if fmt and output:
        _write(output, tornado(cmap, result, fmt), quiet=as_json)  # with --json stdout carries only the JSON
    if as_json:
        emit_json(result.to_json())
    else:
        out.print(explanation_table(cmap, result))

