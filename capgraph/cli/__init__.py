"""The command line: a Typer app over the library (:mod:`capgraph.cli.app`)."""
