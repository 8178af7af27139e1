"""Commands that draw: render, plot, report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from capgraph.cli.common import (
    AtMediansOpt,
    ExcludeOpt,
    MapArg,
    SamplesOpt,
    SeedOpt,
    SelectOpt,
    check_samples,
    check_unit,
    err,
    finite,
    load_map,
    out,
    selection,
    unit_name,
    usage,
)
from capgraph.core.defaults import DEFAULT_SAMPLES, DEFAULT_SEED, LENS_LENGTH, LENS_OPTIONS
from capgraph.core.suggest import did_you_mean

if TYPE_CHECKING:
    from capgraph.model.capmap import CapabilityMap

# Each command imports the library it needs in its body: `capgraph --help` loads none of it (start-up).

OutputOpt = Annotated[str, typer.Option("-o", "--output", help="The file to write; its extension "
                                        "names the format.", show_default=False)]


AtOpt = Annotated[str | None, typer.Option("--at", help="Show values at this scale (e.g. 70B, "
                                           "1e24), in --unit.", show_default=False)]


PictureUnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit of --at and of the scales shown: "
                                             "params, tokens or flops (default: the map's axis).",
                                             show_default=False, callback=unit_name)]


def _check_at(cmap: CapabilityMap, at: str | None, unit: str | None) -> None:
    if at is not None:
        usage("--at", cmap.log_axis, at, unit)


def _monte_carlo(cmap: CapabilityMap, samples: int, seed: int, at_medians: bool) -> dict[str, int]:
    """``--samples``, ``--seed`` and ``--at-medians`` as ``predict`` reads them."""
    samples = 1 if at_medians else samples
    check_samples(cmap, samples)
    return {"samples": samples, "seed": seed}


def _check_names(cmap: CapabilityMap, names: list[str], hint: str) -> None:
    for name in names:
        if name not in cmap.graph:
            raise typer.BadParameter(f"the map has no node '{name}'{did_you_mean(name, cmap.graph)}",
                                     param_hint=hint)


def _output(output: str, path: str, formats: dict[str, str], unit: str | None) -> str:
    """The format of ``-o`` from its name, after the checks every picture makes of its options."""
    fmt = _format(output, formats)
    _not_input(output, path)
    check_unit(unit, axes_only=True)  # pictures: params, tokens or FLOPs, not loss
    return fmt


def _format(output: str, formats: dict[str, str]) -> str:
    from pathlib import Path

    suffix = Path(output).suffix.lower()
    if suffix not in formats:
        raise typer.BadParameter(f"cannot tell the format from '{output}': end it with "
                                 + ", ".join(formats), param_hint="-o")
    return formats[suffix]


def _not_input(output: str, path: str) -> None:
    """Refuse to write over the map being read (``render x.svg -o x.svg`` would destroy it)."""
    import os

    try:
        same = os.path.samefile(output, path)
    except OSError:  # the output does not exist yet (or cannot be looked at): compare the names
        same = os.path.realpath(output) == os.path.realpath(path)
    if same:
        raise typer.BadParameter(f"'{output}' is the map being read; write the picture elsewhere",
                                 param_hint="-o")


def _write(output: str, data: bytes, quiet: bool = False) -> None:
    """Write the whole file or nothing; a file that cannot be written is an input error (exit 1).
    ``quiet`` says nothing on stdout (when it carries JSON)."""
    from capgraph.core.files import write_atomic

    try:
        write_atomic(output, data)
    except OSError as exc:
        err.print(f"capgraph: cannot write {output}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    if not quiet:
        out.print(f"wrote {output}", markup=False)


def _need_graphviz() -> None:
    """Drawing needs pygraphviz (a dependency, but its wheel may be missing on rare platforms)."""
    try:
        import pygraphviz  # noqa: F401
    except ImportError as exc:
        err.print(f"capgraph: drawing needs pygraphviz, which failed to import ({exc}); "
                  "`pip install pygraphviz`, or write .dot and run Graphviz yourself", markup=False)
        raise typer.Exit(1) from None


def render_command(
    path: MapArg,
    output: OutputOpt,
    at: AtOpt = None,
    unit: PictureUnitOpt = None,
    focus: Annotated[str | None, typer.Option("--focus", help="Draw only this node and its "
                                              "neighbourhood.", show_default=False)] = None,
    depth: Annotated[int | None, typer.Option("--depth", min=0, help="With --focus: how many steps "
                                              "up and down to draw [default: 1].",
                                              show_default=False)] = None,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    samples: SamplesOpt = DEFAULT_SAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    at_medians: AtMediansOpt = False,
) -> None:
    """Draw the map as a graph (.svg, .png, .pdf or .dot), coloured by each node's value."""
    from capgraph.outputs.render import FORMATS, render

    fmt = _output(output, path, FORMATS, unit)
    if fmt != "dot":
        _need_graphviz()
    if depth is not None and focus is None:
        raise typer.BadParameter("needs --focus", param_hint="--depth")
    cmap = load_map(path)
    _check_at(cmap, at, unit)
    if focus is not None:
        _check_names(cmap, [focus], "--focus")
    only = selection(cmap, select, exclude)
    mc = _monte_carlo(cmap, samples, seed, at_medians)
    _write(output, render(cmap, fmt, at=at, unit=unit, focus=focus, depth=depth, only=only, **mc))


def plot_command(
    path: MapArg,
    nodes: Annotated[list[str] | None, typer.Argument(help="Nodes to draw (default: every node with "
                                                      "a threshold); their inputs are drawn dashed.",
                                                      show_default=False)] = None,
    output: OutputOpt = ...,
    lenses: Annotated[bool, typer.Option("--lenses", help="One node's success probability under the "
                                         "identity, exact-match and multiple-choice lenses.")] = False,
    at: AtOpt = None,
    unit: PictureUnitOpt = None,
    length: Annotated[float, typer.Option("--length", callback=finite, help="With --lenses: "
                                          "exact-match answer length L.")] = LENS_LENGTH,
    options: Annotated[int, typer.Option("--options", help="With --lenses: multiple-choice options "
                                         "n.")] = LENS_OPTIONS,
    data: Annotated[bool, typer.Option("--data", help="Also the data points behind fitted curves "
                                       "and where that data ends.")] = False,
    against: Annotated[str, typer.Option("--against", "--x", help="The x axis: scale, or date (calendar "
                                         "years; needs the map's timeline).")] = "scale",
    samples: SamplesOpt = DEFAULT_SAMPLES,
    seed: SeedOpt = DEFAULT_SEED,
    at_medians: AtMediansOpt = False,
) -> None:
    """Plot value against scale (.svg, .png or .pdf): thresholds, crossings, data limit."""
    from capgraph.outputs.plot import FORMATS, check_lens_options, plot, positions

    fmt = _output(output, path, FORMATS, unit)
    if lenses:
        usage("--lenses", check_lens_options, length, options, nodes)
        for flag, given in (("--data", data), ("--against", against != "scale")):
            if given:
                raise typer.BadParameter("draws the curves picture; leave out --lenses", param_hint=flag)
    cmap = load_map(path)
    _check_at(cmap, at, unit)
    _check_names(cmap, nodes or [], "NODES")
    if not lenses:
        usage("--against", positions, cmap, against)
    extra = ({"length": length, "options": options} if lenses
             else {"data": data, "against": against, **_monte_carlo(cmap, samples, seed, at_medians)})
    _write(output, plot(cmap, fmt, nodes or None, show_lenses=lenses, at=at, unit=unit, **extra))


def report_command(path: MapArg, output: OutputOpt, at: AtOpt = None, unit: PictureUnitOpt = None,
                   select: SelectOpt = None, exclude: ExcludeOpt = None,
                   samples: SamplesOpt = DEFAULT_SAMPLES, seed: SeedOpt = DEFAULT_SEED,
                   at_medians: AtMediansOpt = False) -> None:
    """Write one self-contained HTML page: the graph, the curves, the predictions, every node."""
    from capgraph.outputs.report import report

    _output(output, path, {".html": "html", ".htm": "html"}, unit)
    _need_graphviz()
    cmap = load_map(path)
    _check_at(cmap, at, unit)
    only = selection(cmap, select, exclude)
    mc = _monte_carlo(cmap, samples, seed, at_medians)
    _write(output, report(cmap, at=at, unit=unit, only=only, **mc).encode("utf-8"))
