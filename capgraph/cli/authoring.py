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
