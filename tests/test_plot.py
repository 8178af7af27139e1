"""capgraph plot: the curves and lenses pictures, checked on the figure objects and on the files."""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.patches import Polygon, Rectangle
from typer.testing import CliRunner

import capgraph
import capgraph.core.units
import capgraph.format.graph
from capgraph.outputs import colors
from capgraph.outputs.plot import (
    curves_figure,
    default_nodes,
    lens_curves,
    lenses_figure,
    most_composite,
    plot,
    save,
    underlying,
)

from .conftest import GRAPHS, ROOT, invoke

runner = CliRunner()
TEN = ROOT / "graphs" / "ten_step_reasoning.yaml"
ARITH = ROOT / "graphs" / "arithmetic_lenses.yaml"
BUG = ROOT / "graphs" / "fix_unfamiliar_bug.yaml"


def curve_lines(ax):
    """{label: line} of the value curves (labels start with the node name)."""
    return {line.get_label().split(" (")[0]: line for line in ax.get_lines()
            if not line.get_label().startswith("_") and len(line.get_xdata()) > 2}


def crossing_marks(ax):
    """(x, y) of the round markers."""
    return sorted((float(line.get_xdata()[0]), float(line.get_ydata()[0])) for line in ax.get_lines()
                  if line.get_marker() == "o")


def test_default_draws_every_node_with_a_threshold():
    cmap = capgraph.load(TEN)
    assert default_nodes(cmap) == ["reasoning_step", "ten_step_problem", "three_step_problem"]
    ax = curves_figure(cmap).axes[0]
    lines = curve_lines(ax)
    assert set(lines) == {"reasoning_step", "three_step_problem", "ten_step_problem"}
    assert all(line.get_linestyle() == "-" for line in lines.values())
    # the x axis is the map's axis, logarithmic, over its range
    assert ax.get_xscale() == "log" and ax.get_xlim() == pytest.approx((1e8, 1e14))
    # values are the library's: the step at its midpoint is 0.5
    step = lines["reasoning_step"]
    x = np.asarray(step.get_xdata())
    i = int(np.argmin(abs(np.log10(x) - 10)))
    assert step.get_ydata()[i] == pytest.approx(1 / (1 + math.exp(-1.5 * (math.log10(x[i]) - 10))))


def test_crossings_are_marked_where_the_closed_forms_put_them():
    ax = curves_figure(capgraph.load(TEN)).axes[0]
    marks = crossing_marks(ax)

    def chain(k, tau):  # σ(1.5·(log x − 10))^k = τ
        p = tau ** (1 / k)
        return 10 ** (10 + math.log(p / (1 - p)) / 1.5)

    expected = sorted([(1e10, 0.5), (chain(3, 0.5), 0.5), (chain(10, 0.8), 0.8)])
    assert len(marks) == 3
    for (x, y), (ex, ey) in zip(marks, expected, strict=True):
        assert math.log10(x) == pytest.approx(math.log10(ex), abs=1e-3) and y == ey
    texts = {t.get_text() for t in ax.texts}
    assert {"10B", "79.1B", "3.37T"} <= texts  # each crossing labelled
    assert {"threshold 0.5", "threshold 0.8"} <= texts


def test_crossing_labels_do_not_overlap():
    fig = curves_figure(capgraph.load(ROOT / "graphs" / "benchmark_aggregate.yaml"))
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()[0].isdigit()]
    assert len(boxes) == 13
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert overlaps == 0


def test_secondary_axis_converts_with_the_maps_units():
    cmap = capgraph.load(TEN)
    ax = curves_figure(cmap).axes[0]
    (top,) = [c for c in ax.child_axes if "FLOPs" in c.get_xlabel()]
    forward = top._functions[0]
    # params → FLOPs through the map's own conversion, checked against C = 6·N·D with D = 20·N
    assert forward(np.array([1e10]))[0] == pytest.approx(10 ** cmap.units.convert(10.0, "params", "flops"))
    assert forward(np.array([1e10]))[0] == pytest.approx(6 * 1e10 * 20e10)
    flops_map = capgraph.load(BUG)
    ax = curves_figure(flops_map).axes[0]
    assert any("params" in c.get_xlabel() for c in ax.child_axes)  # FLOPs maps get params on top


def test_data_limit_is_shaded_from_where_tokens_run_out():
    cmap = capgraph.load(TEN)  # data_limit 3e14 tokens at 20 tokens a parameter: 1.5e13 params
    ax = curves_figure(cmap).axes[0]
    spans = [p for p in ax.patches if isinstance(p, Polygon | Rectangle)]
    assert len(spans) == 1
    span = spans[0]  # a Polygon before matplotlib 3.9, a Rectangle since
    if isinstance(span, Rectangle):
        xs = [span.get_x(), span.get_x() + span.get_width()]
    else:
        xs = span.get_xy()[:, 0]
    assert min(xs) == pytest.approx(1.5e13) and max(xs) == pytest.approx(1e14)
    assert any("needs > 300T training tokens" in label for label in ax.get_legend_handles_labels()[1])
    no_limit = capgraph.load(ARITH)
    assert not curves_figure(no_limit).axes[0].patches


def test_named_nodes_and_dashed_children():
    ax = curves_figure(capgraph.load(BUG), ["fix_bug", "debug"]).axes[0]
    lines = curve_lines(ax)
    assert set(lines) == {"fix_bug", "debug", "understand_codebase", "plan_fix", "use_tools",
                          "edit", "hypothesis"}
    solid = {n for n, line in lines.items() if line.get_linestyle() == "-"}
    assert solid == {"fix_bug", "debug"}  # debug is both named and an input: drawn once, solid
    assert len({line.get_color() for line in lines.values()}) == 7
    assert {line.get_color() for line in lines.values()} <= set(colors.OKABE_ITO)


def test_at_draws_a_vertical_line():
    ax = curves_figure(capgraph.load(TEN), at="5.88e23", unit="flops").axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-."]
    assert line.get_xdata()[0] == pytest.approx(7e10)  # 5.88e23 FLOPs = 6·20·N² → N = 70B
    assert line.get_label() == "at 5.88e+23 FLOPs"


def test_lens_kernels_closed_form():
    p = np.array([0.0, 0.5, 0.9, 1.0])
    out = lens_curves(p, length=5, options=4)
    assert out["identity"] == pytest.approx(p)
    assert out["exact_match"] == pytest.approx(p ** 5)
    assert out["multiple_choice"] == pytest.approx(0.25 + 0.75 * p)


def test_underlying_is_the_value_before_the_nodes_own_lens():
    cmap = capgraph.load(ARITH)
    log_x = np.linspace(7, 13, 25)
    digit = cmap.curves(log_x, ["digit"])["digit"]
    assert underlying(cmap, "exact_match", log_x) == pytest.approx(digit)  # p, not p^5
    assert underlying(cmap, "multiple_choice", log_x) == pytest.approx(digit ** 5)  # all of 5 digits
    assert underlying(cmap, "digit", log_x) == pytest.approx(digit)


def test_lenses_figure_crossings_match_closed_forms():
    # per-digit p = exp(-(N / 3e8)^-0.35): the score reaches 0.5 where -ln p = (N/c)^-a = ℓ,
    # i.e. N = c·ℓ^(-1/a), with ℓ = ln 2 (identity), ln 2 / 10 (p^10 ≥ 0.5), ln 3 (1/4 + 3/4·p ≥ 0.5)
    cmap = capgraph.load(ARITH)
    fig = lenses_figure(cmap, "per_digit", length=10, options=4)
    axes = fig.axes[:3]
    assert [ax.get_title(loc="left") for ax in axes] == [
        "identity: p", "exact match, L = 10: p^L", "multiple choice, n = 4: 1/n + (1 − 1/n)·p"]
    c, a = 3e8, 0.35
    for ax, ell in zip(axes, [math.log(2), math.log(2) / 10, math.log(3)], strict=True):
        ((x, y),) = crossing_marks(ax)
        assert math.log10(x) == pytest.approx(math.log10(c * ell ** (-1 / a)), abs=1e-3) and y == 0.5
    notes = [t.get_text() for ax in axes for t in ax.texts]
    assert "10–90% rise" in notes[1]
    # the exact-match view is the sharpest: fewer decades from 10% to 90%
    decades = [float(n.split("rise: ")[1].split()[0]) for n in notes]
    assert decades[1] < decades[0] == pytest.approx(decades[2])


def test_lenses_default_node_is_the_most_composite():
    cmap = capgraph.load(BUG)
    assert most_composite(cmap) == "fix_bug_pass_at_5"
    assert "fix_bug_pass_at_5" in lenses_figure(cmap)._suptitle.get_text()


def test_plots_are_byte_identical():
    cmap = capgraph.load(BUG)
    for fmt in ("svg", "png", "pdf"):
        assert plot(cmap, fmt) == plot(cmap, fmt), fmt
    svg = plot(cmap, "svg")
    assert b"<dc:date>" not in svg and b"Matplotlib v" not in svg


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.stem)
def test_every_example_plots(path):
    cmap = capgraph.load(path)
    root = ET.fromstring(plot(cmap, "svg"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert plot(cmap, "png").startswith(b"\x89PNG")
    assert save(lenses_figure(cmap), "svg").startswith(b"<?xml")



def test_cli_plot(tmp_path):
    out = tmp_path / "curves.png"
    invoke("plot", TEN, "-o", out)
    assert out.read_bytes().startswith(b"\x89PNG")
    invoke("plot", BUG, "fix_bug", "debug", "-o", tmp_path / "two.svg", "--at", "1e24")
    invoke("plot", ARITH, "per_digit", "--lenses", "--length", "5", "--options", "4",
           "-o", tmp_path / "lenses.svg")
    assert b"exact match, L = 5" in (tmp_path / "lenses.svg").read_bytes()  # as a comment by its paths
    assert (tmp_path / "lenses.svg").stat().st_size > 10_000


def test_cli_plot_bad_options(tmp_path):
    out = tmp_path / "p.svg"
    assert "did you mean 'fix_bug'" in invoke("plot", BUG, "fix_bgu", "-o", out, code=2).flat
    assert "name just one" in invoke("plot", BUG, "fix_bug", "debug", "--lenses", "-o", out,
                                     code=2).flat
    invoke("plot", BUG, "--lenses", "--options", "1", "-o", out, code=2)
    invoke("plot", BUG, "--lenses", "--length", "0", "-o", out, code=2)
    invoke("plot", BUG, "-o", tmp_path / "p.dot", code=2)
    invoke("plot", BUG, code=2)  # -o is required
    assert not out.exists()


def test_many_nodes_label_the_most_composite_and_grey_the_rest(tmp_path):
    from capgraph.outputs.plot import MAX_LABELLED

    from .test_render import big_map

    path = tmp_path / "big.yaml"
    path.write_text(big_map())
    cmap = capgraph.load(path)
    fig = curves_figure(cmap)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0] == f"{300 - MAX_LABELLED} other nodes with a threshold"
    assert len(labels) == 1 + MAX_LABELLED  # the context entry, then the labelled curves
    depths = capgraph.format.graph.depth(cmap.graph)
    labelled = {label.split(" (")[0] for label in labels[1:]}
    deepest = sorted(depths[n] for n in cmap.spec.capabilities)[-MAX_LABELLED:]
    assert sorted(depths[n] for n in labelled) == deepest
    grey = [ln for ln in ax.get_lines() if ln.get_color() == "#aaaaaa"]
    assert len(grey) == 300 - MAX_LABELLED


def test_plot_data_shows_the_points_behind_fitted_curves_and_where_they_end(tmp_path):
    import csv

    path = ROOT / "graphs" / "fitted_multistep.yaml"
    with open(path.parent / "data" / "synthetic_results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    last = max(float(r["params"]) for r in rows)
    out = tmp_path / "data.svg"
    invoke("plot", path, "lookup", "reason_step", "--data", "-o", out)
    svg = out.read_bytes()
    invoke("plot", path, "lookup", "reason_step", "--data", "-o", tmp_path / "again.svg")
    assert (tmp_path / "again.svg").read_bytes() == svg  # deterministic bytes
    groups = {g.get("id"): g for g in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g")}
    for name in ("lookup", "reason_step"):  # one marker a row of the results file
        uses = list(groups[f"data-{name}"].iter("{http://www.w3.org/2000/svg}use"))
        assert len(uses) == len(rows)
    assert "data-end-0" in groups and "data-end-1" not in groups  # both fits end together
    fig = curves_figure(capgraph.load(path), ["lookup"], data=True)
    end = [line for line in fig.axes[0].lines if line.get_gid() == "data-end-0"]
    assert end and np.allclose(end[0].get_xdata(), last)
    assert b"data-lookup" not in plot(capgraph.load(path), "svg", ["lookup"])  # only when asked
    assert "leave out --lenses" in invoke("plot", path, "--lenses", "--data", "-o", out, code=2).flat


def test_plot_against_date_puts_crossings_at_their_dates(tmp_path):
    import datetime as dt

    path = ROOT / "graphs" / "frontier_outlook.yaml"
    cmap = capgraph.load(path)
    p = next(q for q in cmap.predict() if q.name == "ten_step_problem")
    day = dt.date.fromisoformat(cmap.date(p.crossing.flops))
    year = day.year + (day.timetuple().tm_yday - 1) / 365.2425  # the date predict gives, in years
    ax = curves_figure(cmap, ["ten_step_problem"], against="date").axes[0]
    marks = [line for line in ax.lines if line.get_marker() == "o" and len(line.get_xdata()) == 1]
    assert len(marks) == 1 and abs(marks[0].get_xdata()[0] - year) < 2 / 365
    assert ax.get_xscale() == "linear" and "year" in ax.get_xlabel()
    out = tmp_path / "d.svg"
    invoke("plot", path, "--against", "date", "-o", out)
    invoke("plot", path, "--x", "date", "-o", tmp_path / "again.svg")
    assert (tmp_path / "again.svg").read_bytes() == out.read_bytes()
    no_timeline = invoke("plot", BUG, "--against", "date", "-o", out, code=2).flat
    assert "needs the map's timeline" in no_timeline
    invoke("plot", path, "--against", "dat", "-o", out, code=2)
