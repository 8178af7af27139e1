"""Fits from results files: the library behind ``capgraph fit``, and ``curve: {fit: ...}`` in maps.

:func:`fit_table` fits one curve to the rows of a :class:`~capgraph.data.Table`; :func:`fit_file`
does the same from a path through the on-disk cache (:mod:`capgraph.evidence.fitcache`); and
:func:`resolve_fits` replaces every ``fit:`` curve of a validated map by the concrete ``logistic`` or
``power_law`` curve fitted to its data, so the engine never sees a ``fit``. Problems in a ``fit:``
block are located at the map's key or value concerned, as ``map.yaml:line:col: message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from capgraph.core.errors import MapError, Problem
from capgraph.core.suggest import did_you_mean
from capgraph.evidence import fitcache
from capgraph.evidence.data import Table, read_table
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
from capgraph.format.schema import Curve, FitSpec, MapSpec
from capgraph.format.source import Document, load_document
from capgraph.format.validate import validate
from capgraph.kernels.curves import FAMILIES


def fit_table(table: Table, x: str, y: str, opts: FitOptions = DEFAULT_OPTIONS, *,
              where: Mapping[str, Any] | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
              seed: int = DEFAULT_SEED) -> FitResult:
    """Fit ``y`` against log10 of ``x`` over the rows matching ``where``.

    Rows with a missing or non-numeric value, or a non-positive scale, are skipped and counted.
    Raises :class:`MapError` (naming the file) for unknown columns, scores outside [0, 1] and too
    few usable rows, and :class:`~capgraph.fit.FitError` when the fit does not converge.
    """
    rows = table.where(where or {})
    cols = rows.numeric(x, y, positive=[x])
    cols.require_fraction(y)
    need = min_rows(opts)
    if cols.n_used < need:
        raise MapError([Problem(table.path, 1, 1, _too_few(cols.n_used, cols.n_skipped, need, opts, where))])
    return fit_with_intervals(np.log10(cols[x]), cols[y], opts, n_bootstrap=n_bootstrap, seed=seed,
                              n_skipped=cols.n_skipped)


def _too_few(used: int, skipped: int, need: int, opts: FitOptions, where) -> str:
    filt = f" matching {', '.join(f'{k}={v}' for k, v in where.items())}" if where else ""
    return (f"only {used} usable row(s){filt} ({skipped} skipped: missing, non-numeric or "
            f"non-positive scale); a {opts.curve} fit needs at least {need}")


def fit_file(path: str | Path, x: str, y: str, opts: FitOptions = DEFAULT_OPTIONS, *,
             where: Mapping[str, Any] | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
             seed: int = DEFAULT_SEED, use_cache: bool = True) -> FitResult:
    """:func:`fit_table` on a file, cached on disk by the file's content and every option."""
    table = read_table(path)
    if not use_cache:
        return fit_table(table, x, y, opts, where=where, n_bootstrap=n_bootstrap, seed=seed)
    options = {"x": x, "y": y, "where": {str(k): str(v) for k, v in sorted((where or {}).items())},
               "fit": opts.key(), "bootstrap": n_bootstrap, "seed": seed}
    key = fitcache.cache_key(table.digest, options)
    value, _ = fitcache.cached(
        key,
        lambda: fit_table(table, x, y, opts, where=where, n_bootstrap=n_bootstrap, seed=seed).to_json(),
        valid=lambda v: result_from_json(v, opts) is not None,
    )
    result = result_from_json(value, opts)
    assert result is not None  # computed values always round-trip
    return result


def result_from_json(value: Mapping[str, Any], opts: FitOptions) -> FitResult | None:
    """Rebuild a :class:`FitResult` from :meth:`FitResult.to_json`; None if it has the wrong shape."""
    try:
        (curve, params), = value["curve"].items()
        names = FAMILIES[curve].names
        if curve != opts.curve or set(params) != set(names) or not set(value["intervals"]) <= set(names):
            return None
        # canonical order, whatever order the cache file kept: hits and misses print the same bytes
        params = {k: float(params[k]) for k in names}
        intervals = {k: (float(value["intervals"][k][0]), float(value["intervals"][k][1]))
                     for k in opts.free if k in value["intervals"]}
        fit = Fit(curve, params, opts.free, float(value["rmse"]), int(value["n_used"]))
        return FitResult(fit, intervals, int(value["n_skipped"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


# --- fit: curves in maps ---------------------------------------------------------------------------


def options_of(spec: FitSpec) -> FitOptions:
    """The fit options a map's ``fit:`` block asks for."""
    return FitOptions(spec.curve, spec.floor, None if spec.ceiling == "free" else spec.ceiling)


def resolve_fits(spec: MapSpec, document: Document | None = None) -> MapSpec:
    """Replace each ``curve: {fit: ...}`` by the fitted logistic or power law.

    The parameters are point estimates, or with ``ranges: true`` their 90% bootstrap intervals.

    Data paths are relative to the map file (to the working folder for a map read from text).
    Raises :class:`MapError` with every problem located in the map.
    """
    fitted = {name: s for name, s in spec.skills.items() if s.curve.fit is not None}
    if not fitted:
        return spec
    base = Path(document.path).parent if document and Path(document.path).is_file() else Path.cwd()
    problems: list[Problem] = []
    skills = dict(spec.skills)
    for name, skill in fitted.items():
        try:
            curve = _resolve_one(skill.curve.fit, base)
        except _Located as exc:
            problems.append(_problem(document, ("skills", name, "curve", "fit", *exc.loc), exc.message,
                                     key=exc.key))
            continue
        skills[name] = skill.model_copy(update={"curve": curve})
    if problems:
        raise MapError(problems)
    return spec.model_copy(update={"skills": skills})


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
        name: fit_file(base / skill.curve.fit.data, skill.curve.fit.x, skill.curve.fit.y,
                       options_of(skill.curve.fit), where=skill.curve.fit.where,
                       n_bootstrap=n_bootstrap, seed=seed)
        for name, skill in spec.skills.items() if skill.curve.fit is not None
    }


class _Located(Exception):
    def __init__(self, loc: tuple[str, ...], message: str, key: bool = False) -> None:
        self.loc, self.message, self.key = loc, message, key


def _resolve_one(fs: FitSpec, base: Path) -> Curve:
    path = base / fs.data
    try:
        table = read_table(path)
    except MapError as exc:
        raise _Located(("data",), f"data file {fs.data}: {_join(exc)}") from None
    for field in ("x", "y"):
        column = getattr(fs, field)
        if column not in table.columns:
            raise _Located((field,), f"{fs.data} has no column '{column}'"
                                     f"{did_you_mean(column, table.columns)}")
    for column in fs.where:
        if column not in table.columns:
            raise _Located(("where", column), f"{fs.data} has no column '{column}'"
                                              f"{did_you_mean(column, table.columns)}", key=True)
    opts = options_of(fs)
    try:
        result = fit_file(path, fs.x, fs.y, opts, where=fs.where,
                          n_bootstrap=DEFAULT_BOOTSTRAP if fs.ranges else 0)
    except MapError as exc:
        raise _Located((), f"{fs.data}: {_join(exc)}", key=True) from None
    except FitError as exc:
        raise _Located((), f"fitting {fs.y} against {fs.x} in {fs.data}: {exc}", key=True) from None
    curve = result.fit.curve_json()
    if fs.ranges:  # fitted parameters become 90% ranges: {p5, p95} from the bootstrap
        params = curve[result.fit.curve]
        for name, (lo, hi) in result.intervals.items():
            params[name] = {"p5": lo, "p95": hi} if lo < hi else params[name]
    return Curve.model_validate(curve)


def _join(exc: MapError) -> str:
    """A data file's problems in one message: ``line N: message`` (the file is named by the caller)."""
    parts = []
    for p in exc.problems:
        parts.append(f"line {p.line}: {p.message}" if p.line > 1 else p.message)
    return "; ".join(parts)


def _problem(document: Document | None, loc: tuple, message: str, *, key: bool) -> Problem:
    if document is not None:
        return document.problem(loc, message, key=key)
    return Problem("<map>", 1, 1, message)
