"""The capability-map format: what a map file may say, as pydantic models.

These models are the declared configuration only; :mod:`capgraph.model.capmap` turns a validated
:class:`MapSpec` into the runtime object that computes. Field descriptions double as the
reference in ``docs/format.md`` (a test keeps the two in step) and in ``capgraph schema``.
"""

from __future__ import annotations

import math
import re
from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from capgraph.core.limits import TRIALS
from capgraph.core.suggest import did_you_mean
from capgraph.core.units import parse_number, parse_scale
from capgraph.kernels.curves import FAMILIES
from capgraph.kernels.kinds import WHOLE_MAX, Lens, Param
from capgraph.kernels.lenses import LENSES
from capgraph.kernels.rules import RULES
from capgraph.kernels.sampling import Interval, median

#: A map may also write its curves against pretraining loss (needs a loss law).
CurveAxis = Literal["params", "tokens", "flops", "loss"]

#: Where crossings are searched when a map gives no ``scale.range`` (on that axis).
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "params": (1e7, 1e14),
    "tokens": (1e8, 1e16),
    "flops": (1e18, 1e30),
}

# --- JSON Schema of numbers: as strict as check wherever a pattern or a bound can say it ----------
#
# YAML 1.1 reads 1e10 as text, and a scale may carry a suffix (7B), so where check accepts text the
# schema accepts text too, but only text that can be valid there: a suffix only on scales, and for
# values in (0, 1) or [0, 1] only decimals in range (or an exponent form such as 5e-1).

_MANTISSA = r"(\d+\.?\d*|\.\d+)"
_NONZERO = r"(?=[^eE\s]*[1-9])"  # some digit of the mantissa is not 0: the number is not zero
_TEXT = {  # (the number without spaces, what may follow it after optional spaces)
    "number": (rf"[+-]?{_MANTISSA}([eE][+-]?\d+)?", "[KMBTkmbt]?"),
    "scale": (rf"\+?{_NONZERO}{_MANTISSA}([eE][+-]?\d+)?", "[KMBTkmbt]?"),
    "positive": (rf"\+?{_NONZERO}{_MANTISSA}([eE][+-]?\d+)?", ""),
    "unit": (rf"\+?(0+(\.\d*)?|0*\.\d+|0*1(\.0*)?|{_MANTISSA}[eE]-\d+)", ""),
    "open_unit": (rf"\+?(0*\.\d*[1-9]\d*|{_MANTISSA}[eE]-\d+)", ""),
}
_BOUNDS = {  # JSON Schema bounds of the number form
    "number": {},
    "scale": {"exclusiveMinimum": 0},
    "positive": {"exclusiveMinimum": 0},
    "unit": {"minimum": 0, "maximum": 1},
    "open_unit": {"exclusiveMinimum": 0, "exclusiveMaximum": 1},
}


def number_schema(kind: str, **bounds: float) -> dict[str, Any]:
    """A number of one ``kind`` (``_TEXT``), as a JSON number or as text; ``bounds`` tighten it."""
    core, suffix = _TEXT[kind]
    tail = rf"\s*{suffix}\s*$" if suffix else r"\s*$"
    return {"anyOf": [{"type": "number", **_BOUNDS[kind], **bounds},
                      {"type": "string", "pattern": rf"^\s*{core}{tail}"}]}


_NUMBER_SCHEMA = number_schema("number")


def _wrap(parse):
    """Run a units parser, turning its ValueError into a clean pydantic error message."""

    def validate(value: Any) -> float:
        try:
            return parse(value)
        except ValueError as exc:
            raise PydanticCustomError("number", str(exc)) from None

    return validate


def _positive(value: float) -> float:
    if value <= 0:
        raise PydanticCustomError("positive", "must be greater than 0, got {value}", {"value": value})
    return value


def _unit_interval(value: float) -> float:
    if not 0 <= value <= 1:
        raise PydanticCustomError("unit", "must be between 0 and 1, got {value}", {"value": value})
    return value


def _open_unit(value: float) -> float:
    if not 0 < value < 1:
        raise PydanticCustomError(
            "threshold", "must lie strictly between 0 and 1, got {value}", {"value": value}
        )
    return value




_INTERVAL_TEXT = re.compile(r"^\s*(\S+)\s+to\s+(\S+)\s*$")


def _param(parse, check, *, log: bool, above: float = 0.0, below: float = math.inf):
    """Validator for a curve parameter: a number, ``"A to B"``, ``{p5: A, p95: B}`` or ``{p5, p50, p95}``.

    A plain float strictly between ``above`` and ``below`` takes a fast path (anything else, the
    full checks): maps of 100,000 skills are mostly such floats.
    """
    point = _wrap(parse)

    def one(value: Any) -> float:
        return check(point(value)) if check else point(value)

    def validate(value: Any) -> float | Interval:
        if type(value) is float and above < value < below:
            return value
        ends, centre = None, None
        if isinstance(value, str) and (match := _INTERVAL_TEXT.match(value)):
            ends = match.groups()
        elif isinstance(value, dict):
            if set(value) not in ({"p5", "p95"}, {"p5", "p50", "p95"}):
                raise PydanticCustomError("interval_keys", "an interval is written {p5: low, p95: high} "
                                          "or with its median {p5: low, p50: median, p95: high}")
            ends, centre = (value["p5"], value["p95"]), value.get("p50")
        if ends is None:
            return one(value)
        low, high = one(ends[0]), one(ends[1])
        if low > high:
            raise PydanticCustomError(
                "interval_order", f"the interval's ends are reversed: {low:g} to {high:g}"
            )
        mid = None if centre is None else one(centre)
        if mid is not None and not low <= mid <= high:
            raise PydanticCustomError(
                "interval_median", f"the median {mid:g} must lie between p5 {low:g} and p95 {high:g}"
            )
        return low if low == high else Interval(low, high, log, mid)

    return validate


def _param_schema(kind: str) -> dict[str, Any]:
    """A curve parameter: a number of ``kind``, ``"A to B"`` with such ends, or ``{p5: A, p95: B}``
    (optionally with ``p50``)."""
    base = number_schema(kind)
    core, suffix = _TEXT[kind]
    end = f"{core}{suffix}"  # interval ends are single words: no space before a suffix
    return {
        "anyOf": [
            *base["anyOf"],
            {"type": "string", "pattern": rf"^\s*{end}\s+to\s+{end}\s*$"},
            {"type": "object", "properties": {"p5": base, "p50": base, "p95": base},
             "required": ["p5", "p95"], "additionalProperties": False},
        ]
    }


def _number(parse, check=None, *, above: float, below: float):
    """``check(parse(value))`` as one validator, with pydantic's messages for ``parse``'s errors.

    A float strictly between ``above`` and ``below`` passes both at once: a map of 100,000 nodes
    has as many thresholds and points, and three Python calls each (the parser, pydantic's float,
    the check) were a tenth of its validation.
    """
    point = _wrap(parse)

    def validate(value: Any) -> float:
        if type(value) is float and above < value < below:
            return value
        return check(point(value)) if check else point(value)

    return validate


Number = Annotated[float, BeforeValidator(_wrap(parse_number)), WithJsonSchema(_NUMBER_SCHEMA)]
Scale = Annotated[float, PlainValidator(_number(parse_scale, above=0.0, below=math.inf)),
                  WithJsonSchema(number_schema("scale"))]
Positive = Annotated[Number, AfterValidator(_positive), WithJsonSchema(number_schema("scale"))]
Fraction = Annotated[float, PlainValidator(_number(parse_number, _unit_interval, above=0.0, below=1.0)),
                     WithJsonSchema(number_schema("unit"))]
Threshold = Annotated[float, PlainValidator(_number(parse_number, _open_unit, above=0.0, below=1.0)),
                      WithJsonSchema(number_schema("open_unit"))]

def _dump_param(value: float | Interval) -> float | dict[str, float]:
    """JSON form of a parameter, which reads back as the same value: a number, {p5, p95} or {p5, p50, p95}."""
    if not isinstance(value, Interval):
        return value
    if value.p50 is None:
        return {"p5": value.p5, "p95": value.p95}
    return {"p5": value.p5, "p50": value.p50, "p95": value.p95}


_PARAM_JSON = PlainSerializer(_dump_param, when_used="json")

# Curve parameters: a number or a 90% interval ("3e9 to 3e10", {p5: 3e9, p95: 3e10}), optionally
# with its median ({p5: 3e9, p50: 7e9, p95: 3e10}).
ScaleParam = Annotated[
    float | Interval, PlainValidator(_param(parse_scale, None, log=True)),
    WithJsonSchema(_param_schema("scale")), _PARAM_JSON,
]
PositiveParam = Annotated[
    float | Interval, PlainValidator(_param(parse_number, _positive, log=False)),
    WithJsonSchema(_param_schema("positive")), _PARAM_JSON,
]
FractionParam = Annotated[
    float | Interval, PlainValidator(_param(parse_number, _unit_interval, log=False, below=1.0)),
    WithJsonSchema(_param_schema("unit")), _PARAM_JSON,
]


class Strict(BaseModel):
    """Every model rejects unknown keys (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def field_names(cls: type[BaseModel]) -> tuple[str, ...]:
    """A model's keys, cached: pydantic's ``model_fields`` is costly to reach on 100,000 nodes."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(cls.model_fields)
    return names


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _chosen(model: BaseModel) -> list[str]:
    # a model's __dict__ holds exactly its fields, in declaration order: no getattr per field
    return [name for name, value in model.__dict__.items() if value is not None]


def _one_of(model: BaseModel) -> None:
    chosen = _chosen(model)
    if len(chosen) != 1:
        options = ", ".join(field_names(type(model)))
        got = f" (got {', '.join(chosen)})" if chosen else ""
        raise PydanticCustomError("one_of", f"needs exactly one of: {options}{got}")


# --- curves ----------------------------------------------------------------------------------------


def _param_field(p: Param) -> tuple[Any, Any]:
    """The annotation and field of one curve parameter, from its record."""
    if p.log:
        kind = ScaleParam
    elif p.closed and p.bounds == (0.0, 1.0):
        kind = FractionParam
    elif not p.closed and p.bounds == (0.0, math.inf):
        kind = PositiveParam
    else:
        raise TypeError(f"no schema type for parameter {p.name} with bounds {p.bounds}")
    return kind, Field(... if p.default is None else p.default, description=p.description)


def _above(low: str, high: str):
    """Validator: parameter ``high`` above parameter ``low`` (compared at their medians)."""

    def check(cls, value: float | Interval, info: ValidationInfo) -> float | Interval:
        other = info.data.get(low)
        if other is not None and median(other) >= median(value):
            raise PydanticCustomError(
                "floor_ceiling", f"{low} ({other}) must be below {high} ({value})"
            )
        return value

    return field_validator(high)(check)


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _family_model(name: str) -> type[Strict]:
    """The model of one parametric curve family's block, built from its registry record."""
    family = FAMILIES[name]
    validators = {f"_{p.name}_above_{p.above}": _above(p.above, p.name) for p in family.params if p.above}
    return create_model(_camel(name), __base__=Strict, __doc__=family.description,
                        __validators__=validators, **{p.name: _param_field(p) for p in family.params})


#: One model per parametric curve family (``Logistic``, ``PowerLaw``...), from the registry.
CURVE_MODELS: dict[str, type[Strict]] = {
    name: _family_model(name) for name, family in FAMILIES.items() if family.batch == "block"
}
Logistic = CURVE_MODELS["logistic"]
PowerLaw = CURVE_MODELS["power_law"]
#: Families ``fit:`` can fit.
FITTABLE = tuple(name for name, family in FAMILIES.items() if family.fit is not None)


def _points(value: Any) -> Any:
    if not isinstance(value, list) or len(value) < 2:
        raise PydanticCustomError("points", "points needs a list of at least two [scale, value] pairs")
    return value


class Point(Strict):
    """One observed point; written as a pair ``[scale, value]``."""

    x: Scale
    y: Fraction

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"x": value[0], "y": value[1]}
        raise PydanticCustomError("pair", "a point is a pair [scale, value]")


Points = Annotated[
    list[Point],
    BeforeValidator(_points),
    WithJsonSchema(
        {
            "type": "array",
            "minItems": 2,
            "items": {"type": "array", "prefixItems": [number_schema("scale"), number_schema("unit")],
                      "minItems": 2, "maxItems": 2},
        }
    ),
]


def _bounded_fits() -> tuple[str, ...]:
    """Fittable families with a floor and a ceiling (the options ``fit:`` may fix)."""
    return tuple(n for n in FITTABLE if {"floor", "ceiling"} <= set(FAMILIES[n].names))


class FitSpec(Strict):
    """A curve fitted to evaluation results when the map loads (see :mod:`capgraph.evidence.fitmap`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        "if": {"properties": {"curve": {"not": {"enum": list(_bounded_fits())}}}, "required": ["curve"]},
        "then": {"properties": {"floor": {"const": 0}, "ceiling": {"const": 1}}},
    })

    data: str = Field(description="CSV or JSON Lines file of results, or evaluation-harness result "
                      "files (a file, a folder or a glob such as runs/**/*.json), relative to the map file.")
    x: str = Field(description="Column holding the scale (on the map's axis), or an expression of columns.")
    y: str = Field(description="Column holding the score, in [0, 1], or an expression of columns "
                   "such as 1 / ppl or exp(-loss).")
    where: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Keep only rows whose columns equal these values (for "
        "harness results: task, metric, filter, n_shot, model and any models-table column)."
    )
    models: str | None = Field(
        None, description="Table of model facts (CSV or JSON Lines: model, optional revision, "
        "params, tokens, flops, ...) joined to harness results, relative to the map file."
    )
    groups: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Tasks averaged into one, by name: patterns of task "
        "names, e.g. {mmlu: 'hendrycksTest-*'}; select the mean with where: {task: mmlu}."
    )
    weights: Literal["auto", "stderr", "none"] = Field(
        "auto", description="Weigh rows by their standard errors: auto (when every row has one), "
        "stderr (always) or none."
    )
    curve: Literal[FITTABLE] = Field(FITTABLE[0], description="Curve family to fit.")
    floor: Fraction = Field(0.0, description="Fixed floor of a logistic (chance level).")
    ceiling: Fraction | Literal["free"] = Field(
        1.0, description="Fixed ceiling of a logistic, or free to fit it."
    )
    ranges: bool = Field(
        False, description="Carry each fitted parameter's 90% bootstrap interval into the map as a "
        "range, so Monte Carlo propagates the fit's uncertainty."
    )
    scatter: bool = Field(
        False, description="Widen the fitted midpoint by the scatter of models around the curve (a "
        "logistic): predict then answers when some model of a size crosses (its p5), not only the "
        "typical one."
    )
    capability: list[str] | None = Field(
        None, description="Benchmark columns: fit against their first principal "
        "component, linked back to the map's axis for the reference family (a logistic)."
    )
    family: str | None = Field(
        None, description="Column naming model families: shrunk efficiency offsets (with capability: "
        "the family link); the map gets the curve of the reference family."
    )
    reference: str | None = Field(
        None, description="Family whose curve the map gets (default: the typical family)."
    )

    @model_validator(mode="after")
    def _logistic_only(self) -> FitSpec:
        with_bounds = _bounded_fits()
        if self.curve not in with_bounds and (self.floor != 0 or self.ceiling != 1):
            raise PydanticCustomError(
                "fit_bounds", f"floor and ceiling apply to curve: {' or '.join(with_bounds)} only"
            )
        if self.ceiling != "free" and self.floor >= self.ceiling:
            raise PydanticCustomError("floor_ceiling", "floor ({floor}) must be below ceiling ({ceiling})",
                                      {"floor": self.floor, "ceiling": self.ceiling})
        return self


class _Curve(Strict):
    """How a skill's value depends on scale; exactly one key."""

    model_config = ConfigDict(extra="forbid", frozen=True,
                              json_schema_extra={"minProperties": 1, "maxProperties": 1})

    @model_validator(mode="after")
    def _exactly_one(self) -> _Curve:
        _one_of(self)
        if getattr(self, "points", None) is not None:
            xs = [p.x for p in self.points]
            for i in range(1, len(xs)):
                if xs[i] <= xs[i - 1]:
                    raise PydanticCustomError(
                        "points_order", "points must have strictly increasing scales (point {i})",
                        {"i": i + 1},
                    )
        return self

    @cached_property
    def kind(self) -> str:
        return _chosen(self)[0]


def _curve_field(name: str) -> tuple[Any, Any]:
    family = FAMILIES[name]
    body = CURVE_MODELS[name] if family.batch == "block" else Points  # "table": observed pairs
    return body | None, Field(None, description=family.description)


Curve = create_model(
    "Curve", __base__=_Curve, __doc__=_Curve.__doc__,
    **{name: _curve_field(name) for name in FAMILIES},
    fit=(FitSpec | None, Field(None, description="Fitted to a results file when the map loads.")),
)


# --- metric lenses ---------------------------------------------------------------------------------


def _lens_model(lens: Lens) -> type[Strict]:
    """The model of one lens's block (``{k: 5}``), built from its registry record."""
    fields: dict[str, Any] = {}
    if lens.param is not None:
        if lens.integer:
            kind: Any = Annotated[int, Field(ge=lens.low, le=WHOLE_MAX)]
        elif lens.low == 0:
            kind = Positive
        else:
            raise TypeError(f"no schema type for lens parameter {lens.param} above {lens.low}")
        fields[lens.param] = (kind, Field(description=lens.param_description))
    return create_model(_camel(lens.name), __base__=Strict, __doc__=lens.description, **fields)


#: One model per lens (``ExactMatch``, ``PassAt``...), from the registry.
LENS_MODELS: dict[str, type[Strict]] = {name: _lens_model(lens) for name, lens in LENSES.items()}
Identity = LENS_MODELS["identity"]
ExactMatch = LENS_MODELS["exact_match"]
MultipleChoice = LENS_MODELS["multiple_choice"]
PassAt = LENS_MODELS["pass_at"]


def _metric_text(value: Any) -> Any:
    if isinstance(value, str):  # 'identity' may be written bare
        return {value: {}}
    return value


class _Metric(Strict):
    """How an ability is scored from its success probability p; exactly one key."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _Metric:
        _one_of(self)
        return self

    @cached_property
    def kind(self) -> str:
        return _chosen(self)[0]


Metric = create_model(
    "Metric", __base__=_Metric, __doc__=_Metric.__doc__,
    **{name: (model | None, Field(None, description=LENSES[name].description))
       for name, model in LENS_MODELS.items()},
)

MetricField = Annotated[
    Metric,
    BeforeValidator(_metric_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "identity"},
                {
                    "type": "object",
                    "properties": {
                        name: model.model_json_schema() if model.model_fields else {"type": "object"}
                        for name, model in LENS_MODELS.items()
                    },
                    "additionalProperties": False,
                    "minProperties": 1,
                    "maxProperties": 1,
                },
            ]
        }
    ),
]


# --- nodes -----------------------------------------------------------------------------------------


class Skill(Strict):
    """A leaf ability with a smooth scaling curve of its own."""

    description: str | None = Field(None, description="Free text, shown by show and in reports.")
    curve: Curve = Field(description="The skill's value against scale.")
    metric: MetricField | None = Field(None, description="Scoring lens; default identity.")
    threshold: Threshold | None = Field(
        None, description="Usable at this value; a skill is predicted only when it has one."
    )
    column: str | None = Field(None, description="Column of this skill's scores in audit data "
                               "(default: the skill's name).")


def _requires(value: Any) -> Any:
    if isinstance(value, dict):
        for child, count in value.items():  # pydantic's float would read true as 1
            if isinstance(count, bool):
                raise PydanticCustomError("requires_bool", "'{child}': expected a count, got {got}",
                                          {"child": child, "got": str(count).lower()})
    if isinstance(value, list):  # [a, b] means {a: 1, b: 1}
        out: dict[Any, Any] = {}
        for item in value:
            if not isinstance(item, str):
                raise PydanticCustomError(
                    "requires_item", f"requires lists node names, got {item!r}"
                    + (" (quote names such as yes, no and on in a list)" if isinstance(item, bool) else "")
                )
            if item in out:
                raise PydanticCustomError("requires_dup", "'{item}' is listed twice", {"item": item})
            out[item] = 1
        return out
    return value


# Counts are checked in pydantic's core (no Python call per edge: maps can have 100,000s of them).
Weight = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Requires = Annotated[
    dict[str, Weight],
    BeforeValidator(_requires),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "object", "additionalProperties": number_schema("positive"), "minProperties": 1},
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
            ]
        }
    ),
]


#: The rules whose parameter is a capability's ``k``.
_WITH_K = " or ".join(name for name, rule in RULES.items() if rule.param == "k")


def _k_schema() -> dict[str, Any]:
    """k only with the rules that take it, and then required, with whole counts for per-trial rules."""
    with_k = [name for name, rule in RULES.items() if rule.param == "k"]
    per_trial = [name for name, rule in RULES.items() if rule.per_trial]
    whole = {"anyOf": [{"type": "integer", "exclusiveMinimum": 0},
                       {"type": "string", "pattern": r"^\s*\+?0*[1-9]\d*(\.0*)?\s*$"}]}
    return {"allOf": [
        {"if": {"properties": {"combine": {"enum": with_k}}, "required": ["combine"]},
         "then": {"required": ["k"]}, "else": {"not": {"required": ["k"]}}},
        {"if": {"properties": {"combine": {"enum": per_trial}}, "required": ["combine"]},
         "then": {"properties": {"requires": {"anyOf": [
             {"type": "object", "additionalProperties": whole}, {"type": "array"}]}}}},
    ]}


class Capability(Strict):
    """A composite ability: its children combined by a rule, then scored by a metric."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_k_schema())

    description: str | None = Field(None, description="Free text, shown by show and in reports.")
    requires: Requires = Field(
        description="Children (skills or capabilities) with a count or weight each, or a plain "
        "list (count 1 each)."
    )
    combine: Literal[tuple(RULES)] = Field("all", description="Composition rule over the children.")
    k: int | None = Field(None, ge=1, description=f"With combine: {_WITH_K}, how many must succeed.")
    metric: MetricField | None = Field(None, description="Scoring lens; default identity.")
    threshold: Threshold | None = Field(None, description="Usable at this value; default: the map's.")
    correlation: Fraction | None = Field(
        None, description="Overrides the map's correlation for the skills below this capability."
    )
    column: str | None = Field(None, description="Column of this capability's scores in audit data "
                               "(default: its name).")

    @field_validator("requires")
    @classmethod
    def _not_empty(cls, requires: dict[str, float]) -> dict[str, float]:
        if not requires:
            raise PydanticCustomError("requires_empty", "needs at least one child")
        return requires

    @field_validator("k")
    @classmethod
    def _k_fits(cls, k: int | None, info: ValidationInfo) -> int | None:
        combine, requires = info.data.get("combine"), info.data.get("requires")
        rule = RULES.get(combine)
        if k is not None and rule is not None and rule.param != "k":
            raise PydanticCustomError("k_unused", f"k applies only to combine: {_WITH_K}")
        if k is not None and requires and rule is not None and rule.per_trial:
            counts = list(requires.values())
            if any(c != int(c) for c in counts):
                raise PydanticCustomError(
                    "k_counts", "with k_of_n every count must be a whole number of trials"
                )
            if TRIALS.exceeded(sum(counts)):  # the engine steps through every trial on the whole grid
                raise PydanticCustomError(
                    "k_trials", TRIALS.refusal(sum(counts), "the number of trials (the sum of the counts)"))
            if k > sum(counts):
                raise PydanticCustomError(
                    "k_too_big", "k = {k} but the children make only {n} trial(s)",
                    {"k": k, "n": int(sum(counts))},
                )
        return k

    @model_validator(mode="after")
    def _k_given(self) -> Capability:
        if RULES[self.combine].param == "k" and self.k is None:
            raise PydanticCustomError("k_missing", f"combine: {self.combine} needs a key k")
        return self


# --- the map ---------------------------------------------------------------------------------------


#: Loss laws a map may name instead of writing the constants (SCIENCE.md §4).
LOSS_PRESETS: dict[str, dict[str, float]] = {
    # Hoffmann et al. 2022, the constants printed in the paper.
    "hoffmann2022": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
    # Besiroglu et al. 2024, the refit of Hoffmann's own data (arXiv:2404.10102).
    "besiroglu2024": {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658},
}


class LossLawSpec(Strict):
    """L(N, D) = E + A/N^alpha + B/D^beta: pretraining loss of N parameters trained on D tokens."""

    E: Positive = Field(description="Irreducible loss.")
    A: Positive = Field(description="Coefficient of the parameter term.")
    B: Positive = Field(description="Coefficient of the data term.")
    alpha: Positive = Field(description="Exponent of parameters.")
    beta: Positive = Field(description="Exponent of training tokens.")


Preset = Literal["hoffmann2022", "besiroglu2024"]


class AllocationSpec(Strict):
    """How a compute budget splits into parameters and tokens; at least one key."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"minProperties": 1})

    tokens_per_param: Positive | None = Field(
        None, description="A fixed ratio r: tokens = r·params (with loss_law, the law only gives the loss)."
    )
    loss_law: LossLawSpec | Preset | None = Field(
        None, description="A loss law (or preset name); alone, training is compute-optimal under it."
    )

    @model_validator(mode="after")
    def _something(self) -> AllocationSpec:
        if self.tokens_per_param is None and self.loss_law is None:
            raise PydanticCustomError("allocation_empty", "needs tokens_per_param, loss_law or both")
        return self


def _known_preset(value: Any) -> Any:
    if isinstance(value, str) and value not in LOSS_PRESETS:
        hint = did_you_mean(value, LOSS_PRESETS)
        raise PydanticCustomError(
            "preset", "unknown loss-law preset '{value}'{hint}; use one of {names}",
            {"value": value, "hint": hint, "names": ", ".join(LOSS_PRESETS)},
        )
    return value


def _law(allocation: Any) -> Any:
    """The loss law (a preset name or LossLawSpec) of a validated allocation, or None."""
    if isinstance(allocation, str):
        return allocation
    return allocation.loss_law if allocation is not None else None


class ScaleSpec(Strict):
    """Which axis curves are written on, where to search, and how the units relate."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        # a ratio is given once: here or inside allocation
        "not": {"required": ["tokens_per_param", "allocation"]},
        # a loss axis needs a loss law: a preset, or an allocation with loss_law
        "if": {"properties": {"axis": {"const": "loss"}}, "required": ["axis"]},
        "then": {"required": ["allocation"], "properties": {"allocation": {
            "anyOf": [{"type": "string"}, {"type": "object", "required": ["loss_law"]}]}}},
    })

    # Declared first so the validators of the keys below can see it and point at their own key.
    allocation: Annotated[AllocationSpec | Preset, BeforeValidator(_known_preset)] | None = Field(
        None, description="How compute splits into params and tokens: {tokens_per_param: r}, "
        "{loss_law: {E, A, B, alpha, beta}} or a preset (hoffmann2022, besiroglu2024)."
    )
    axis: CurveAxis = Field(
        "params", description="Axis of curve parameters: params, tokens, flops or loss (needs a loss law)."
    )
    range: tuple[Scale, Scale] | None = Field(
        None,
        description="[low, high] on the axis where crossings are searched; default by axis: "
        "params 1e7–1e14, tokens 1e8–1e16, flops 1e18–1e30.",
    )
    tokens_per_param: Positive = Field(
        20.0, description="Training tokens per parameter (Chinchilla ≈ 20); flops = 6·params·tokens."
    )
    data_limit: Scale | None = Field(
        None, description="Usable training tokens that exist; crossings needing more are flagged."
    )

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] >= value[1]:
            raise PydanticCustomError(
                "range_order", f"must be [low, high] with low < high, got [{value[0]:g}, {value[1]:g}]"
            )
        return value

    @field_validator("axis")
    @classmethod
    def _loss_needs_law(cls, axis: str, info: ValidationInfo) -> str:
        if axis == "loss" and "allocation" in info.data and _law(info.data["allocation"]) is None:
            raise PydanticCustomError(
                "loss_axis", "loss needs a loss law: allocation: besiroglu2024, hoffmann2022 "
                "or {loss_law: {E, A, B, alpha, beta}}"
            )
        return axis

    @field_validator("range")
    @classmethod
    def _above_irreducible(cls, value: tuple[float, float] | None,
                           info: ValidationInfo) -> tuple[float, float] | None:
        law = _law(info.data.get("allocation"))
        if value is not None and info.data.get("axis") == "loss" and law is not None:
            floor = LOSS_PRESETS[law]["E"] if isinstance(law, str) else law.E
            if value[0] <= floor:
                raise PydanticCustomError(
                    "loss_range", "on the loss axis the low end must exceed the law's irreducible "
                    "loss E = {E}, got {low}", {"E": floor, "low": value[0]}
                )
        return value

    @field_validator("tokens_per_param")
    @classmethod
    def _one_ratio(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("allocation") is not None:  # runs only when tokens_per_param is written
            raise PydanticCustomError(
                "ratio_twice", "give either tokens_per_param or allocation, not both "
                "(write allocation: {tokens_per_param: r})"
            )
        return value

    @property
    def bounds(self) -> tuple[float, float]:
        return self.range or DEFAULT_RANGES[self.axis if self.axis != "loss" else "flops"]


class Timeline(Strict):
    """The largest training run's compute at a date and its yearly growth: turns FLOPs into dates."""

    start: date = Field(description="Date of the reference run, YYYY-MM-DD.")
    flops: Scale = Field(description="Training FLOPs of the largest run at the start date.")
    growth_per_year: Annotated[Positive, WithJsonSchema(number_schema("scale", exclusiveMinimum=1))] = Field(
        description="Yearly growth factor of the largest run (> 1).")

    @field_validator("growth_per_year")
    @classmethod
    def _grows(cls, value: float) -> float:
        if value <= 1:
            raise PydanticCustomError("growth", "must be greater than 1 (a yearly factor), got {value}",
                                      {"value": value})
        return value


class Scenario(Strict):
    """A named overlay on the map: only the keys it names change (deep merge, null deletes a key)."""

    description: str | None = Field(None, description="What the scenario assumes.")
    efficiency: Positive = Field(
        1.0, description="Multiplier on effective compute: 3 gets from 1e24 FLOPs what the map "
        "gets from 3e24."
    )
    scale: dict[str, Any] | None = Field(None, description="Overlay on scale (allocation, data_limit...).")
    threshold: Annotated[Any, WithJsonSchema({"anyOf": [number_schema("open_unit"), {"type": "null"}]})] = (
        Field(None, description="A new default threshold."))
    skills: dict[str, Any] | None = Field(None, description="Overlays on existing skills by name.")
    capabilities: dict[str, Any] | None = Field(
        None, description="Overlays on existing capabilities by name."
    )
    timeline: dict[str, Any] | None = Field(None, description="Overlay on the timeline.")


class MapSpec(Strict):
    """A capability map: skills with curves, capabilities composed from them.

    Top-level keys starting with ``x-`` are ignored: a place for YAML anchors and notes.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True,
        json_schema_extra={"patternProperties": {"^x-": {}}},
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_extensions(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data

    name: str | None = Field(None, description="The map's title.")
    description: str | None = Field(None, description="Free text about the map.")
    scale: ScaleSpec = Field(default_factory=ScaleSpec, description="Scale axis, range and units.")
    threshold: Threshold = Field(0.5, description="Default threshold of every capability.")
    correlation: Fraction = Field(
        0.0, description="Correlation ρ of skills through a shared general-capability factor (in Monte "
        "Carlo draws of ranged parameters)."
    )
    skills: dict[str, Skill] = Field(description="Leaf abilities by name.",
                                     json_schema_extra={"minProperties": 1})
    capabilities: dict[str, Capability] = Field(
        default_factory=dict, description="Composite abilities by name."
    )
    timeline: Timeline | None = Field(None, description="Compute of the largest run over time, for dates.")
    scenarios: dict[str, Scenario] = Field(
        default_factory=dict, description="Named overlays: other assumptions to compare."
    )

    @field_validator("skills")
    @classmethod
    def _some_skills(cls, skills: dict[str, Skill]) -> dict[str, Skill]:
        if not skills:
            raise PydanticCustomError("no_skills", "needs at least one skill")
        return skills


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the map format (``capgraph schema``), for editors and validators."""
    schema = MapSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "capgraph capability map"
    return schema

