"""Commands for writing maps: ``new`` (a commented starter map) and ``serve`` (a live preview)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capgraph.cli.common import err, out


def new(
    path: Annotated[str, typer.Argument(metavar="FILE", help="The map file to create (.yaml).",
                                        show_default=False)],
    name: Annotated[str | None, typer.Option("--name", help="The map's name (default: from the "
                                             "file name).", show_default=False)] = None,
    schema: Annotated[bool, typer.Option("--schema/--no-schema", help="Also write "
                                         "capgraph.schema.json beside it for editors, unless "
                                         "it exists.")] = True,
) -> None:
    """Write a commented starter map (a skill, a capability with a lens, a range, a scenario)."""
    from capgraph.core.files import write_atomic
    from capgraph.format.schema import json_schema
    from capgraph.format.starter import SCHEMA_FILE, starter_map

    target = Path(path)
    if target.exists():
        raise typer.BadParameter(f"{path} exists; capgraph new never overwrites a file",
                                 param_hint="FILE")
    written = [path]
    try:
        write_atomic(target, starter_map(target.name, name))
        beside = target.parent / SCHEMA_FILE
        if schema and not beside.exists():
            import json

            write_atomic(beside, json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")
            written.append(str(beside))
    except OSError as exc:
        err.print(f"capgraph: cannot write {path}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    out.print(f"wrote {' and '.join(written)}; next: capgraph predict {path}", markup=False)


def serve(
    path: Annotated[str, typer.Argument(metavar="MAP", help="The map to preview.", show_default=False)],
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 "
                                      "(0: any free port).")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
) -> None:
    """A live page of the map (graph, curves, predictions) on 127.0.0.1 that follows every save,
    showing file:line:col problems while the map is broken. Stop it with Ctrl-C."""
    import threading

    from capgraph.outputs.live import LivePreview

    if not Path(path).is_file():
        err.print(f"capgraph: cannot read {path}: no such file", markup=False)
        raise typer.Exit(1)

    def said(state: dict) -> None:
        for line in state["problems"] or [state["status"]]:
            err.print(line, markup=False, soft_wrap=True)

    try:
        preview = LivePreview(path, port=port, on_change=said)
    except OSError as exc:
        err.print(f"capgraph: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; "
                  "choose another with --port (0: any free port)", markup=False)
        raise typer.Exit(1) from None
    preview.start()
    out.print(f"serving {path} at {preview.url} (Ctrl-C stops)", markup=False)
    said(preview.state)
    if not no_browser:
        import webbrowser

        webbrowser.open(preview.url)
    try:
        threading.Event().wait()
    finally:
        preview.stop()
