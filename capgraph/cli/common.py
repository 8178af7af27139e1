"""What every command shares: the consoles, option types, loading a map, JSON out, exits.

Nothing heavy is imported at the top of the CLI: ``capgraph --help`` must not pay for numpy, the
engine or pydantic, so each command imports the library it calls inside its body.
"""

from __future__ import annotations

import gc
import math
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.segment import Segment

from capgraph.core.defaults import DEFAULT_SAMPLES, DEFAULT_SEED
from capgraph.core.errors import MapError, Problem
from capgraph.core.text import printable
from capgraph.core.units import parse_scale
from capgraph.outputs.jsonout import emit_json

if TYPE_CHECKING:
    from capgraph.model.capmap import CapabilityMap

__all__ = ["DEFAULT_SAMPLES", "DEFAULT_SEED", "emit_json"]

T = TypeVar("T")


class SafeConsole(Console):
    """A rich console that shows control characters in text instead of sending them to the terminal.

    Names come from maps and data files: an ESC in a name must not move the cursor or repaint an
    error as "ok". rich's own escape sequences (styles, cursor moves) travel in styles and control
    segments, never in a segment's text, so escaping the text of plain segments is exact. Markup
    is off for the same reason: ``[bold]`` in a name is text, not an instruction.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, highlight=False, **options)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            Segment(printable(seg.text), seg.style) if seg.control is None and seg.text else seg
            for seg in buffer
        )


# Piped output gets a fixed, generous width: stable text for scripts and tests, no truncated names.
out = SafeConsole(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120)


err = SafeConsole(stderr=True)


MapArg = Annotated[str, typer.Argument(metavar="MAP", help="A capability map (YAML or JSON).",
                                       show_default=False)]


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON with stable keys.")]


# Typer re-exports click's exceptions (newer releases vendor click), so find the base class there.
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def warn(problems: list[Problem]) -> None:
    """One unwrapped line a problem on stderr, the form editors and CI annotations read."""
    for problem in problems:
        sys.stderr.write(f"{problem}\n")


#: True in the console script (:mod:`capgraph.cli.entry`), whose process ends with its command: the
#: map loaded for the command is then moved out of the cyclic garbage collector's sight
#: (``gc.freeze``), since it lives to the end anyway. Otherwise the collector's first pass after
#: loading walks every object of the map (0.4 s for 100,000 nodes), and later passes again. Callers
#: in the same process (tests, notebooks) keep the collector as it is.
FREEZE_LOADED_MAP = False


def load_map(path: str) -> CapabilityMap:
    """Load a map, or print its problems and exit with status 1."""
    from capgraph.model.capmap import load  # deferred: the engine is not needed for --help (start-up)

    freeze = FREEZE_LOADED_MAP and gc.isenabled()
    if freeze:
        gc.disable()
    try:
        cmap = load(path)
    except MapError as exc:
        warn(exc.problems)
        raise typer.Exit(1) from None
    finally:
        if freeze:
            gc.freeze()
            gc.enable()
    warn(cmap.warnings())
    return cmap


def finite(value: float | None) -> float | None:
    """Option callback: NaN and infinity are not numbers a command can use (a usage error, exit 2)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


def usage(hint: str, call: Callable[..., T], *args, **kwargs) -> T:
    """``call(*args, **kwargs)``, a library check or parser; its ValueError is a usage error (exit 2)
    naming the option ``hint``. The library owns the rule and its wording, the CLI only the option."""
    try:
        return call(*args, **kwargs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


SamplesOpt = Annotated[int, typer.Option("--samples", min=0, help="Monte Carlo samples for "
                                         "parameter ranges; 0 or 1: the point estimate, as --at-medians.")]


AtMediansOpt = Annotated[bool, typer.Option("--at-medians", help="The map with every range at its "
                                            "median (no Monte Carlo), instead of the Monte Carlo median.")]


SeedOpt = Annotated[int, typer.Option("--seed", min=0,
                                      help="Random seed: the same seed gives the same output.")]


def unit_name(value: str | None) -> str | None:
    """``--unit`` read without regard to case: FLOPs, Params and flops are one unit."""
    return value.strip().lower() if value is not None else None


UnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit of the scale given: params, tokens, "
                                              "flops, or loss with a loss law (default: the map's axis).",
                                              show_default=False, callback=unit_name)]


def check_samples(cmap: CapabilityMap, samples: int) -> None:
    """``--samples`` that would not fit in memory is a usage error (exit 2), refused before drawing."""
    refusal = cmap.samples_refusal(samples)
    if refusal:
        raise typer.BadParameter(refusal, param_hint="--samples")


SelectOpt = Annotated[list[str] | None, typer.Option(
    "--select", "-s", help="Only these nodes, dbt-style: NODE, +NODE (and what it requires), NODE+ "
    "(and what requires it), +NODE+, 2+NODE (two steps); repeat for several.", show_default=False)]


ExcludeOpt = Annotated[list[str] | None, typer.Option(
    "--exclude", help="Leave these nodes out (same forms as --select).", show_default=False)]


def selection(cmap: CapabilityMap, select: list[str] | None, exclude: list[str] | None) -> set[str] | None:
    """The nodes ``--select``/``--exclude`` keep (None: no selector given, so every node)."""
    if not select and not exclude:
        return None
    hint = "--select" if select else "--exclude"
    chosen = set(usage(hint, cmap.select, select or (), exclude or ()))
    if not chosen:
        raise typer.BadParameter("leaves no node to show", param_hint=hint)
    return chosen


def check_unit(unit: str | None, axes_only: bool = False) -> None:
    """``--unit`` must name a unit: any (loss too, with a loss law), or with ``axes_only`` a scale axis."""
    from capgraph.kernels.scale import AXES, UNITS  # deferred: numpy is not needed for --help (start-up)

    allowed = AXES if axes_only else UNITS
    if unit is not None and unit not in allowed:
        from capgraph.core.suggest import did_you_mean

        raise typer.BadParameter(f"must be one of {', '.join(allowed)}{did_you_mean(unit, allowed)}",
                                 param_hint="--unit")


def with_options(cmap: CapabilityMap, scenario: str | None, data_limit: str | None) -> CapabilityMap:
    """The map under ``--scenario`` and ``--data-limit``; a bad value is a usage error (exit 2)."""
    if scenario is None and data_limit is None:
        return cmap
    limit = None if data_limit is None else usage("--data-limit", parse_scale, data_limit)
    try:
        return cmap.scenario(scenario or "baseline", data_limit=limit)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--scenario") from None
    except MapError as exc:
        warn(exc.problems)
        raise typer.Exit(1) from None


def say(text: str) -> None:
    """Plain lines on stdout, control characters shown as escapes (a final newline added if missing):
    no wrapping, so long names stay on their line."""
    text = printable(text)
    sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")
