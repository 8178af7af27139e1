"""One wording: the terminal, the graph, the report and the plots say the same things the same way."""

import json
import math

import pytest
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.outputs import wording
from capgraph.outputs.plot import curves_figure
from capgraph.outputs.render import node_views
from capgraph.outputs.report import report

from .conftest import ROOT

MAPS = sorted((ROOT / "graphs").glob("*.yaml"))


@pytest.mark.parametrize("path", [p for p in MAPS if "fitted" not in p.name and "pythia" not in p.name],
                         ids=lambda p: p.stem)
def test_show_json_and_the_graph_describe_nodes_alike(path):
    cmap = capgraph.load(path)
    shown = {n["name"]: n["summary"] for n in json.loads(
        CliRunner().invoke(app, ["show", str(path), "--json"]).stdout)["nodes"]}
    views = {v.name: v.summary for v in node_views(cmap, cmap.nodes, cmap.log_range[0])}
    for name, short in views.items():
        detail = shown[name]
        # the graph's words, then (show only) the curve's parameters and the threshold
        head, *rest = short.split(" · ")
        assert detail.startswith(head), (name, detail, short)
        for part in rest:
            assert f" · {part}" in detail
        threshold = cmap.threshold(name)
        if threshold is not None:
            assert detail.endswith(f" · threshold {threshold:g}")


def test_one_crossing_phrase_in_graph_report_and_plot():
    cmap = capgraph.loads("""
scale: {axis: params, range: [1e8, 1e14]}
skills:
  early: {curve: {logistic: {midpoint: 1e8, slope: 3}}, threshold: 0.1}
  mid: {curve: {logistic: {midpoint: 1e10, slope: 1}}, threshold: 0.5}
  capped: {curve: {logistic: {midpoint: 1e10, slope: 1, ceiling: 0.4}}, threshold: 0.5}
""")
    by = {p.name: p for p in cmap.predict()}
    assert wording.crossing_text(cmap, by["mid"]) == "crosses at 10B params"
    assert wording.crossing_text(cmap, by["early"]) == "above from the start (≤ 100M params)"
    assert wording.crossing_text(cmap, by["capped"]) == f"never in range (max {0.4 / (1 + math.exp(-4)):.3g})"
    drawn = {v.name: v.crossing for v in node_views(cmap, cmap.nodes, cmap.log_range[0])}
    page = report(cmap) if _has_pygraphviz() else None
    labels = [line.get_label() for line in curves_figure(cmap).axes[0].get_lines()]
    for p in by.values():
        phrase = wording.crossing_text(cmap, p)
        assert drawn[p.name] == phrase
        assert page is None or phrase in page
        in_plot = wording.crossing_text(cmap, p, digits=2, with_unit=False, threshold=True)
        assert f"{p.name} ({in_plot})" in labels


def _has_pygraphviz() -> bool:
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        return False
    return True


def test_bootstrap_wording_counts_only_refits_that_succeeded():
    assert wording.bootstrap_words(1000) == "1000 bootstrap refits"
    assert wording.bootstrap_words(978, 22) == "978 bootstrap refits (22 of 1000 failed)"
