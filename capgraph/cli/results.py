"""``capgraph results``: evaluation-harness outputs (and a models table) as one table of rows."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from capgraph.cli.common import JsonOpt, emit_json, out, warn
from capgraph.core.errors import MapError

GroupOpt = Annotated[list[str] | None, typer.Option(
    "--group", help="Average subtasks into one task: NAME=PATTERN, e.g. mmlu='hendrycksTest-*' "
    "(patterns split on |; repeatable).", show_default=False)]


def results(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Result files, folders "
                                               "(every *.json below) or glob patterns.",
                                               show_default=False)],
    models: Annotated[str | None, typer.Option("--models", help="Table of model facts (CSV or JSON "
                                               "Lines) joined on model (and revision): params, "
                                               "tokens, flops, family...", show_default=False)] = None,
    group: GroupOpt = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write the rows to FILE: .csv "
                                               "or .jsonl by its ending.", show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """lm-evaluation-harness results (both layouts) and Every Eval Ever records as rows."""
    from capgraph.core.files import write_atomic
    from capgraph.evidence.harness import parse_groups, read_results, unmatched_message
    from capgraph.outputs.results import output_format, render, summary_table

    fmt = None
    if output is not None:
        fmt = output_format(output)
        if fmt is None:
            raise typer.BadParameter("the file name must end in .csv, .jsonl or .ndjson",
                                     param_hint="--output")
    try:
        groups = parse_groups(group or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--group") from None
    try:
        found = read_results(paths, models=models, groups=groups)
    except MapError as exc:
        warn(exc.problems)
        raise typer.Exit(1) from None
    note = unmatched_message(found)
    if note:
        sys.stderr.write(f"capgraph: {note}\n")
    if output is not None:
        try:
            write_atomic(output, render(found, fmt))
        except OSError as exc:
            sys.stderr.write(f"{output}: cannot write: {exc.strerror}\n")
            raise typer.Exit(1) from None
    if as_json:
        emit_json(found.to_json())
    elif output is None:
        out.print(summary_table(found))
        out.print("write the rows with --output rows.csv (or .jsonl), or print them with --json",
                  markup=False)
    else:
        out.print(f"wrote {len(found)} rows from {len(found.files)} file(s) to {output}", markup=False)
