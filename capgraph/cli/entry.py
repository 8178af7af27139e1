"""The ``capgraph`` console script: Ctrl-C while the command line is still loading ends quietly too.

Importing the app (Typer, rich, numpy and the commands) takes a noticeable fraction of a second; a
Ctrl-C in that time would otherwise print a traceback from deep inside an import.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Load the app, then run it (see :func:`capgraph.cli.app.main` for the exit statuses)."""
    try:
        # imported here, not at the top: this is the import that a Ctrl-C must be able to interrupt
        from capgraph.cli.app import main as run
    except KeyboardInterrupt:
        sys.stderr.write("capgraph: interrupted; nothing was written\n")
        raise SystemExit(130) from None
    run()
