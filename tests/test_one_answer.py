"""One ranged map, every output: the median crossing `predict --json` gives is what the graph's
label, the report and the plot say, through the same wording."""

import json
import re

import pytest

from capgraph import load
from capgraph.outputs.report import report
from capgraph.outputs.wording import number

from .conftest import invoke

MAP = """\
name: Ranged outlook
scale:
  axis: params
  range: [1e8, 1e14]
  tokens_per_param: 20
  data_limit: 3e14
timeline: {start: 2026-01-01, flops: 5e26, growth_per_year: 4}
threshold: 0.5
skills:
  step:
    curve:
      logistic: {midpoint: 3e9 to 3e10, slope: 1.2 to 1.8}
capabilities:
  chain:
    requires: {step: 10}
    threshold: 0.8
scenarios:
  slow:
    efficiency: 0.5
"""


@pytest.fixture(scope="module")
def ranged(tmp_path_factory):
    path = tmp_path_factory.mktemp("one") / "ranged.yaml"
    path.write_text(MAP)
    return path


@pytest.fixture(scope="module")
def answer(ranged):
    """`predict --json`'s row for the composite."""
    data = json.loads(invoke("predict", ranged, "--json").output)
    assert data["estimate"] == "median"
    (row,) = [c for c in data["capabilities"] if c["name"] == "chain"]
    return row


def _interval(row, unit, digits):
    q = row["quantiles"]
    return (f"{number(row['crossing'][unit], unit, digits)} "
            f"[{number(q['p5'][unit], unit, digits)}–{number(q['p95'][unit], unit, digits)}]")


def _flat(text: str) -> str:
    return " ".join(re.sub(r"<BR/>|<br>", " ", text).split())


def test_the_median_is_not_the_map_at_its_medians(answer):
    """The check below means something: the two candidate answers print differently."""
    assert number(answer["crossing"]["params"], "params") != \
        number(answer["at_medians"]["crossing"]["params"], "params")


def test_graph_label_says_the_median_and_its_interval(ranged, answer, tmp_path):
    out = tmp_path / "m.dot"
    invoke("render", ranged, "-o", out)
    dot = _flat(out.read_text())
    assert f"crosses at {number(answer['crossing']['params'], 'params')} params " \
           f"[{number(answer['quantiles']['p5']['params'], 'params')}–" \
           f"{number(answer['quantiles']['p95']['params'], 'params')}]" in dot
    # the default scale is the composite's median crossing, where its median value is its threshold
    assert "value 0.800 [" in dot


def test_report_table_says_what_predict_says(ranged, answer):
    page = report(load(ranged))
    table = _flat(re.search(r'<table id="predictions">.*?</table>', page, re.S).group(0))
    for unit in ("params", "tokens"):
        assert _interval(answer, unit, 2) in table
    assert f"{answer['p_never']:.0%}" in table
    assert f"{answer['date']} [{answer['dates']['p5']}–beyond data]" in table  # p95 needs more data
    assert f"{answer['p_data_limited']:.0%} of draws exceed" in table
    scenarios = _flat(re.search(r'<table id="scenarios">.*?</table>', page, re.S).group(0))
    assert number(answer["crossing"]["flops"], "flops") in scenarios
    assert "slow (×0.5)" in scenarios
    assert page == report(load(ranged))  # same seed, same bytes


def test_plot_label_says_the_median_and_its_interval(ranged, answer, tmp_path):
    out = tmp_path / "m.svg"
    invoke("plot", ranged, "-o", out)
    svg = out.read_text()
    q = answer["quantiles"]
    assert (f"chain (crosses 0.8 at {number(answer['crossing']['params'], 'params')} "
            f"[{number(q['p5']['params'], 'params')}–{number(q['p95']['params'], 'params')}])") in svg
    assert "90% interval of the value (shaded)" in svg
    invoke("plot", ranged, "-o", tmp_path / "again.svg")
    assert (tmp_path / "again.svg").read_bytes() == out.read_bytes()  # same seed, same bytes
