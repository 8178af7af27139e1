"""The ``capgraph`` command: a thin Typer layer over the library.

Each command loads a map, calls one library function and prints its result as a rich table or, with
``--json``, as JSON with stable keys. Exit status: 0 success, 1 invalid input (every problem printed
as ``file:line:col: message``), 2 usage error, 3 a bug in capgraph (with a report worth filing).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Annotated, Any

import typer
from rich.console import Console

from capgraph import __version__
from capgraph.core.errors import MapError, Problem
from capgraph.format.schema import json_schema
from capgraph.kernels.scale import AXES
from capgraph.model.capmap import DEFAULT_SAMPLES, DEFAULT_SEED, CapabilityMap, load

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Capability maps: at which scale do composite abilities cross their thresholds?",
)
# Piped output gets a fixed, generous width: stable text for scripts and tests, no truncated names.
out = Console(highlight=False,
              width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120)
err = Console(stderr=True, highlight=False)

MapArg = Annotated[str, typer.Argument(metavar="MAP", help="A capability map (YAML or JSON).",
                                       show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON with stable keys.")]


# Typer re-exports click's exceptions (newer releases vendor click), so find the base class there.
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _emit_json(payload: Any) -> None:
    # One line: the C encoder only runs without indent, and maps of 100,000 nodes need it (jq formats).
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


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
        skills = f"{counts[0]} skill" + ("s" if counts[0] != 1 else "")
        caps = f"{counts[1]} capabilit" + ("ies" if counts[1] != 1 else "y")
        out.print(f"ok: {len(maps)} {noun}, {skills}, {caps}")
    if failed:
        raise typer.Exit(1)


def _problem(p: Problem) -> dict[str, Any]:
    return {"line": p.line, "col": p.col, "severity": p.severity, "message": p.message}


@app.command()
def show(path: MapArg, as_json: JsonOpt = False) -> None:
    """Show the hierarchy as a tree: each node's curve or rule, lens and threshold."""
    cmap = _load(path)
    if as_json:
        from capgraph.outputs.terminal import describe

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
    from capgraph.outputs.terminal import hierarchy_tree

    out.print(hierarchy_tree(cmap))


SamplesOpt = Annotated[int, typer.Option("--samples", min=1, help="Monte Carlo samples for "
                                         "parameter ranges.")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0,
                                      help="Random seed: the same seed gives the same output.")]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit of the scale given: params, tokens, "
                                              "flops, or loss with a loss law (default: the map's axis).",
                                              show_default=False)]


def _check_unit(unit: str | None, allowed: tuple[str, ...] | None = None) -> None:
    """``--unit`` must name a unit: by default any (loss too, with a loss law), or one of ``allowed``."""
    from capgraph.kernels.scale import UNITS

    allowed = allowed or UNITS
    if unit is not None and unit not in allowed:
        raise typer.BadParameter(f"must be one of {', '.join(allowed)}", param_hint="--unit")


@app.command()
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
    _check_unit(unit)
    cmap = _with_options(_load(path), scenario, data_limit)
    options = {"samples": samples, "seed": seed, "by": by, "by_unit": unit}
    try:
        cmap.log_axis(by, unit) if by is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--by") from None
    if as_json:
        _emit_json(cmap.predict_json(**options))
        return
    from capgraph.outputs.terminal import outlook_table, predictions_table, progress_reporter

    with progress_reporter(out, samples if cmap.uncertain else 0) as progress:
        predictions = cmap.predict(progress=progress, **options)
    out.print(predictions_table(cmap, predictions, by=by))
    extra = outlook_table(cmap, predictions)
    if extra is not None:
        out.print(extra)


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
    from capgraph.outputs.terminal import snapshot_table

    out.print(snapshot_table(cmap, snap))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the map format (for editors and yaml-language-server)."""
    _emit_json(json_schema())


def _with_options(cmap: CapabilityMap, scenario: str | None, data_limit: str | None) -> CapabilityMap:
    """The map under ``--scenario`` and ``--data-limit``; a bad value is a usage error (exit 2)."""
    if scenario is None and data_limit is None:
        return cmap
    limit = None
    if data_limit is not None:
        from capgraph.core.units import parse_scale

        try:
            limit = parse_scale(data_limit)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--data-limit") from None
    try:
        return cmap.scenario(scenario or "baseline", data_limit=limit)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--scenario") from None
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
    from capgraph.outputs.terminal import comparison_table

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
    from capgraph.evidence import lossfit

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
    from capgraph.outputs.terminal import loss_fit_summary, loss_fit_table

    out.print(loss_fit_table(result))
    out.print(loss_fit_summary(result), markup=False)
    out.print(result.yaml_snippet(), markup=False, end="")


# --- from evaluation results to curves: fit, backtest, lens, audit ---------------------------------

DataArg = Annotated[str, typer.Argument(help="Results file: CSV (header row) or JSON Lines.",
                                        show_default=False)]
XOpt = Annotated[str, typer.Option("--x", help="Column of the scale (params, tokens or FLOPs).",
                                   show_default=False)]
YOpt = Annotated[str, typer.Option("--y", help="Column of the score, in [0, 1].", show_default=False)]
WhereOpt = Annotated[list[str] | None, typer.Option(
    "--where", help="Keep rows with COLUMN=VALUE (repeatable).", show_default=False)]
CurveOpt = Annotated[str, typer.Option("--curve", help="Curve family: logistic or power_law.")]
FloorOpt = Annotated[float, typer.Option("--floor", help="Fixed floor of a logistic (0.25 for "
                                         "four-option multiple choice).")]
CeilingOpt = Annotated[str, typer.Option("--ceiling", help="Fixed ceiling of a logistic, or 'free' "
                                         "to fit it.")]
BootOpt = Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap refits for the 90% "
                                      "intervals (0: none).")]
BootSeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the bootstrap's resampling.")]


def _say(text: str) -> None:
    """One plain line on stdout: no wrapping, so long column names stay on their line."""
    sys.stdout.write(text + "\n")


def _fit_options(curve: str, floor: float, ceiling: str):
    from capgraph.evidence.fit import FitOptions

    if ceiling.strip().lower() == "free":
        top = None
    else:
        try:
            top = float(ceiling)
        except ValueError:
            raise typer.BadParameter(f"expected a number or 'free', got {ceiling!r}",
                                     param_hint="--ceiling") from None
    try:
        return FitOptions(curve, floor, top)
    except ValueError as exc:
        hint = "--curve" if "unknown curve" in str(exc) else "--floor/--ceiling"
        raise typer.BadParameter(str(exc), param_hint=hint) from None


def _where(items: list[str] | None) -> dict[str, str]:
    from capgraph.evidence.data import parse_where

    try:
        return parse_where(items or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--where") from None


def _data_call(path: str, call):
    """Run ``call()``; data problems print as file:line:col and a failed fit as one line, exit 1."""
    from capgraph.evidence.fit import FitError

    try:
        return call()
    except MapError as exc:
        _warn(exc.problems)
    except FitError as exc:
        sys.stderr.write(f"{path}: {exc}\n")
    raise typer.Exit(1)


@app.command()
def fit(
    data: DataArg, x: XOpt, y: YOpt, where: WhereOpt = None, curve: CurveOpt = "logistic",
    floor: FloorOpt = 0.0, ceiling: CeilingOpt = "1", bootstrap: BootOpt = 1000, seed: BootSeedOpt = 0,
    point: Annotated[bool, typer.Option("--point", help="Write point estimates instead of 90% "
                                        "ranges in the YAML snippet.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fit a curve to results; print it as a map's curve: block with 90% bootstrap ranges."""
    from capgraph.evidence.fitmap import fit_file

    opts = _fit_options(curve, floor, ceiling)
    conditions = _where(where)
    result = _data_call(data, lambda: fit_file(data, x, y, opts, where=conditions, n_bootstrap=bootstrap,
                                               seed=seed))
    if as_json:
        _emit_json(result.to_json())
        return
    sys.stdout.write(result.yaml_snippet(ranges=not point))
    ranges = (f"90% ranges from {bootstrap} bootstrap refits (seed {seed})" if bootstrap and not point
              else "point estimates")
    sys.stdout.write(f"# {y} against {x}: {ranges}; rmse {result.fit.rmse:.4g}, "
                     f"{result.fit.n_used} rows used, {result.n_skipped} skipped\n")


@app.command()
def backtest(
    data: DataArg, x: XOpt, y: YOpt,
    cutoff: Annotated[str, typer.Option("--cutoff", help="Train on rows with x at or below this "
                                        "scale, test on the rest.", show_default=False)],
    where: WhereOpt = None, curve: CurveOpt = "logistic", floor: FloorOpt = 0.0,
    ceiling: CeilingOpt = "1",
    threshold: Annotated[float | None, typer.Option("--threshold", help="Compare the predicted and "
                                                    "observed crossing of this score.")] = None,
    bootstrap: BootOpt = 1000, seed: BootSeedOpt = 0, as_json: JsonOpt = False,
) -> None:
    """Fit on the small end, predict the large end: error, band coverage, crossing error."""
    from capgraph.core.units import human, parse_scale
    from capgraph.evidence.backtest import backtest_table
    from capgraph.evidence.data import read_table

    opts = _fit_options(curve, floor, ceiling)
    conditions = _where(where)
    try:
        cut = parse_scale(cutoff)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cutoff") from None
    if threshold is not None and not 0 < threshold < 1:
        raise typer.BadParameter("must lie strictly between 0 and 1", param_hint="--threshold")
    result = _data_call(data, lambda: backtest_table(
        read_table(data), x, y, cut, opts, where=conditions, threshold=threshold,
        n_bootstrap=bootstrap, seed=seed))
    if as_json:
        _emit_json(result.to_json())
        return
    params = ", ".join(f"{k} {v:.4g}" for k, v in result.fit.params.items())
    _say(f"trained on {result.n_train} rows with {x} ≤ {human(cut)}: {result.fit.curve} ({params})")
    _say(f"tested on {result.n_test} rows above: mean absolute error {result.mae:.4f}, "
         f"{result.coverage:.0%} inside the 90% band")
    if threshold is not None:
        err_dec = result.crossing_error_decades
        predicted = ("never (the fitted curve stays below it)" if result.crossing_predicted is None
                     else human(result.crossing_predicted))
        observed = ("not reached in the held-out rows" if result.crossing_observed is None
                    else human(result.crossing_observed))
        _say(f"crossing {threshold:g}: predicted {predicted}, observed {observed}"
             + (f", off by {err_dec:+.2f} decades" if err_dec is not None else ""))


@app.command()
def lens(
    data: DataArg, x: XOpt, y: YOpt,
    length: Annotated[float, typer.Option("--length", help="Answer length L in tokens or steps.",
                                          show_default=False)],
    where: WhereOpt = None, curve: CurveOpt = "logistic", as_json: JsonOpt = False,
) -> None:
    """The metric mirage: exact-match scores beside their per-step curve score^(1/L)."""
    from capgraph.core.units import human
    from capgraph.evidence.data import read_table
    from capgraph.evidence.mirage import lens_table

    if not length > 0:
        raise typer.BadParameter("must be positive", param_hint="--length")
    opts = _fit_options(curve, 0.0, "1")
    conditions = _where(where)
    result = _data_call(data, lambda: lens_table(read_table(data), x, y, length, opts, where=conditions))
    if as_json:
        _emit_json(result.to_json())
        return
    rows = ((f"observed ({y})", result.observed), (f"per step ({y}^(1/{length:g}))", result.per_step))
    width = max(len(label) for label, _ in rows)
    _say(f"{'curve':<{width}}  {'sharpness (decades)':>19}  {'crosses 0.5 at':>14}")
    for label, view in rows:
        _say(f"{label:<{width}}  {view.sharpness_decades:>19.2f}  {human(view.half_scale):>14}")
    _say(f"the observed curve is {result.sharpness_ratio:.2f}× as sharp as the per-step curve "
         f"({result.n_used} rows used, {result.n_skipped} skipped; {result.n_zero} with score 0 left "
         "out of the per-step fit)")


@app.command()
def audit(
    path: MapArg,
    data: Annotated[str, typer.Option("--data", help="Results with a score column per node.",
                                      show_default=False)],
    x: XOpt, where: WhereOpt = None, as_json: JsonOpt = False,
) -> None:
    """Does the declared decomposition fit? Each capability's rule against the alternatives."""
    from capgraph.evidence.audit import audit as run_audit
    from capgraph.evidence.data import read_table

    conditions = _where(where)
    cmap = _load(path)
    result = _data_call(data, lambda: run_audit(cmap, read_table(data), x, where=conditions))
    if as_json:
        _emit_json(result.to_json())
        return
    for c in result.capabilities:
        errors = ", ".join(f"{k} {v:.4f}" for k, v in sorted(c.rmse.items(), key=lambda kv: kv[1]))
        _say(f"{c.name} (declared {c.declared}, {c.n_rows} rows, {c.n_skipped} skipped): best {c.best}, "
             f"{c.improvement:.4f} lower RMSE than declared; {c.verdict.replace('_', ' ')} "
             f"than the naive product (mean gap {c.naive_gap:+.3f})")
        _say(f"  RMSE: {errors}")
        if c.exponents:
            _say("  fitted exponents: " + ", ".join(f"{k} {v:.3g}" for k, v in c.exponents.items()))
    for name, why in result.skipped.items():
        _say(f"{name}: not audited ({why})")


# --- pictures: render, plot, report ------------------------------------------------------------------

OutputOpt = Annotated[str, typer.Option("-o", "--output", help="The file to write; its extension "
                                        "names the format.", show_default=False)]
AtOpt = Annotated[str | None, typer.Option("--at", help="Show values at this scale (e.g. 70B, "
                                           "1e24), in --unit.", show_default=False)]
PictureUnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit of --at and of the scales shown: "
                                             "params, tokens or flops (default: the map's axis).",
                                             show_default=False)]


def _check_at(cmap: CapabilityMap, at: str | None, unit: str | None) -> None:
    if at is not None:
        try:
            cmap.log_axis(at, unit)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--at") from None


def _check_names(cmap: CapabilityMap, names: list[str], hint: str) -> None:
    from capgraph.core.suggest import did_you_mean

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
    from capgraph.core.files import write_atomic

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
    unit: PictureUnitOpt = None,
    focus: Annotated[str | None, typer.Option("--focus", help="Draw only this node and its "
                                              "neighbourhood.", show_default=False)] = None,
    depth: Annotated[int | None, typer.Option("--depth", min=0, help="With --focus: how many steps "
                                              "up and down to draw [default: 1].",
                                              show_default=False)] = None,
) -> None:
    """Draw the map as a graph (.svg, .png, .pdf or .dot), coloured by each node's value."""
    from capgraph.outputs.render import FORMATS, render

    fmt = _format(output, FORMATS)
    _check_unit(unit, AXES)  # pictures run against params, tokens or FLOPs, not loss
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
    unit: PictureUnitOpt = None,
    length: Annotated[float, typer.Option("--length", help="With --lenses: exact-match answer length "
                                          "L.")] = 10.0,
    options: Annotated[int, typer.Option("--options", help="With --lenses: multiple-choice options "
                                         "n.")] = 4,
) -> None:
    """Plot value against scale (.svg, .png or .pdf): thresholds, crossings, data limit."""
    from capgraph.outputs.plot import FORMATS, plot

    fmt = _format(output, FORMATS)
    _check_unit(unit, AXES)  # pictures run against params, tokens or FLOPs, not loss
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
def report_command(path: MapArg, output: OutputOpt, at: AtOpt = None, unit: PictureUnitOpt = None) -> None:
    """Write one self-contained HTML page: the graph, the curves, the predictions, every node."""
    from capgraph.outputs.report import report

    _format(output, {".html": "html", ".htm": "html"})
    _check_unit(unit, AXES)  # pictures run against params, tokens or FLOPs, not loss
    _need_graphviz()
    cmap = _load(path)
    _check_at(cmap, at, unit)
    _write(output, report(cmap, at=at, unit=unit).encode("utf-8"))


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
