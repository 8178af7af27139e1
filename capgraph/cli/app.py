"""The ``capgraph`` command: a thin Typer layer over the library.

Each command loads a map, calls one library function and prints its result as a rich table or, with
``--json``, as JSON with stable keys. Exit status: 0 success, 1 invalid input (every problem printed
as ``file:line:col: message``), 2 usage error, 3 a bug in capgraph (with a report worth filing).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated

import typer

from capgraph import __version__
from capgraph.cli import authoring, evidence, explain, maps, pictures, results
from capgraph.cli.common import ClickException, err, out

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Capability maps: at which scale do composite abilities cross their thresholds?",
)


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



# Commands live in modules by concern; the order here is the order of `capgraph --help`.
app.command()(authoring.new)
app.command()(maps.check)
app.command()(maps.show)
app.command()(maps.predict)
app.command()(maps.at)
app.command()(maps.schema)
app.command()(maps.compare)
app.command()(authoring.serve)
app.command()(explain.explain)
app.command("fit-loss")(evidence.fit_loss)
app.command()(results.results)
app.command()(evidence.fit)
app.command()(evidence.backtest)
app.command()(evidence.lens)
app.command()(evidence.audit)
app.command("render")(pictures.render_command)
app.command("plot")(pictures.plot_command)
app.command("report")(pictures.report_command)


def main() -> None:
    """Entry point: usage errors exit 2, bugs exit 3 with a report instead of a bare traceback."""
    # capgraph uses no pydantic plugins, and looking for them reads the metadata of every installed
    # package before the first map is validated (start-up); a user's own setting still wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        code = app(standalone_mode=False)
    except ClickException as exc:  # usage errors: exit status 2
        exc.show()
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        code = INTERRUPTED
    except Exception as exc:  # invalid input never gets here (commands exit 1); this is a bug
        err.print("capgraph: internal error (a bug; please report it with the map and this text):",
                  markup=False)
        err.print("".join(traceback.format_exception(exc)), markup=False)
        sys.exit(3)
    if code == INTERRUPTED:  # Ctrl-C; typer turns it into this exit status without a word
        err.print("capgraph: interrupted; nothing was written")
    sys.exit(code if isinstance(code, int) else 0)


#: Exit status after Ctrl-C (128 + SIGINT, as shells report a process ended by it).
INTERRUPTED = 130
