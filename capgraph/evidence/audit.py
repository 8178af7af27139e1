"""Does the declared decomposition fit? Composition rules compared on observed scores.

For a capability whose own scores and whose children's scores are all columns of a results table,
each candidate rule predicts the parent's score from the children's (through the node's metric
lens) and is judged by its RMSE against the observed parent: the declared rule as written, ``all``
with exponents fitted to the data (P = Π p_i^w_i), ``any``, ``mean`` and ``min``. Whether the
composite is harder or easier than the naive product Π p_i^c_i (declared counts) says whether a
sub-skill is missing from the map (harder) or the parts share more than independence assumes
(easier).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from capgraph.core.records import RecordsMixin, records
from capgraph.evidence.data import Table
from capgraph.kernels import lenses, rules

#: The alternatives every declared rule is compared with; "all_fitted" is Π p_i^w_i with fitted w.
ALTERNATIVES = ("all_fitted", "any", "mean", "min")
#: Mean gap to the naive product (in score units) within which a composite counts as "as predicted".
AS_PREDICTED = 0.01
_W_MAX = 100.0


@dataclass(frozen=True)
class RuleAudit:
    """The audit of one capability."""

    name: str
    declared: str
    children: tuple[str, ...]
    n_rows: int
    rmse: dict[str, float]  # candidate → RMSE; the declared rule is under "declared"
    exponents: dict[str, float] = field(default_factory=dict)  # fitted w_i of all_fitted
    naive_gap: float = 0.0  # mean(observed − naive product)
    x_range: tuple[float, float] | None = None  # scales the rows span
    n_skipped: int = 0  # rows without a positive scale or a number in every column involved

    @property
    def best(self) -> str:
        """The candidate with the smallest error (the declared rule wins ties)."""
        return min(self.rmse, key=lambda k: (self.rmse[k], k != "declared"))

    @property
    def improvement(self) -> float:
        """How much lower the best candidate's RMSE is than the declared rule's (0 if declared wins)."""
        return self.rmse["declared"] - self.rmse[self.best]

    @property
    def verdict(self) -> str:
        """``harder``, ``easier`` or ``as_predicted`` than the naive product of the children."""
        if self.naive_gap < -AS_PREDICTED:
            return "harder"
        if self.naive_gap > AS_PREDICTED:
            return "easier"
        return "as_predicted"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "declared": self.declared, "children": list(self.children),
            "n_rows": self.n_rows, "n_skipped": self.n_skipped, "rmse": dict(self.rmse), "best": self.best,
            "improvement": self.improvement, "exponents": dict(self.exponents),
            "naive_gap": self.naive_gap, "verdict": self.verdict,
            "x_range": list(self.x_range) if self.x_range else None,
        }


@dataclass(frozen=True)
class Audit(RecordsMixin):
    """Every auditable capability, and those left out with the reason."""

    capabilities: tuple[RuleAudit, ...]
    skipped: dict[str, str]  # capability → why it was not audited

    def to_json(self) -> dict[str, Any]:
        return {"capabilities": [c.to_json() for c in self.capabilities], "skipped": dict(self.skipped)}

    def to_records(self) -> list[dict[str, Any]]:
        """One flat record a capability audited; ``to_frame()`` gives a DataFrame."""
        return records(c.to_json() for c in self.capabilities)


def fit_exponents(children: list[np.ndarray], observed: np.ndarray, metric: str = "identity",
                  metric_params: Mapping[str, float] | None = None,
                  start: list[float] | None = None) -> np.ndarray:
    """Exponents w ≥ 0 minimising the squared error of lens(Π p_i^w_i) against ``observed``.

    >>> a, b = np.linspace(0.3, 0.95, 12), np.linspace(0.6, 0.99, 12)
    >>> np.round(fit_exponents([a, b], a**2 * b), 4)
    array([2., 1.])
    """
    metric_params = dict(metric_params or {})
    logs = np.log(np.clip(np.stack(children), 1e-12, 1.0))  # (children, rows)

    def residual(w: np.ndarray) -> np.ndarray:
        return lenses.apply(metric, np.exp(w @ logs), **metric_params) - observed

    x0 = np.clip(np.array(start if start is not None else [1.0] * len(children), dtype=float), 0, _W_MAX)
    result = least_squares(residual, x0, bounds=(0.0, _W_MAX), method="trf", xtol=1e-12, ftol=1e-12)
    return result.x


def _rmse(predicted: np.ndarray, observed: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - observed) ** 2)))


def audit_one(name: str, declared: str, children: list[str], child_values: list[np.ndarray],
              counts: list[float], observed: np.ndarray, *, k: int | None = None,
              metric: str = "identity", metric_params: Mapping[str, float] | None = None) -> RuleAudit:
    """Compare the declared rule and the alternatives on one capability's observed scores."""
    params = dict(metric_params or {})
    scored = lambda p: lenses.apply(metric, p, **params)  # noqa: E731
    rmse = {"declared": _rmse(scored(rules.combine(declared, child_values, counts, k)), observed)}
    exponents: dict[str, float] = {}
    for rule in ALTERNATIVES:
        if rule == declared:
            continue
        if rule == "all_fitted":
            if observed.size <= len(children):
                continue  # as many exponents as rows: no test of anything
            w = fit_exponents(child_values, observed, metric, params,
                              start=counts if declared == "all" else None)
            exponents = dict(zip(children, map(float, w), strict=True))
            rmse[rule] = _rmse(scored(rules.all_of(child_values, list(w))), observed)
        else:
            rmse[rule] = _rmse(scored(rules.combine(rule, child_values, counts)), observed)
    naive = scored(rules.all_of(child_values, counts))
    return RuleAudit(name, declared, tuple(children), int(observed.size), rmse, exponents,
                     float(np.mean(observed - naive)))


def audit(cmap, table: Table, x: str, *, where: Mapping[str, Any] | None = None) -> Audit:
    """Audit every capability of ``cmap`` whose own and children's score columns are in ``table``.

    A node's column is its ``column:`` key if it has one, else its name. Rows need a positive scale
    in column ``x`` and numbers in every column involved; others are skipped per capability.
    """
    rows = table.where(where or {})
    rows.require(x)
    done, skipped = [], {}
    for name, cap in sorted(cmap.spec.capabilities.items()):
        children = sorted(cap.requires)
        wanted = {n: (cmap.node(n).column or n) for n in [name, *children]}
        missing = sorted({c for c in wanted.values() if c not in rows.columns})
        if missing:
            skipped[name] = "no column " + ", ".join(f"'{c}'" for c in missing)
            continue
        cols = rows.numeric(x, *dict.fromkeys(wanted.values()), positive=[x])
        for column in dict.fromkeys(wanted.values()):
            cols.require_fraction(column)
        if cols.n_used < 2:
            skipped[name] = f"only {cols.n_used} usable row(s)"
            continue
        metric = cap.metric.kind if cap.metric else "identity"
        params = dict(getattr(cap.metric, metric).model_dump()) if cap.metric else {}
        found = audit_one(
            name, cap.combine, children, [cols[wanted[c]] for c in children],
            [cap.requires[c] for c in children], cols[wanted[name]], k=cap.k, metric=metric,
            metric_params=params,
        )
        done.append(replace(found, x_range=(float(cols[x].min()), float(cols[x].max())),
                            n_skipped=cols.n_skipped))
    return Audit(tuple(done), skipped)
