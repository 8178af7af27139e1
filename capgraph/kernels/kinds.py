"""What a curve family, a composition rule and a metric lens declare about themselves.

Each kind is one small frozen record, kept in one registry beside its kernels:
:data:`capgraph.kernels.curves.FAMILIES`, :data:`capgraph.kernels.rules.RULES` and
:data:`capgraph.kernels.lenses.LENSES`. Everything that depends on the kind of a node reads these
records instead of listing kinds itself: the map format (``format/schema`` builds its models and JSON
Schema from them), the engine (``engine/plan`` dispatches on ``batch``), fitting (``evidence/fit``),
the loss axis (``world/allocation``), the summaries people read and the docs tests. Adding a kind is
a kernel and a record in one of those three modules (``docs/architecture.md``, "Adding a kind").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np

#: Lower end of a draw of a parameter that must stay above 0 (a slope, an exponent).
ABOVE_ZERO = 1e-9


@dataclass(frozen=True)
class Param:
    """One parameter of a curve family, as a map writes it.

    ``log`` parameters are scales: a map may write them with suffixes (``7B``), the kernel takes
    them as log10 (argument ``log_<name>``), and their ranges are log-normal. The others are plain
    numbers, their ranges truncated normals within ``bounds`` (closed, as for a floor in [0, 1], or
    open, as for a slope in (0, ∞)).
    """

    name: str
    description: str
    bounds: tuple[float, float] = (0.0, math.inf)
    closed: bool = False
    log: bool = False
    default: float | None = None
    #: Another parameter this one must exceed (a logistic's ceiling over its floor), at the medians.
    above: str | None = None

    @property
    def arg(self) -> str:
        """The kernel's keyword for this parameter."""
        return f"log_{self.name}" if self.log else self.name

    @property
    def draw_bounds(self) -> tuple[float, float]:
        """Where Monte Carlo draws of a ranged value are truncated."""
        low, high = self.bounds
        return (low if self.closed or low != 0 else ABOVE_ZERO), high

    def contains(self, value: float) -> bool:
        low, high = self.bounds
        return low <= value <= high if self.closed else low < value < high


#: ``draw(values, eps, low, high)``: one parameter's draws (members, samples) from its written values.
Draw = Callable[[list[Any], np.ndarray, Any, Any], np.ndarray]


@dataclass(frozen=True)
class FitHooks:
    """How ``evidence/fit`` fits a family by bounded least squares.

    The fit works on a vector ``theta`` of the kernel arguments of the fitted parameters (log10 for
    log parameters), in the order ``free`` then the ``optional`` ones the options leave free. The
    other parameters are ``fixed`` (a logistic's floor, and its ceiling unless fitted).
    """

    free: tuple[str, ...]
    #: ``bounds(log_x, fixed)`` → (lower, upper) of theta, from the data's span.
    bounds: Callable[[np.ndarray, Mapping[str, float]], tuple[np.ndarray, np.ndarray]]
    #: ``starts(log_x, y, fixed)`` → starting thetas spread across and beyond the data.
    starts: Callable[[np.ndarray, np.ndarray, Mapping[str, float]], list[np.ndarray]]
    #: ``jacobian(theta, log_x, fixed)`` → (points, len(theta)) derivatives of the kernel.
    jacobian: Callable[[np.ndarray, np.ndarray, Mapping[str, float]], np.ndarray]
    #: Why a parameter on its bound is no answer; parameters not listed may rest on a bound.
    stuck: Mapping[str, str]
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class CurveFamily:
    """A skill-curve family: ``kernel(log_x, **args)`` with the arguments its parameters name.

    ``batch`` says how the engine evaluates a level's skills of this family: ``"block"`` (every
    parameter a number or range; one vectorised call for all of them) or ``"table"`` (observed
    ``[x, y]`` pairs: ``points``; ``kernel(log_x, xs, ys)`` takes (skills, K) arrays, so the engine
    makes one call for all skills of a level with K points).
    """

    name: str
    description: str
    kernel: Callable[..., np.ndarray]
    batch: Literal["block", "table"]
    params: tuple[Param, ...] = ()
    #: The parameter that places the curve on the scale axis: the copula moves it in correlated
    #: draws, and a loss axis mirrors it (log10 of 1/loss). Always a ``log`` parameter.
    location: str | None = None
    #: ``crossing(level, args)`` → log10 scale where the curve reaches ``level`` (nan if never).
    crossing: Callable[[float, Mapping[str, float]], float] | None = None
    #: ``sharpness(args)`` → decades from 10% to 90% of the rise.
    sharpness: Callable[[Mapping[str, float]], float] | None = None
    fit: FitHooks | None = None
    #: Order in which the non-location parameters draw their noise, and a coupled draw of them
    #: (``draw(columns, eps, draw)`` → {arg: draws}) where their bounds depend on each other.
    drawn: tuple[str, ...] = ()
    draw: Callable[[Mapping[str, list[Any]], np.ndarray, Draw], dict[str, np.ndarray]] | None = None
    #: Short text for a node's summary, from the map's value of this curve.
    label: Callable[[Any], str] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def args(self, values: Mapping[str, float]) -> dict[str, float]:
        """Kernel arguments from parameters as a map writes them (log10 of the log ones)."""
        return {p.arg: math.log10(values[p.name]) if p.log else values[p.name] for p in self.params}

    def summary(self, body: Any) -> str:
        return self.label(body) if self.label else self.name.replace("_", " ")


@dataclass(frozen=True)
class Rule:
    """A composition rule: ``kernel(values, counts[, param])`` is the plain reference.

    ``batch`` is the engine's strategy for a level's parents under the rule:

    - ``"product"``: one weighted sum over the children (``W @ x``), in ``space`` ``"log"``
      (exp Σ w log p), ``"log1m"`` (1 − exp Σ w log(1 − p)) or ``"linear"`` (Σ w p), with the
      counts as weights, divided by their sum when ``normalised``;
    - ``"padded"``: the children gathered into a (trials, parents, ...) array padded with ``pad``
      (a value that changes nothing), each child once per trial when ``per_trial`` (a count c is c
      trials), reduced by ``padded(trials, params)`` with the parents' parameters (nodes,);
    - ``"tail"``: the Poisson-binomial tail P(at least k successes) over each parent's distinct
      children and their counts (``per_trial``: whole numbers, checked by the schema), in blocks
      of similar cost (``engine/kofn.py``): the closed-form binomial tail, the exact programme or
      the refined normal approximation, never a value per trial.
    """

    name: str
    description: str
    kernel: Callable[..., np.ndarray]
    batch: Literal["product", "padded", "tail"]
    space: Literal["log", "log1m", "linear"] | None = None
    normalised: bool = False
    pad: float | None = None
    per_trial: bool = False
    padded: Callable[[np.ndarray, np.ndarray | None], np.ndarray] | None = None
    #: A kink in the parent's curve (``min`` switches child): crossings are refined on a finer grid.
    kink: bool = False
    #: The rule's own key on a capability (k of k_of_n), a whole number ≥ 1, or None.
    param: str | None = None
    #: Short text for a node's summary; formatted with the parameter and ``n``, the total count.
    label: str = ""

    def summary(self, param: int | None, n: float) -> str:
        return (self.label or self.name).format(**{self.param or "_": param, "n": n})


#: The largest whole-number lens parameter: every whole number up to 2^53 is a float exactly.
WHOLE_MAX = 2**53


@dataclass(frozen=True)
class Lens:
    """A metric lens: ``kernel(p[, **{param: value}])``, with at most one parameter."""

    name: str
    description: str
    kernel: Callable[..., np.ndarray]
    param: str | None = None
    param_description: str = ""
    #: The parameter's lower bound (inclusive when ``integer``, exclusive otherwise).
    low: float = 0.0
    #: A whole-number parameter, at most WHOLE_MAX (the engine holds it as a float, exactly).
    integer: bool = False
    #: Short text for a node's summary, formatted with the parameter.
    label: str = ""

    def summary(self, value: float | None) -> str:
        return (self.label or self.name).format(**{self.param or "_": value})


K = TypeVar("K")


@dataclass(frozen=True)
class Registry(Mapping[str, K]):
    """Kinds by name; looking up an unknown one names the known ones (it never falls through)."""

    what: str
    kinds: Mapping[str, K] = field(default_factory=dict)

    def __getitem__(self, name: str) -> K:
        try:
            return self.kinds[name]
        except KeyError:
            raise KeyError(f"unknown {self.what} {name!r}; known: {', '.join(self.kinds)}") from None

    def __iter__(self):
        return iter(self.kinds)

    def __len__(self) -> int:
        return len(self.kinds)
