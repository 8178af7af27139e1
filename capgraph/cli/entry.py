"""The ``capgraph`` console script (and ``python -m capgraph``): Ctrl-C while the command line is
still loading ends quietly too, and a finished command leaves without tearing down its heap.

Importing the app (Typer, rich, numpy and the commands) takes a noticeable fraction of a second; a
Ctrl-C in that time would otherwise print a traceback from deep inside an import.

Freeing every object one by one at interpreter exit is pure waste for a process that is about to
end: for a 100,000-node map it took 1.7 s, 15% of ``predict``. So once the command has finished,
:func:`main` runs the ``atexit`` handlers itself, flushes stdout and stderr, and ends the process
with ``os._exit`` and the command's exit status; the operating system reclaims the memory at once.
For the same reason the map a command loads is frozen out of the garbage collector's passes
(``common.FREEZE_LOADED_MAP``).
Only the console script does this: tests that run the app in-process (Typer's ``CliRunner``, or
:func:`capgraph.cli.app.main`) exit as usual.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading


def main() -> None:
    """Load the app, then run it (see :func:`capgraph.cli.app.main` for the exit statuses)."""
    # OpenBLAS starts a thread per core as numpy loads, a tenth of a small command's start-up; the
    # matrices capgraph multiplies are tiny (fits of a few parameters), so one thread is faster
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        # imported here, not at the top: this is the import that a Ctrl-C must be able to interrupt
        from capgraph.cli import common
        from capgraph.cli.app import main as run
    except KeyboardInterrupt:
        sys.stderr.write("capgraph: interrupted; nothing was written\n")
        raise SystemExit(130) from None
    common.FREEZE_LOADED_MAP = True  # this process ends with the command (see cli/common.py)
    try:
        run()
    except SystemExit as exc:
        leave(exc)
    leave(SystemExit(0))


def leave(exc: SystemExit) -> None:
    """End the process with ``exc``'s status, skipping the interpreter's teardown of the heap.

    Whenever the fast way could lose something, this falls back to raising ``exc`` (the usual exit):
    an exit status that is not an int (``sys.exit`` prints it), other threads still running (the
    interpreter would wait for them), or a stream that fails to flush (a closed pipe: the usual exit
    reports it the usual way).
    """
    code = exc.code
    if code is None:
        code = 0
    if not isinstance(code, int) or threading.active_count() > 1:
        raise exc
    atexit._run_exitfuncs()  # whatever registered one (logging, matplotlib) still gets its turn
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise exc from None
    os._exit(code & 0xFF)  # the status sys.exit(code) gives on POSIX
