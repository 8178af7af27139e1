"""Fits from results files: the library behind ``capgraph fit``, and ``curve: {fit: ...}`` in maps.

:func:`fit_table` fits one curve to the rows of a :class:`~capgraph.data.Table`; :func:`fit_file`
does the same from a path through the on-disk cache (:mod:`capgraph.evidence.fitcache`); and
:func:`resolve_fits` replaces every ``fit:`` curve of a validated map by the concrete ``logistic`` or
``power_law`` curve fitted to its data, so the engine never sees a ``fit``. Problems in a ``fit:``
block are located at the map's key or value concerned, as ``map.yaml:line:col: message``.
"""

from __future__ import annotations

import glob
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from capgraph.core.errors import MapError, Problem
from capgraph.core.suggest import did_you_mean
from capgraph.evidence import fitcache
from capgraph.evidence.bands import widen_midpoint
from capgraph.evidence.data import Table, file_digest
from capgraph.evidence.expr import ExpressionError, derive, parse
from capgraph.evidence.fit import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_OPTIONS,
    DEFAULT_SEED,
    Fit,
    FitError,
    FitOptions,
    FitResult,
    fit_with_intervals,
    min_rows,
)
from capgraph.evidence.forecast import forecast_table, map_curve
from capgraph.evidence.harness import COLUMNS, read_data
from capgraph.format.schema import Curve, FitSpec, MapSpec
from capgraph.format.source import Document, load_document
from capgraph.format.validate import validate
from capgraph.kernels.curves import FAMILIES

#: How a fit weighs rows: by standard error when every row has one (``auto``), always, or never.
WEIGHTS = ("auto", "stderr", "none")


def fit_table(table: Table, x: str, y: str, opts: FitOptions = DEFAULT_OPTIONS, *,
              where: Mapping[str, Any] | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
              seed: int = DEFAULT_SEED, weights: str = "auto",
              progress: Callable[[int], None] | None = None) -> FitResult:
    """Fit ``y`` against log10 of ``x`` over the rows matching ``where``.

    ``x`` and ``y`` are columns or arithmetic expressions of columns (:mod:`capgraph.evidence.expr`).
    Rows with a missing or non-numeric value, or a non-positive scale, are skipped and counted.
    ``weights`` (see :func:`standard_errors`) says whether rows are weighed by their standard errors;
    the result's ``weights`` says which was used.
    Raises :class:`MapError` (naming the file) for unknown columns, scores outside [0, 1] and too
    few usable rows, and :class:`~capgraph.fit.FitError` when the fit does not converge.
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    rows = table.where(where or {})
    try:
        rows, x = derive(rows, x)
        rows, y = derive(rows, y)
    except MapError as exc:
        if set(COLUMNS) <= set(table.columns) and "flops" not in table.columns:  # harness rows alone
            raise MapError([replace(p, message=f"{p.message}; harness results name models but not their "
                                    "size: join a table of model facts (--models, or models: in fit:)")
                            for p in exc.problems]) from None
        raise
    cols = rows.numeric(x, y, positive=[x])
    cols.require_fraction(y)
    need = min_rows(opts)
    if cols.n_used < need:
        raise MapError([Problem(table.path, 1, 1, _too_few(cols.n_used, cols.n_skipped, need, opts, where))])
    sigma = standard_errors(rows, x, y, cols.n_used, weights)
    return fit_with_intervals(np.log10(cols[x]), cols[y], opts, n_bootstrap=n_bootstrap, seed=seed,
                              n_skipped=cols.n_skipped, sigma=sigma, scatter=True, progress=progress)


def stderr_column(table: Table, y: str) -> str | None:
    """The column holding ``y``'s standard error: ``<y>_stderr``, or ``stderr`` beside ``value``."""
    for name in (f"{y}_stderr", "stderr" if y == "value" else None):
        if name and name in table.columns:
            return name
    return None


def standard_errors(rows: Table, x: str, y: str, n_used: int, weights: str) -> np.ndarray | None:
    """Each usable row's standard error of ``y`` for a weighted fit, or None for an unweighted one.

    ``auto`` weighs only when every usable row has a standard error; ``stderr`` insists (a row
    without one is a problem); ``none`` never weighs. A standard error of 0 (a score of exactly 0
    or 1 on a binomial metric) is raised to the smallest positive one, so no row weighs infinitely.
    """
    if weights == "none":
        return None
    column = stderr_column(rows, y)
    if column is None:
        if weights == "stderr":
            also = " or 'stderr'" if y == "value" else ""
            raise MapError([Problem(rows.path, 1, 1, f"weights: stderr, but there is no column "
                                                     f"'{y}_stderr'{also}")])
        return None
    with_se = rows.numeric(x, y, column, positive=[x])
    se = with_se[column] if with_se.n_used == n_used else None
    if se is None or not (se > 0).any() or (se < 0).any():
        if weights == "stderr":
            raise MapError([Problem(rows.path, 1, 1, f"weights: stderr, but {n_used - with_se.n_used} of the "
                                                     f"{n_used} usable rows have no standard error in "
                                                     f"'{column}' (or none is positive)")])
        return None
    return np.maximum(se, se[se > 0].min())


def _too_few(used: int, skipped: int, need: int, opts: FitOptions, where) -> str:
    filt = f" matching {', '.join(f'{k}={v}' for k, v in where.items())}" if where else ""
    return (f"only {used} usable row(s){filt} ({skipped} skipped: missing, non-numeric or "
            f"non-positive scale); a {opts.curve} fit needs at least {need}")


def fit_file(path: str | Path | Sequence[str | Path], x: str, y: str, opts: FitOptions = DEFAULT_OPTIONS, *,
             where: Mapping[str, Any] | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
             seed: int = DEFAULT_SEED, use_cache: bool = True, weights: str = "auto",
             models: str | Path | None = None, groups: Mapping[str, Any] | None = None,
             base: Path | None = None, progress: Callable[[int], None] | None = None) -> FitResult:
    """:func:`fit_table` on results read by :func:`~capgraph.evidence.harness.read_data`.

    ``path`` is a CSV or JSON Lines table, or harness result files (files, folders, globs) joined
    with the ``models`` table and averaged into ``groups``. Fits are cached on disk by the content
    of every file read and every option.
    """
    one = path if isinstance(path, str | Path) else path[0] if len(path) == 1 else None
    if use_cache and one is not None:  # a hit costs the file's hash, not its parsing
        hit = cached_fit(one, x, y, opts, where=where, n_bootstrap=n_bootstrap, seed=seed,
                         weights=weights, models=models, groups=groups, base=base)
        if hit is not None:
            return hit
    table = read_data([path] if isinstance(path, str | Path) else path, models=models, groups=groups,
                      base=base)
    return fit_cached(table, x, y, opts, where=where, n_bootstrap=n_bootstrap, seed=seed,
                      use_cache=use_cache, weights=weights, progress=progress)


def fit_cached(table: Table, x: str, y: str, opts: FitOptions = DEFAULT_OPTIONS, *,
               where: Mapping[str, Any] | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
               seed: int = DEFAULT_SEED, use_cache: bool = True, weights: str = "auto",
               progress: Callable[[int], None] | None = None) -> FitResult:
    """:func:`fit_table`, cached on disk by the table's digest (its files' content) and every option."""
    if not use_cache:
        return fit_table(table, x, y, opts, where=where, n_bootstrap=n_bootstrap, seed=seed,
                         weights=weights, progress=progress)
    key = fitcache.cache_key(table.digest, _options(x, y, opts, where, n_bootstrap, seed, weights))
    value, _ = fitcache.cached(
        key,
        lambda: fit_table(table, x, y, opts, where=where, n_bootstrap=n_bootstrap, seed=seed,
                          weights=weights, progress=progress).record(),
        valid=lambda v: result_from_json(v, opts) is not None,
    )
    result = result_from_json(value, opts)
    if result is None:  # only a fit that fails the checks it would fail as a map's curve gets here
        raise FitError("the fitted parameters are not a valid curve")
    return result


def _options(x: str, y: str, opts: FitOptions, where: Mapping[str, Any] | None, n_bootstrap: int,
             seed: int, weights: str) -> dict[str, Any]:
    return {"x": x, "y": y, "where": {str(k): str(v) for k, v in sorted((where or {}).items())},
            "fit": opts.key(), "bootstrap": n_bootstrap, "seed": seed, "weights": weights, "scatter": 1}


def cached_fit(path: str | Path, x: str, y: str, opts: FitOptions = DEFAULT_OPTIONS, *,
               where: Mapping[str, Any] | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
               seed: int = DEFAULT_SEED, weights: str = "auto", models: str | Path | None = None,
               groups: Mapping[str, Any] | None = None, base: Path | None = None) -> FitResult | None:
    """The fit :func:`fit_file` would return for one CSV or JSON Lines table, if the cache holds a
    valid one; else None (harness results, globs and folders are not looked up here).

    Costs a streamed hash of the file and one small read: the data file is not parsed, so a cache
    hit on a million-row file takes a fraction of a second.
    """
    text = str(path)
    file = Path(text) if base is None or Path(text).is_absolute() else base / text
    if models is not None or groups or glob.has_magic(text) or file.suffix.lower() == ".json" \
            or file.is_dir():
        return None
    key = fitcache.cache_key(file_digest(file), _options(x, y, opts, where, n_bootstrap, seed, weights))
    value = fitcache.read(key, quiet=True)
    # an invalid entry is a miss here; fit_cached, which refits, says it ignored it
    return None if value is None else result_from_json(value, opts)


def result_from_json(value: Mapping[str, Any], opts: FitOptions) -> FitResult | None:
    """Rebuild a :class:`FitResult` from :meth:`FitResult.record`; None if it has the wrong shape."""
    try:
        (curve, params), = value["curve"].items()
        names = FAMILIES[curve].names
        if curve != opts.curve or set(params) != set(names) or not set(value["intervals"]) <= set(names):
            return None
        # canonical order, whatever order the cache file kept: hits and misses print the same bytes
        params = {k: float(params[k]) for k in names}
        intervals = {k: (float(value["intervals"][k][0]), float(value["intervals"][k][1]))
                     for k in opts.free if k in value["intervals"]}
        n_used, n_skipped, rmse = value["n_used"], value["n_skipped"], float(value["rmse"])
        if not (_count(n_used, 1) and _count(n_skipped, 0) and math.isfinite(rmse) and rmse >= 0):
            return None
        if any(params.get(k, v) != v for k, v in opts.fixed.items()):  # a fixed parameter moved
            return None
        # an entry is untrusted input: checked like a map's curve, point and 90% range alike
        Curve.model_validate({curve: params})
        Curve.model_validate({curve: {**params, **{k: {"p5": lo, "p95": hi}
                                                   for k, (lo, hi) in intervals.items()}}})
        fit = Fit(curve, params, opts.free, rmse, int(n_used))
        weights = value.get("weights", "none")
        if weights not in ("none", "stderr"):
            return None
        scatter = value.get("scatter")
        boot = value["bootstrap"]
        lo, hi = (float(v) for v in value["x_range"])  # entries from before x_range are refitted
        if not (_count(boot["refits"], 0) and _count(boot["failed"], 0)):
            return None
        large = value.get("large_table")
        if large is not None:  # in the order a fit writes it, like the scatter below
            large = {k: large[k] for k in ("rows", "scales", "bootstrap_rows", "scatter_rows")}
            if not all(_count(v, 0) for v in large.values()):
                return None
        if isinstance(scatter, Mapping):
            scatter = {k: scatter[k] for k in sorted(scatter, key=_SCATTER_ORDER.index)}
        return FitResult(fit, intervals, int(n_skipped), weights=weights,
                         scatter=scatter if isinstance(scatter, Mapping) else None,
                         n_refits=int(boot["refits"]), n_failed=int(boot["failed"]), x_range=(lo, hi),
                         large_table=large)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):  # ValidationError too
        return None


#: The keys of a fit's scatter, in the order :meth:`~capgraph.evidence.bands.Scatter.to_json` writes them.
_SCATTER_ORDER = ["method", "n", "n_failed", "sd_logit", "logit"]


def _count(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


# --- fit: curves in maps ---------------------------------------------------------------------------


def options_of(spec: FitSpec) -> FitOptions:
    """The fit options a map's ``fit:`` block asks for."""
    return FitOptions(spec.curve, spec.floor, None if spec.ceiling == "free" else spec.ceiling)


def resolve_fits(spec: MapSpec, document: Document | None = None) -> MapSpec:
    """Replace each ``curve: {fit: ...}`` by the fitted logistic or power law.

    The parameters are point estimates, or with ``ranges: true`` their 90% bootstrap intervals
    around the point fit (``{p5, p50, p95}``).

    Data paths are relative to the map file (to the working folder for a map read from text).
    Raises :class:`MapError` with every problem located in the map.
    """
    return resolve_fits_with_data(spec, document)[0]


def resolve_fits_with_data(spec: MapSpec, document: Document | None = None
                           ) -> tuple[MapSpec, dict[str, tuple[float, float]]]:
    """:func:`resolve_fits`, and the scale range of each fitted skill's data, by skill name."""
    fitted = {name: s for name, s in spec.skills.items() if s.curve.fit is not None}
    if not fitted:
        return spec, {}
    base = Path(document.path).parent if document and Path(document.path).is_file() else Path.cwd()
    problems: list[Problem] = []
    skills = dict(spec.skills)
    spans: dict[str, tuple[float, float]] = {}
    for name, skill in fitted.items():
        if spec.scale.axis == "loss":  # a score falls with loss: a rising curve cannot be fitted to it
            problems.append(_problem(document, ("skills", name, "curve", "fit"), "a fit: curve is fitted "
                                     "against params, tokens or FLOPs; this map's axis is loss", key=True))
            continue
        try:
            curve, span = _resolve_one(skill.curve.fit, base)
        except _Located as exc:
            problems.append(_problem(document, ("skills", name, "curve", "fit", *exc.loc), exc.message,
                                     key=exc.key))
            continue
        skills[name] = skill.model_copy(update={"curve": curve})
        if span is not None:
            spans[name] = span
    if problems:
        raise MapError(problems)
    return spec.model_copy(update={"skills": skills}), spans


def map_fits(path: str | Path, *, n_bootstrap: int = DEFAULT_BOOTSTRAP,
             seed: int = DEFAULT_SEED) -> dict[str, FitResult]:
    """The fits behind a map's ``fit:`` curves, by skill name, with their 90% bootstrap intervals.

    The map itself holds point estimates; this is where a notebook finds how far to trust them.
    Raises :class:`MapError` for an invalid map or a fit that fails, located as in :func:`resolve_fits`.
    """
    document = load_document(path)
    spec = validate(document)
    resolve_fits(spec, document)  # every problem, located in the map, before any bootstrap
    base = Path(document.path).parent
    return {
        name: _fit_spec(skill.curve.fit, base, n_bootstrap, seed)
        for name, skill in spec.skills.items() if skill.curve.fit is not None
    }


def _fit_spec(fs: FitSpec, base: Path, n_bootstrap: int, seed: int = DEFAULT_SEED,
              table: Table | None = None) -> FitResult:
    if table is None:
        table = read_data([fs.data], models=fs.models, groups=fs.groups, base=base)
    return fit_cached(table, fs.x, fs.y, options_of(fs), where=fs.where, n_bootstrap=n_bootstrap,
                      seed=seed, weights=fs.weights)


def fit_points(fs: FitSpec, document: Document | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows behind a ``fit:`` curve: their scales (column ``x``) and scores (``y``), as fitted.

    Reads ``fs.data`` as :func:`resolve_fits` does (relative to the map's folder) and keeps the rows
    :func:`fit_table` uses: those matching ``where`` with a number in both columns and a scale above 0.
    """
    base = Path(document.path).parent if document and Path(document.path).is_file() else Path.cwd()
    rows = read_data([fs.data], models=fs.models, groups=fs.groups, base=base).where(fs.where or {})
    rows, x = derive(rows, fs.x)
    rows, y = derive(rows, fs.y)
    cols = rows.numeric(x, y, positive=[x])
    return np.asarray(cols[x], dtype=float), np.asarray(cols[y], dtype=float)


class _Located(Exception):
    def __init__(self, loc: tuple[str, ...], message: str, key: bool = False) -> None:
        self.loc, self.message, self.key = loc, message, key


def _resolve_one(fs: FitSpec, base: Path) -> tuple[Curve, tuple[float, float] | None]:
    if fs.capability or fs.family:
        return _fit_checked(fs, base, forecast=True), None
    if fs.scatter and fs.curve != "logistic":
        raise _Located((), "scatter, capability and family apply to curve: logistic", key=True)
    try:  # a cache hit needs the data file's hash only, not the parsed table
        result = cached_fit(fs.data, fs.x, fs.y, options_of(fs), where=fs.where,
                            n_bootstrap=DEFAULT_BOOTSTRAP if fs.ranges else 0, weights=fs.weights,
                            models=fs.models, groups=fs.groups, base=base)
    except MapError as exc:
        raise _Located(("data",), f"data file {fs.data}: {_join(exc, str(base / fs.data))}") from None
    if result is None:
        result = _fit_checked(fs, base)
    curve = result.fit.curve_json()
    if fs.ranges:  # fitted parameters become {p5, p50, p95}: the bootstrap's ends around the fit
        curve[result.fit.curve].update(result.ranges())
    if fs.scatter and result.scatter is not None:  # some model of a size, not only the typical one
        params = curve[result.fit.curve]
        log_mid = math.log10(result.fit.params["midpoint"])
        interval = result.intervals.get("midpoint")
        q = result.scatter["logit"]
        lo, hi = widen_midpoint(log_mid, result.fit.params["slope"],
                                tuple(math.log10(v) for v in interval) if fs.ranges and interval else None,
                                (q["p5"], q["p95"]))
        if lo < hi:
            params["midpoint"] = {"p5": 10.0 ** lo, "p95": 10.0 ** hi}
    return Curve.model_validate(curve), result.x_range


def _fit_checked(fs: FitSpec, base: Path, forecast: bool = False) -> FitResult | Curve:
    """Read the data, locate a missing column in the map, then fit (through the cache).

    With ``forecast`` (capability or family keys) the answer is the reference family's curve.
    """
    try:
        table = read_data([fs.data], models=fs.models, groups=fs.groups, base=base)
    except MapError as exc:
        raise _Located(("data",), f"data file {fs.data}: {_join(exc, str(base / fs.data))}") from None
    for field in ("x", "y"):
        column = getattr(fs, field)
        try:
            derive(table, column)
        except MapError as exc:
            missing = [c for c in _names(column) if c not in table.columns]
            message = (f"{fs.data} has no column '{missing[0]}'{did_you_mean(missing[0], table.columns)}"
                       if missing else f"{fs.data}: {_join(exc)}")
            raise _Located((field,), message) from None
    for column in fs.where:
        if column not in table.columns:
            raise _Located(("where", column), f"{fs.data} has no column '{column}'"
                                              f"{did_you_mean(column, table.columns)}", key=True)
    _check_forecast_columns(fs, table)
    if forecast:
        return _resolve_forecast(fs, table, options_of(fs))
    try:
        return _fit_spec(fs, base, DEFAULT_BOOTSTRAP if fs.ranges else 0, table=table)
    except MapError as exc:
        raise _Located((), f"{fs.data}: {_join(exc)}", key=True) from None
    except FitError as exc:
        raise _Located((), f"fitting {fs.y} against {fs.x} in {fs.data}: {exc}", key=True) from None


def _check_forecast_columns(fs: FitSpec, table: Table) -> None:
    """Located problems for the forecasting keys of a ``fit:`` block (scatter, capability, family)."""
    if (fs.scatter or fs.capability or fs.family) and fs.curve != "logistic":
        raise _Located((), "scatter, capability and family apply to curve: logistic", key=True)
    for i, column in enumerate(fs.capability or ()):
        if column not in table.columns:
            raise _Located(("capability", i), f"{fs.data} has no column '{column}'"
                                              f"{did_you_mean(column, table.columns)}")
    if fs.family is not None and fs.family not in table.columns:
        raise _Located(("family",), f"{fs.data} has no column '{fs.family}'"
                                    f"{did_you_mean(fs.family, table.columns)}")


def _resolve_forecast(fs: FitSpec, table: Table, opts: FitOptions) -> Curve:
    """A ``fit:`` on the capability axis or with family offsets, as the reference family's curve."""
    try:
        forecast, _ = forecast_table(table, fs.x, fs.y, opts, capability_cols=fs.capability or (),
                                     family_column=fs.family, where=fs.where,
                                     n_bootstrap=DEFAULT_BOOTSTRAP if fs.ranges else 0)
    except MapError as exc:
        raise _Located((), f"{fs.data}: {_join(exc)}", key=True) from None
    except FitError as exc:
        raise _Located((), f"fitting {fs.y} in {fs.data}: {exc}", key=True) from None
    if fs.reference is not None:
        known = forecast.offsets.offsets if forecast.offsets else (
            forecast.link.families.offsets if forecast.link and forecast.link.families else {})
        if fs.reference not in known:
            raise _Located(("reference",), f"no family '{fs.reference}' in {fs.data}"
                                           f"{did_you_mean(fs.reference, list(known))}")
    params = map_curve(forecast, reference=fs.reference, ranges=fs.ranges, scatter=fs.scatter)
    return Curve.model_validate({"logistic": params})


def _names(text: str) -> list[str]:
    """The column names an expression reads (the text itself when it is no expression)."""
    try:
        return list(parse(text).columns)
    except ExpressionError:
        return [text]


def _join(exc: MapError, name: str | None = None) -> str:
    """A data file's problems in one message: ``line N: message`` (the file is named by the caller).

    Problems in another file (one of several result files) keep their own ``file:line:col``.
    """
    parts = []
    for p in exc.problems:
        if name is not None and Path(p.path).resolve() != Path(name).resolve():
            parts.append(str(p))
        else:
            parts.append(f"line {p.line}: {p.message}" if p.line > 1 else p.message)
    return "; ".join(parts)


def _problem(document: Document | None, loc: tuple, message: str, *, key: bool) -> Problem:
    if document is not None:
        return document.problem(loc, message, key=key)
    return Problem("<map>", 1, 1, message)
