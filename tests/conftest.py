"""Shared fixtures: small maps written to a temporary folder, and the shared real data."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = sorted((ROOT / "graphs").glob("*.yaml"))
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def write_map(tmp_path):
    """Write dedented map text to a file and return its path."""

    def write(text: str, name: str = "map.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


def shared_data(name: str) -> Path:
    """A file of ../shared/data, or skip: users' clones do not have it (CI does)."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real data lives beside the project only in CI "
                    "and on the team's machines")
    return path


@pytest.fixture(autouse=True)
def _fit_cache(tmp_path_factory, monkeypatch):
    """Fits made by maps with `fit:` curves are cached in a fresh folder, never in the user's home."""
    monkeypatch.setenv("CAPGRAPH_CACHE_DIR", str(tmp_path_factory.mktemp("fit-cache")))


def invoke(*args, code=0):
    """Run the CLI through typer's runner and check its exit status.

    ``.flat`` is the output with rich's error box unwrapped, so a message reads as one line.
    """
    from typer.testing import CliRunner

    from capgraph.cli.app import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    result.flat = " ".join(result.output.replace("│", " ").split())
    return result
