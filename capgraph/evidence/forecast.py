"""One forecasting fit: a curve on an axis, its bootstrap, the scatter of models, and bands.

Three axes, chosen by the options:

- **compute**: the score against log10 of the scale column (what ``capgraph fit`` always did);
- **compute + family offsets** (``--family``): against ``log10 C + e_f``, each family's shrunk
  efficiency offset (:mod:`capgraph.evidence.family`), estimated with the curve by back-fitting;
- **capability** (``--capability``): against the first principal component of benchmark columns
  (:mod:`capgraph.evidence.capability`), linked back to compute per family.

Every forecast carries a :class:`~capgraph.evidence.bands.Scatter` (held-out residuals; whole families
left out when a family column is given) so that :meth:`Forecast.band` is a 90% band for new models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import logit

from capgraph.core.errors import MapError, Problem
from capgraph.evidence import bands, capability, family
from capgraph.evidence.data import Table, to_float
from capgraph.evidence.fit import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_OPTIONS,
    DEFAULT_SEED,
    Bootstrap,
    Fit,
    FitError,
    FitOptions,
    bootstrap,
    fit_curve,
    min_rows,
    refit,
)

#: Back-fitting rounds for family offsets (they settle in two or three).
_ROUNDS = 5
#: Rows this close to the floor or ceiling say little about a horizontal offset; left out of it.
_EDGE = 0.02


@dataclass(frozen=True)
class Rows:
    """The usable rows of a table: log10 scale, score, family labels, capability columns."""

    log_x: np.ndarray
    y: np.ndarray
    family: np.ndarray | None = None
    capability: np.ndarray | None = None  # (rows, columns), NaN where missing
    columns: tuple[str, ...] = ()
    n_skipped: int = 0

    def __len__(self) -> int:
        return int(self.log_x.size)

    def take(self, mask: np.ndarray) -> Rows:
        return replace(self, log_x=self.log_x[mask], y=self.y[mask],
                       family=None if self.family is None else self.family[mask],
                       capability=None if self.capability is None else self.capability[mask])

    @property
    def n_missing(self) -> int:
        """Capability cells missing among the rows (filled with the training mean)."""
        return 0 if self.capability is None else int(np.isnan(self.capability).sum())


def read_rows(table: Table, x: str, y: str, *, capability_columns: tuple[str, ...] = (),
              family_column: str | None = None, where: Mapping[str, Any] | None = None) -> Rows:
    """Rows with a positive scale, a score and (when asked) at least one capability value."""
    rows = table.where(where or {})
    rows.require(x, y, *capability_columns, *([family_column] if family_column else []))
    lx, ys, fam, cap, skipped = [], [], [], [], 0
    for row, line in zip(rows.rows, rows.lines, strict=True):
        sx, sy = to_float(row.get(x)), to_float(row.get(y))
        cells = [to_float(row.get(c)) for c in capability_columns]
        if sx is None or sy is None or sx <= 0 or (cells and all(c is None for c in cells)):
            skipped += 1
            continue
        if not 0 <= sy <= 1:
            raise MapError([Problem(table.path, line, 1, f"'{y}' must be a score in [0, 1], got {sy:g}")])
        lx.append(np.log10(sx))
        ys.append(sy)
        fam.append(str(row.get(family_column) or "").strip() if family_column else "")
        cap.append([np.nan if c is None else c for c in cells])
    return Rows(np.array(lx), np.array(ys), np.array(fam) if family_column else None,
                np.array(cap, dtype=float).reshape(len(lx), len(capability_columns))
                if capability_columns else None,
                tuple(capability_columns), skipped)


@dataclass(frozen=True)
class Forecast:
    """A fitted forecast; :meth:`predict` and :meth:`band` take :class:`Rows` of new models."""

    kind: str  # "compute", "family" or "capability"
    fit: Fit  # the curve against the axis value (log10 compute + offset, or the score)
    opts: FitOptions
    scatter: bands.Scatter
    boot: Bootstrap | None = None
    axis: capability.Axis | None = None
    link: capability.Link | None = None
    offsets: family.Offsets | None = None

    def axis_of(self, rows: Rows) -> np.ndarray:
        """Where rows sit on the curve's axis."""
        if self.axis is not None:
            return self.axis.score(rows.capability)
        if self.offsets is not None and rows.family is not None:
            return rows.log_x + self.offsets.of(rows.family)
        return rows.log_x

    def predict(self, rows: Rows) -> np.ndarray:
        return self.fit(self.axis_of(rows))

    def curves(self, rows: Rows) -> np.ndarray:
        """The bootstrap curves at the rows, ``(draws, rows)`` (the point curve alone without them)."""
        at = self.axis_of(rows)
        if self.boot is None:
            return self.fit(at)[None, :]
        return np.array([Fit(self.fit.curve, s, (), 0.0, 0)(at) for s in self.boot.samples])

    def band(self, rows: Rows, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Band for new models at the rows: parameter uncertainty plus scatter."""
        return bands.predictive_band(self.curves(rows), self.scatter, level)

    def crossing(self, level: float, family_name: str | None = None) -> dict[str, Any] | None:
        """Where the curve reaches ``level``: on its axis, and in log10 compute for a family."""
        at = self.fit.crossing(level)
        if at is None:
            return None
        out: dict[str, Any] = {"threshold": level, "family": family_name}
        if self.axis is not None:
            out["score"] = at
            out["log10_x"] = self.link.log_compute(at, family_name) if self.link else None
        else:
            shift = 0.0
            if self.offsets is not None and family_name is not None:
                shift = self.offsets.offsets.get(family_name, 0.0)
            out["log10_x"] = at - shift
        return out

    def params(self) -> dict[str, float]:
        """The curve's parameters as people read them: on the capability axis the midpoint is a
        score (``midpoint_score``), not a scale."""
        params = dict(self.fit.params)
        if self.axis is not None and "midpoint" in params:
            params = {"midpoint_score": float(np.log10(params.pop("midpoint"))), **params}
        return params

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"axis": self.kind, "curve": {self.fit.curve: self.params()},
                               "scatter": self.scatter.to_json()}
        if self.fit.at_bound:
            out["at_bound"] = self.fit.at_bound
        if self.axis is not None:
            out["capability"] = self.axis.to_json()
        if self.link is not None:
            out["link"] = self.link.to_json()
        if self.offsets is not None:
            out["families"] = self.offsets.to_json()
        return out


def fit_forecast(rows: Rows, opts: FitOptions = DEFAULT_OPTIONS, *, use_capability: bool = False,
                 use_family: bool = False, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                 seed: int = DEFAULT_SEED, strict: bool = True,
                 progress: Callable[[int], None] | None = None) -> Forecast:
    """Fit a forecast on ``rows``; raises :class:`FitError` or :class:`capability.CapabilityError`.

    ``progress(1)`` after each bootstrap refit."""
    if len(rows) < min_rows(opts):
        raise FitError(f"only {len(rows)} usable row(s); a {opts.curve} fit needs at least "
                       f"{min_rows(opts)}")
    axis = link = offsets = None
    if use_capability:
        if rows.capability is None:
            raise ValueError("a capability forecast needs capability columns")
        axis = capability.fit_axis(rows.columns, rows.capability, rows.log_x)
        at = axis.score(rows.capability)
        link = capability.fit_link(at, rows.log_x, rows.family)
        kind = "capability"
    elif use_family:
        if rows.family is None:
            raise ValueError("family offsets need a family column")
        if opts.curve != "logistic":
            raise FitError("family offsets apply to logistic curves")
        offsets = _family_offsets(rows, opts, strict)
        at = rows.log_x + offsets.of(rows.family)
        kind = "family"
    else:
        at = rows.log_x
        kind = "compute"
    point = fit_curve(at, rows.y, opts, strict=strict)
    boot = (bootstrap(at, rows.y, point, opts, n_bootstrap, seed, strict=strict, progress=progress)
            if n_bootstrap > 0 else None)

    def held_out(mask: np.ndarray):
        return refit(at[mask], rows.y[mask], opts, point, strict=strict)

    # a left-out family is unseen: its rows are scored at offset 0, as a new family's would be
    x_out = rows.log_x if offsets is not None else at
    scatter = bands.held_out_residuals(x_out, rows.y, held_out, opts.floor, rows.family)
    return Forecast(kind, point, opts, scatter, boot, axis, link, offsets)


def _family_offsets(rows: Rows, opts: FitOptions, strict: bool) -> family.Offsets:
    """Back-fitting: fit the pooled curve, read each row's horizontal offset from it, shrink, repeat."""
    shift = np.zeros(len(rows))
    offsets = family.shrink(np.zeros(len(rows)), rows.family)
    curve = fit_curve(rows.log_x, rows.y, opts, strict=strict)
    for _ in range(_ROUNDS):
        # later rounds move the curve a little: start from the last one
        curve = refit(rows.log_x + shift, rows.y, opts, curve, strict=strict) or curve
        p = curve.params
        u = (rows.y - p["floor"]) / (p["ceiling"] - p["floor"])
        usable = (u > _EDGE) & (u < 1 - _EDGE)
        if usable.sum() < 2:
            break
        # the effective log10 compute at which the curve gives each row's score, minus its own
        needed = np.log10(p["midpoint"]) + logit(u[usable]) / p["slope"] - rows.log_x[usable]
        offsets = family.shrink(needed - np.mean(needed), rows.family[usable])
        shift = offsets.of(rows.family)
    return offsets


def capability_columns(columns, y: str) -> tuple[str, ...]:
    """The capability columns to use for score ``y``: as given, without ``y`` itself (no leakage)."""
    return tuple(dict.fromkeys(c for c in columns if c != y))


def forecast_table(table: Table, x: str, y: str, opts: FitOptions = DEFAULT_OPTIONS, *,
                   capability_cols=(), family_column: str | None = None,
                   where: Mapping[str, Any] | None = None, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                   seed: int = DEFAULT_SEED) -> tuple[Forecast, Rows]:
    """:func:`fit_forecast` on a table: the capability axis when columns are given, else family
    offsets when a family column is given, else compute alone. Data problems raise :class:`MapError`;
    a capability score that cannot be formed raises it too (naming the file)."""
    cols = capability_columns(capability_cols, y)
    rows = read_rows(table, x, y, capability_columns=cols, family_column=family_column, where=where)
    try:
        forecast = fit_forecast(rows, opts, use_capability=bool(cols),
                                use_family=family_column is not None and not cols,
                                n_bootstrap=n_bootstrap, seed=seed)
    except capability.CapabilityError as exc:
        raise MapError([Problem(table.path, 1, 1, str(exc))]) from None
    return forecast, rows


def intervals(forecast: Forecast, level: float = 0.9) -> dict[str, tuple[float, float]]:
    """The bootstrap's percentile interval of each fitted curve parameter."""
    if forecast.boot is None:
        return {}
    out = {name: forecast.boot.interval(name, level) for name in forecast.opts.free}
    if forecast.axis is not None and "midpoint" in out:  # a score, as in Forecast.params
        lo, hi = out.pop("midpoint")
        out = {"midpoint_score": (float(np.log10(lo)), float(np.log10(hi))), **out}
    return out


def map_curve(forecast: Forecast, *, reference: str | None = None, ranges: bool = False,
              scatter: bool = False) -> dict[str, Any]:
    """A logistic forecast as a map's ``logistic:`` parameters on the compute axis, for ``reference``.

    On the capability axis the curve ``σ(β·(S − S_mid))`` with ``S = w·log10 C + b_f`` is a logistic
    in log10 C with midpoint ``(S_mid − b_f)/w`` and slope ``β·w``; with family offsets the midpoint
    moves by the family's ``−e_f``. ``ranges`` turns the bootstrap intervals into ``{p5, p95}``;
    ``scatter`` widens the midpoint by the scatter of models (:func:`bands.widen_midpoint`).
    """
    def to_compute(log_mid: float, slope: float) -> tuple[float, float]:
        if forecast.link is not None:
            w = forecast.link.slope
            return (log_mid - forecast.link.intercept_of(reference)) / w, slope * w
        if forecast.offsets is not None and reference is not None:
            return log_mid - forecast.offsets.offsets.get(reference, 0.0), slope
        return log_mid, slope

    p = forecast.fit.params
    log_mid, slope = to_compute(float(np.log10(p["midpoint"])), p["slope"])
    out: dict[str, Any] = {"midpoint": float(10.0 ** log_mid), "slope": slope, "floor": p["floor"],
                           "ceiling": p["ceiling"]}
    mid_interval = None
    if ranges and forecast.boot is not None:
        names = forecast.opts.free
        lo = {n: forecast.boot.interval(n)[0] for n in names}
        hi = {n: forecast.boot.interval(n)[1] for n in names}
        ends = [to_compute(float(np.log10(v["midpoint"])), v["slope"]) for v in (lo, hi)]
        mid_interval = (ends[0][0], ends[1][0])
        out["slope"] = {"p5": ends[0][1], "p95": ends[1][1]}
        if "ceiling" in names:
            out["ceiling"] = {"p5": lo["ceiling"], "p95": hi["ceiling"]}
    if scatter:
        q = forecast.scatter.quantiles()
        mid_interval = bands.widen_midpoint(log_mid, slope, mid_interval, (q["p5"], q["p95"]))
    if mid_interval is not None and mid_interval[0] < mid_interval[1]:
        out["midpoint"] = {"p5": float(10.0 ** mid_interval[0]), "p95": float(10.0 ** mid_interval[1])}
    for name in ("slope", "ceiling"):  # an interval that collapsed is a number
        v = out[name]
        if isinstance(v, dict) and not v["p5"] < v["p95"]:
            out[name] = v["p5"]
    return out
