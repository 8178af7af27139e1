"""The README's pictures are what docs/make_figures.py draws today."""

import subprocess
import sys

from .conftest import ROOT

IMG = ROOT / "docs" / "img"


def test_committed_figures_are_current(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "docs" / "make_figures.py"), str(tmp_path)],
                   check=True, capture_output=True)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in IMG.glob("*.svg"))
    for name in made:
        assert (tmp_path / name).read_bytes() == (IMG / name).read_bytes(), (
            f"docs/img/{name} is stale: run python docs/make_figures.py and commit the result")


def test_readme_shows_the_figures():
    readme = (ROOT / "README.md").read_text()
    for path in IMG.glob("*.svg"):
        assert f"](docs/img/{path.name})" in readme, path.name
