"""The docs cannot drift: the format guide against the schema, code blocks run, modules mapped."""

import json
import math
import re

import pytest
from pydantic_core import PydanticUndefined

from capgraph.format import schema
from capgraph.format.schema import json_schema

from .conftest import ROOT

SECTIONS = {
    "map": schema.MapSpec,
    "scale": schema.ScaleSpec,
    "skills.NAME": schema.Skill,
    "capabilities.NAME": schema.Capability,
    "curve": schema.Curve,
    **schema.CURVE_MODELS,  # a table per parametric curve family, from the registry
    "fit": schema.FitSpec,
    "metric": schema.Metric,
    **{name: model for name, model in schema.LENS_MODELS.items() if model.model_fields},
    "allocation": schema.AllocationSpec,
    "loss_law": schema.LossLawSpec,
    "timeline": schema.Timeline,
    "scenarios.NAME": schema.Scenario,
}


def guide_tables(text: str) -> dict[str, dict[str, str]]:
    """{section: {key: default text}} from the '### `section`' tables of docs/format.md."""
    tables: dict[str, dict[str, str]] = {}
    section = None
    for line in text.splitlines():
        if line.startswith("#"):  # any other heading ends the section
            heading = re.match(r"^### `([^`]+)`", line)
            section = heading.group(1) if heading else None
            if section:
                tables[section] = {}
        row = re.match(r"^\| `([^`]+)` \| ([^|]+) \|", line)
        if row and section:
            tables[section][row.group(1)] = row.group(2).strip()
    return tables


def default_text(field) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        made = field.default_factory()
        return "`{}`" if made == {} else f"see `{made.__class__.__name__}`"
    value = field.default
    if value is None or value is PydanticUndefined:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def test_format_guide_lists_every_key_with_its_default():
    tables = guide_tables((ROOT / "docs" / "format.md").read_text())
    assert set(tables) == set(SECTIONS)
    for section, model in SECTIONS.items():
        documented = tables[section]
        assert set(documented) == set(model.model_fields), section
        for key, field in model.model_fields.items():
            expected = default_text(field)
            if key == "scale" and section == "map":
                expected = "see `scale`"
            if key == "range":
                expected = "by axis"
            assert documented[key] == expected, f"{section}.{key}"


def test_documented_range_defaults_match():
    text = (ROOT / "docs" / "format.md").read_text()
    for axis, (lo, hi) in schema.DEFAULT_RANGES.items():
        exp = lambda v: f"1e{round(math.log10(v))}"  # noqa: E731 - the defaults are powers of ten
        assert f"{axis} `[{exp(lo)}, {exp(hi)}]`" in text


def test_schema_file_is_current():
    on_disk = json.loads((ROOT / "docs" / "capgraph.schema.json").read_text())
    assert on_disk == json_schema(), "regenerate: capgraph schema > docs/capgraph.schema.json"


def test_architecture_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for module in sorted((ROOT / "capgraph").glob("*.py")):
        if module.stem not in ("__init__", "__main__"):
            assert f"`{module.stem}.py`" in text, module.name


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_python_examples_run(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    for block in python_blocks(path):
        exec(compile(block, str(path), "exec"), {})


def test_readme_quick_start_output_is_what_predict_prints():
    from typer.testing import CliRunner

    from capgraph.cli.app import app

    readme = (ROOT / "README.md").read_text()
    shown = re.search(r"The first prints.*?```\n(.*?)```", readme, flags=re.S).group(1)
    printed = CliRunner().invoke(app, ["predict", str(ROOT / "graphs" / "ten_step_reasoning.yaml")]).output
    printed_lines = [line.rstrip() for line in printed.splitlines()]
    for line in shown.splitlines():
        assert line.rstrip() in printed_lines, line
