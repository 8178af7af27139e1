"""Commands over evaluation results: fit, backtest, lens, audit, fit-loss."""

from __future__ import annotations

import math
import sys
from typing import Annotated

import typer

from capgraph.cli.common import JsonOpt, MapArg, emit_json, err, finite, load_map, out, say, usage, warn
from capgraph.core.defaults import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_CURVE,
    DEFAULT_SEED,
    LOSS_RESAMPLES,
    MIN_TOKENS_PER_PARAM,
)
from capgraph.core.errors import MapError
from capgraph.core.text import printable
from capgraph.core.units import parse_scale

# Each command imports the library it needs in its body: `capgraph --help` loads none of it (start-up).

DataArg = Annotated[str, typer.Argument(help="Results file: CSV (header row) or JSON Lines.",
                                        show_default=False)]

XOpt = Annotated[str, typer.Option("--x", help="Column of the scale (params, tokens or FLOPs), or "
                                   "an expression of columns.",
                                   show_default=False)]

YOpt = Annotated[str, typer.Option("--y", help="Column of the score, in [0, 1], or an expression of "
                                   "columns such as '1 / ppl'.", show_default=False)]

WhereOpt = Annotated[list[str] | None, typer.Option(
    "--where", help="Keep rows with COLUMN=VALUE (repeatable).", show_default=False)]

CurveOpt = Annotated[str, typer.Option("--curve", help="Curve family: logistic or power_law.")]

FloorOpt = Annotated[float, typer.Option("--floor", callback=finite, help="Fixed floor of a logistic "
                                         "(0.25 for four-option multiple choice).")]

CeilingOpt = Annotated[str, typer.Option("--ceiling", help="Fixed ceiling of a logistic, or 'free' "
                                         "to fit it.")]

BootOpt = Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap refits for the 90% "
                                      "intervals (0: none).")]

BootSeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the bootstrap's resampling.")]


def _options(curve: str, floor: float, ceiling: str):
    """The fit options asked for; the library's checks become usage errors on the right option."""
    from capgraph.evidence.fit import CURVES, FitOptions, parse_ceiling

    top = usage("--ceiling", parse_ceiling, ceiling)
    return usage("--curve" if curve not in CURVES else "--floor/--ceiling", FitOptions, curve, floor, top)


def _where(items: list[str] | None) -> dict[str, str]:
    from capgraph.evidence.data import parse_where

    return usage("--where", parse_where, items or [])


def _data_call(path: str, call, failures: tuple[type[Exception], ...] = ()):
    """Run ``call()``; data problems print as file:line:col and a failed fit (or one of
    ``failures``) as one line naming the file, exit 1."""
    from capgraph.evidence.fit import FitError

    try:
        return call()
    except MapError as exc:
        warn(exc.problems)
    except (FitError, *failures) as exc:
        sys.stderr.write(printable(f"{path}: {exc}") + "\n")
    raise typer.Exit(1)


CapabilityOpt = Annotated[list[str] | None, typer.Option(
    "--capability", help="Benchmark column for the capability score (repeatable): fit against their "
    "first principal component instead of compute.", show_default=False)]

FamilyOpt = Annotated[str | None, typer.Option(
    "--family", help="Column naming each model's family: shrunk per-family efficiency offsets, and "
    "whole families left out when measuring the scatter.", show_default=False)]


def fit_loss(
    data: Annotated[str, typer.Argument(help="Results file of training runs: CSV or JSON Lines.",
                                        show_default=False)],
    params: Annotated[str, typer.Option(help="Column of parameter counts N.", show_default=False)],
    tokens: Annotated[str, typer.Option(help="Column of training tokens D.", show_default=False)],
    loss: Annotated[str, typer.Option(help="Column of final pretraining loss L.", show_default=False)],
    resamples: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for the intervals.")
                         ] = LOSS_RESAMPLES,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap.")] = DEFAULT_SEED,
    min_tokens_per_param: Annotated[float, typer.Option(
        min=0.0, callback=finite, help="Drop runs trained on fewer tokens a parameter than this (outliers).")
    ] = MIN_TOKENS_PER_PARAM,
    as_json: JsonOpt = False,
) -> None:
    """Fit L(N, D) = E + A/N^α + B/D^β (Besiroglu et al. 2024) and print it for scale.allocation."""
    from capgraph.evidence import lossfit
    from capgraph.outputs.terminal import progress_reporter

    usage("--params/--tokens/--loss", lossfit.check_roles, params, tokens, loss)
    # a bar on stderr, on a terminal only, once the fit takes over a second: silent in pipes and --json
    with progress_reporter(err, 0 if as_json else resamples + 1, label="fitting") as progress:
        result = _data_call(data, lambda: lossfit.fit_loss(
            lossfit.read_runs(data, params, tokens, loss), min_tokens_per_param=min_tokens_per_param,
            resamples=resamples, seed=seed, progress=progress),
            failures=(ValueError,))  # runs that do not determine the law
    if as_json:
        emit_json(result.to_json())
        return
    from capgraph.outputs.evidence import loss_fit_summary, loss_fit_table

    out.print(loss_fit_table(result))
    out.print(loss_fit_summary(result), markup=False)
    out.print(result.yaml_snippet(), markup=False, end="")


def fit(
    data: Annotated[list[str], typer.Argument(metavar="DATA", help="Results: a CSV or JSON Lines "
                                              "table, or evaluation-harness files, folders or globs "
                                              "(with --models).", show_default=False)],
    x: XOpt, y: YOpt, where: WhereOpt = None, curve: CurveOpt = DEFAULT_CURVE,
    floor: FloorOpt = 0.0, ceiling: CeilingOpt = "1", bootstrap: BootOpt = DEFAULT_BOOTSTRAP,
    seed: BootSeedOpt = DEFAULT_SEED,
    point: Annotated[bool, typer.Option("--point", help="Write point estimates instead of 90% "
                                        "ranges in the YAML snippet.")] = False,
    models: Annotated[str | None, typer.Option("--models", help="Table of model facts joined to "
                                               "harness results (see capgraph results).",
                                               show_default=False)] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="Average subtasks into one task: "
                                                    "NAME=PATTERN (repeatable).",
                                                    show_default=False)] = None,
    weights: Annotated[str, typer.Option("--weights", help="Weigh rows by standard error: auto "
                                         "(when every row has one), stderr or none.")] = "auto",
    capability: CapabilityOpt = None, family: FamilyOpt = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="With --capability or --family: where the curve crosses this score, in "
        "score units and FLOPs.")] = None,
    reference: Annotated[str | None, typer.Option(
        "--reference", help="Family whose crossing to report (default: the typical family).")] = None,
    x_unit: Annotated[float, typer.Option(
        "--x-unit", help="FLOPs in one unit of the --x column (1e21 for a column in 1e21 FLOPs).")] = 1.0,
    lens: Annotated[str | None, typer.Option(
        "--lens", help="Fit the success probability behind the metric: exact_match:L, "
        "multiple_choice:N or pass_at:K.", show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit a curve to results; print it as a map's curve: block with 90% bootstrap ranges."""
    _check_threshold(threshold)
    if lens is not None:
        if capability or family or len(data) != 1 or models or group:
            raise typer.BadParameter("--lens takes one results table, without --capability or "
                                     "--family", param_hint="--lens")
        return _fit_lens(data[0], x, y, _options(curve, floor, ceiling), _where(where), lens,
                         bootstrap, seed, point, as_json)
    if capability or family:
        if len(data) != 1 or models or group:
            raise typer.BadParameter("--capability and --family take one results table",
                                     param_hint="--capability/--family")
        return _fit_forecast(data[0], x, y, _options(curve, floor, ceiling), _where(where),
                             capability or [], family, bootstrap, seed, threshold, reference, x_unit,
                             as_json)
    from capgraph.evidence.fitmap import WEIGHTS, fit_file
    from capgraph.evidence.harness import parse_groups
    from capgraph.outputs.evidence import fit_text

    opts, conditions = _options(curve, floor, ceiling), _where(where)
    if weights not in WEIGHTS:
        raise typer.BadParameter(f"must be one of {', '.join(WEIGHTS)}", param_hint="--weights")
    groups = usage("--group", parse_groups, group or [])
    from capgraph.outputs.terminal import progress_reporter

    # a bar on stderr, on a terminal only, once the refits take over a second: silent in pipes and --json
    with progress_reporter(err, 0 if as_json else bootstrap, label="fitting") as progress:
        result = _data_call(data[0], lambda: fit_file(data, x, y, opts, where=conditions,
                                                      n_bootstrap=bootstrap, seed=seed, weights=weights,
                                                      models=models, groups=groups, progress=progress))
    if as_json:
        emit_json(result.to_json())
        return
    say(fit_text(result, x, y, ranges=not point, seed=seed))


def _fit_lens(data, x, y, opts, conditions, lens, bootstrap, seed, point, as_json) -> None:
    from capgraph.evidence.data import read_table
    from capgraph.evidence.lensfit import fit_through_table, parse_lens

    try:
        spec = parse_lens(lens)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lens") from None
    result = _data_call(data, lambda: fit_through_table(read_table(data), x, y, opts, spec,
                                                        where=conditions, n_bootstrap=bootstrap,
                                                        seed=seed))
    if as_json:
        emit_json({**result.to_json(), "metric": spec.metric()})
        return
    sys.stdout.write(result.yaml_snippet(ranges=not point) + spec.metric_yaml() + "\n")
    sys.stdout.write(f"# p behind {y} (through {lens}) against {x}: rmse {result.fit.rmse:.4g} in score "
                     f"units, {result.fit.n_used} rows used, {result.n_skipped} skipped\n")


def _fit_forecast(data, x, y, opts, conditions, capability, family, bootstrap, seed, threshold,
                  reference, x_unit, as_json) -> None:
    from capgraph.evidence.data import read_table
    from capgraph.evidence.forecast import forecast_table
    from capgraph.outputs.forecasting import crossing_json, forecast_json, forecast_lines

    if not x_unit > 0:
        raise typer.BadParameter("must be positive", param_hint="--x-unit")
    forecast, rows = _data_call(data, lambda: forecast_table(
        read_table(data), x, y, opts, capability_cols=capability, family_column=family,
        where=conditions, n_bootstrap=bootstrap, seed=seed))
    crossing = (crossing_json(forecast, threshold, reference, math.log10(x_unit))
                if threshold is not None else None)
    if as_json:
        emit_json(forecast_json(forecast, rows, crossing))
        return
    for line in forecast_lines(forecast, rows, y, x, crossing):
        say(line)


def _check_threshold(threshold: float | None) -> None:
    if threshold is not None and not 0 < threshold < 1:
        raise typer.BadParameter("must lie strictly between 0 and 1", param_hint="--threshold")


def backtest(
    data: Annotated[str, typer.Argument(
        help="Results file (CSV or JSON Lines); or, with --data, a map whose curves to back-test.",
        show_default=False)],
    x: XOpt,
    cutoff: Annotated[str, typer.Option("--cutoff", help="Train on rows with x at or below this "
                                        "scale, test on the rest.", show_default=False)],
    y: Annotated[str | None, typer.Option("--y", help="Column of the score, in [0, 1] (results "
                                          "file form).", show_default=False)] = None,
    results: Annotated[str | None, typer.Option(
        "--data", help="Results with a score column per node: back-test the map given as the "
        "argument.", show_default=False)] = None,
    where: WhereOpt = None, curve: CurveOpt = DEFAULT_CURVE, floor: FloorOpt = 0.0,
    ceiling: CeilingOpt = "1",
    threshold: Annotated[float | None, typer.Option("--threshold", callback=finite,
                                                    help="Compare the predicted and observed "
                                                    "crossing of this score.")] = None,
    capability: CapabilityOpt = None, family: FamilyOpt = None,
    bootstrap: BootOpt = DEFAULT_BOOTSTRAP, seed: BootSeedOpt = DEFAULT_SEED, as_json: JsonOpt = False,
) -> None:
    """Fit on the small end, predict the large end: error, band coverage, crossing error.

    capgraph backtest DATA --x COL --y COL --cutoff SCALE, or capgraph backtest MAP --data DATA
    --x COL --cutoff SCALE to back-test every node of a map that has a column in DATA.
    """

    try:
        cut = parse_scale(cutoff)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cutoff") from None
    _check_threshold(threshold)
    conditions = _where(where)
    if results is not None:
        if y is not None or capability or family:
            raise typer.BadParameter("a map back-test takes each node's own column; --y, "
                                     "--capability and --family belong to the results-file form",
                                     param_hint="--data")
        return _backtest_map(data, results, x, cut, conditions, bootstrap, seed, as_json)
    if y is None:
        raise typer.BadParameter("give the score column (or --data RESULTS to back-test a map)",
                                 param_hint="--y")
    _backtest_table(data, x, y, cut, _options(curve, floor, ceiling), conditions, threshold,
                    capability or [], family, bootstrap, seed, as_json)


def _backtest_table(data, x, y, cut, opts, conditions, threshold, capability, family, bootstrap, seed,
                    as_json) -> None:
    from capgraph.core.units import human
    from capgraph.evidence.backtest import backtest_forecast_table, backtest_table
    from capgraph.evidence.data import read_table
    from capgraph.outputs.forecasting import baseline_line, large_backtest_line, params_text
    from capgraph.outputs.terminal import progress_reporter

    # a bar on stderr, on a terminal only, once the refits take over a second: silent in pipes and --json
    refits = bootstrap * (2 if capability or family else 1)  # with a compute-only baseline beside it
    with progress_reporter(err, 0 if as_json else refits, label="bootstrap") as progress:
        if capability or family:
            result = _data_call(data, lambda: backtest_forecast_table(
                read_table(data), x, y, cut, opts, capability_cols=capability, family_column=family,
                where=conditions, threshold=threshold, n_bootstrap=bootstrap, seed=seed,
                progress=progress))
        else:
            result = _data_call(data, lambda: backtest_table(
                read_table(data), x, y, cut, opts, where=conditions, threshold=threshold,
                n_bootstrap=bootstrap, seed=seed, progress=progress))
    if as_json:
        emit_json(result.to_json())
        return
    params = params_text(result)
    on = "the capability score" if result.axis == "capability" else x
    say(f"trained on {result.n_train} rows with {x} ≤ {human(cut)}: {result.fit.curve} against {on} "
        f"({params})")
    say(f"tested on {result.n_test} rows above: mean absolute error {result.mae:.4f}, "
         f"{result.coverage:.0%} inside the 90% band for new models")
    if result.baseline is not None:
        say(baseline_line(result))
    if threshold is not None:
        err_dec = result.crossing_error_decades
        predicted = ("never (the fitted curve stays below it)" if result.crossing_predicted is None
                     else human(result.crossing_predicted))
        observed = ("not reached in the held-out rows" if result.crossing_observed is None
                    else human(result.crossing_observed))
        say(f"crossing {threshold:g}: predicted {predicted}, observed {observed}"
             + (f", off by {err_dec:+.2f} decades" if err_dec is not None else ""))
    if result.large_table is not None:
        say(large_backtest_line(result))


def _backtest_map(path, data, x, cut, conditions, bootstrap, seed, as_json) -> None:
    from capgraph.evidence.data import read_table
    from capgraph.evidence.mapbacktest import backtest_map
    from capgraph.outputs.forecasting import map_backtest_lines

    result = _data_call(data, lambda: backtest_map(path, read_table(data), x, cut, where=conditions,
                                                   n_bootstrap=bootstrap, seed=seed))
    if as_json:
        emit_json(result.to_json())
        return
    for line in map_backtest_lines(result):
        say(line)


def lens(
    data: DataArg, x: XOpt, y: YOpt,
    length: Annotated[float, typer.Option("--length", callback=finite,
                                          help="Answer length L in tokens or steps.",
                                          show_default=False)],
    where: WhereOpt = None, curve: CurveOpt = DEFAULT_CURVE, as_json: JsonOpt = False,
) -> None:
    """The metric mirage: the per-step curve fitted once, exact match derived as its L-th power."""
    from capgraph.evidence.data import read_table
    from capgraph.evidence.mirage import check_length, lens_table

    usage("--length", check_length, length)
    opts, conditions = _options(curve, 0.0, "1"), _where(where)
    result = _data_call(data, lambda: lens_table(read_table(data), x, y, length, opts, where=conditions))
    if as_json:
        emit_json(result.to_json())
        return
    from capgraph.outputs.forecasting import lens_lines

    for line in lens_lines(result, y):
        say(line)


def audit(
    path: MapArg,
    data: Annotated[str, typer.Option("--data", help="Results with a score column per node.",
                                      show_default=False)],
    x: XOpt, where: WhereOpt = None, as_json: JsonOpt = False,
) -> None:
    """Does the declared decomposition fit? Each capability's rule against the alternatives."""
    from capgraph.evidence.audit import audit as run_audit
    from capgraph.evidence.data import read_table
    from capgraph.outputs.evidence import audit_text

    conditions = _where(where)
    cmap = load_map(path)
    result = _data_call(data, lambda: run_audit(cmap, read_table(data), x, where=conditions))
    if as_json:
        emit_json(result.to_json())
        return
    say(audit_text(result))
