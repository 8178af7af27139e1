"""From training compute to calendar dates, under a trend in the largest training run.

If the largest run used C₀ FLOPs at date t₀ and grows by a factor g a year, compute C is reached
log(C/C₀)/log(g) years after t₀ (negative: before it, on the same trend). The functions are pure
and vectorised, so Monte Carlo quantiles of crossings convert in one call.

>>> from datetime import date
>>> iso_dates(flops_to_dates([5e26, 2e27], date(2026, 1, 1), 5e26, 4.0))
['2026-01-01', '2027-01-01']

Dates are questions too: :func:`date_to_log_flops` runs the trend the other way, so "by
2028-01-01" becomes the compute of the largest run on that day (two mean years: 16 × 5e26, less
the half day by which 2026–2027 falls short of two Gregorian mean years), and back:

>>> log_c = date_to_log_flops(date(2028, 1, 1), date(2026, 1, 1), 5e26, 4.0)
>>> f"{10 ** log_c:.3g}", iso_dates(flops_to_dates([10 ** log_c], date(2026, 1, 1), 5e26, 4.0))
('7.99e+27', ['2028-01-01'])
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
from numpy.typing import ArrayLike

DAYS_PER_YEAR = 365.2425  # the Gregorian mean year
_FIRST, _LAST = np.datetime64("0001-01-01"), np.datetime64("9999-12-31")


def flops_to_years(flops: ArrayLike, start_flops: float, growth_per_year: float) -> np.ndarray:
    """Fractional years after the start at which the trend reaches ``flops`` (nan stays nan)."""
    flops = np.asarray(flops, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(flops / start_flops) / np.log(growth_per_year)


def years_to_dates(years: ArrayLike, start: dt.date) -> np.ndarray:
    """``datetime64[D]`` dates, ``years`` after ``start``, rounded to the day; NaT where undefined.

    Dates outside years 1–9999 are NaT too: a trend extrapolated millennia says nothing.
    """
    years = np.asarray(years, dtype=float)
    days = years * DAYS_PER_YEAR
    origin = np.datetime64(start, "D")
    span_lo = (_FIRST - origin).astype(float)
    span_hi = (_LAST - origin).astype(float)
    ok = np.isfinite(days) & (days >= span_lo) & (days <= span_hi)
    offset = np.where(ok, np.round(np.where(ok, days, 0.0)), 0).astype("timedelta64[D]")
    return np.where(ok, origin + offset, np.datetime64("NaT"))


def flops_to_dates(flops: ArrayLike, start: dt.date, start_flops: float,
                   growth_per_year: float) -> np.ndarray:
    """``datetime64[D]`` dates at which the largest run reaches ``flops``."""
    return years_to_dates(flops_to_years(flops, start_flops, growth_per_year), start)


def calendar_years(flops: ArrayLike, start: dt.date, start_flops: float,
                   growth_per_year: float) -> np.ndarray:
    """The calendar year, fractional (2027.5 is about 2 July 2027), at which the trend reaches ``flops``.

    >>> float(calendar_years(1e26, dt.date(2025, 1, 1), 1e25, 10.0)[()])
    2026.0
    """
    origin = start.year + (start.timetuple().tm_yday - 1) / DAYS_PER_YEAR
    return origin + flops_to_years(flops, start_flops, growth_per_year)


def iso_dates(dates: np.ndarray) -> list[str | None]:
    """ISO ``YYYY-MM-DD`` strings, None for NaT (for JSON)."""
    return [None if np.isnat(d) else str(d.astype("datetime64[D]")) for d in np.atleast_1d(dates)]


def crossing_date(timeline, flops: float | None) -> str | None:
    """The ISO date a map's ``timeline`` reaches ``flops`` (None without a timeline or a scale)."""
    if timeline is None or flops is None:
        return None
    dates = flops_to_dates([flops], timeline.start, timeline.flops, timeline.growth_per_year)
    return iso_dates(dates)[0]


_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def parse_date(text: object) -> dt.date | None:
    """``text`` as a date if it is written YYYY-MM-DD, else None; a malformed date raises ValueError."""
    if isinstance(text, dt.date):
        return text
    match = _ISO_DATE.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        raise ValueError(f"{text.strip()} is not a date: {exc}") from None


def date_to_log_flops(day: dt.date, start: dt.date, start_flops: float, growth_per_year: float) -> float:
    """log10 of the largest run's FLOPs on ``day`` under the trend (the inverse of :func:`flops_to_dates`)."""
    years = (day - start).days / DAYS_PER_YEAR
    return math.log10(start_flops) + years * math.log10(growth_per_year)
