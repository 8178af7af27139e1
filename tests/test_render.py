"""capgraph render: what the graph shows, which nodes it draws, its colours, and determinism."""

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from typer.testing import CliRunner

import capgraph
import capgraph.core.units
import capgraph.format.graph
from capgraph.core.files import write_atomic
from capgraph.outputs import colors
from capgraph.outputs.render import default_at, draw, neighbourhood, render, to_dot, wrap_name

from .conftest import GRAPHS, ROOT, invoke

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
runner = CliRunner()
BUG = ROOT / "graphs" / "fix_unfamiliar_bug.yaml"
TEN = ROOT / "graphs" / "ten_step_reasoning.yaml"

# Three logistic skills with slope 1 (logits per decade): at 1e10 their values are σ(2), σ(0)
# and σ(-2) — 0.881, 0.5, 0.119 — and a chain of ten of the middle one, 0.5^10.
VALUES_MAP = """
name: Colours
scale: {axis: params, range: [1e6, 1e14]}
skills:
  early: {curve: {logistic: {midpoint: 1e8, slope: 1}}, threshold: 0.5}
  middle: {curve: {logistic: {midpoint: 1e10, slope: 1}}, threshold: 0.5}
  late: {curve: {logistic: {midpoint: 1e12, slope: 1}}, threshold: 0.5}
  capped: {curve: {logistic: {midpoint: 1e10, slope: 1, ceiling: 0.4}}, threshold: 0.5}
capabilities:
  chain: {requires: {middle: 10}, threshold: 0.5}
  pair: {requires: [early, late], combine: mean}
"""


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def drawn_nodes(svg: bytes) -> dict[str, ET.Element]:
    """{node name: its <g>} from an SVG graph; the name is the node's bold text lines joined."""
    root = ET.fromstring(svg)
    nodes = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "node":
            continue
        bold = [t.text or "" for t in g.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
        if bold:  # the invisible level markers have no text
            nodes["".join(bold)] = g
    return nodes


def node_text(g: ET.Element) -> str:
    """A node's text lines joined with spaces (labels wrap wherever the text is long)."""
    return " ".join(t.text or "" for t in g.iter(f"{SVG}text"))


def fill(g: ET.Element) -> str:
    return shape(g).get("fill")


def shape(g: ET.Element) -> ET.Element:
    """The node's box (a polygon, or a path when its corners are rounded)."""
    return next(e for e in g.iter() if e.tag in (f"{SVG}polygon", f"{SVG}path"))


@pytest.fixture
def values_map(write_map):
    return capgraph.load(write_map(VALUES_MAP))


def test_svg_parses_and_names_every_node(values_map):
    nodes = drawn_nodes(render(values_map, "svg", at="1e10"))
    assert set(nodes) == {"early", "middle", "late", "capped", "chain", "pair"}


def test_labels_show_rule_value_and_crossing(values_map):
    nodes = drawn_nodes(render(values_map, "svg", at="1e10"))
    middle = node_text(nodes["middle"])
    assert "logistic" in middle
    assert "value 0.500 · threshold 0.5" in middle
    assert "crosses at 10B params" in middle  # closed form: the midpoint
    assert f"value {sigmoid(2):.3f}" in node_text(nodes["early"])
    assert "crosses at 100M params" in node_text(nodes["early"])
    # the range ends at 1e14, four decades past the midpoint: max 0.4·σ(4)
    assert f"never in range (max {0.4 * sigmoid(4):.3g})" in node_text(nodes["capped"])
    assert "all of" in node_text(nodes["chain"])
    assert f"value {0.5 ** 10:.3f}" in node_text(nodes["chain"])
    assert "mean" in node_text(nodes["pair"])
    # chain: σ(z)^10 = 0.5 → z = logit(0.5^(1/10)), crossing at 10^(10 + z)
    p = 0.5 ** 0.1
    crossing = 10 ** (10 + math.log(p / (1 - p)))
    assert f"crosses at {capgraph.core.units.human(crossing)} params" in node_text(nodes["chain"])


def test_past_threshold_is_marked(values_map):
    nodes = drawn_nodes(render(values_map, "svg", at="1e10"))

    def border(name):
        return float(shape(nodes[name]).get("stroke-width", "1"))

    assert border("early") == 3.5 and "✓ past threshold" in node_text(nodes["early"])
    assert border("middle") == 3.5  # exactly at its threshold counts as reached
    assert border("late") == 1 and "✓" not in node_text(nodes["late"])
    assert border("chain") == 1


def test_colours_follow_values(values_map):
    nodes = drawn_nodes(render(values_map, "svg", at="1e10"))
    assert fill(nodes["middle"]) == colors.value_color(0.5) == "#21918c"
    assert fill(nodes["early"]) == colors.value_color(sigmoid(2))
    assert fill(nodes["late"]) == colors.value_color(sigmoid(-2))
    # higher value → towards viridis' bright yellow end: luminance rises with the value
    by_value = sorted(["early", "middle", "late", "chain"],
                      key=lambda n: {"early": sigmoid(2), "middle": 0.5, "late": sigmoid(-2),
                                     "chain": 0.5 ** 10}[n])
    lum = [colors.luminance(fill(nodes[n])) for n in by_value]
    assert lum == sorted(lum) and len(set(lum)) == 4
    assert colors.value_color(1.0) == "#fde725" and colors.value_color(0.0) == "#440154"


def test_text_contrasts_with_fill():
    for v in np.linspace(0, 1, 21):
        back = colors.value_color(v)
        text = colors.text_color(back)
        lb, lt = colors.luminance(back), colors.luminance(text)
        ratio = (max(lb, lt) + 0.05) / (min(lb, lt) + 0.05)
        assert ratio >= 4.5, (v, back)  # WCAG AA for normal text


def test_edges_show_counts_other_than_one():
    svg = render(capgraph.load(BUG), "svg")
    root = ET.fromstring(svg)
    labels = sorted(t.text for g in root.iter(f"{SVG}g") if g.get("class") == "edge"
                    for t in g.iter(f"{SVG}text"))
    # read_function ×5, trace_call ×3, plan_step ×4, tool_call ×10, hypothesis ×3; the rest are 1
    assert labels == ["×10", "×3", "×3", "×4", "×5"]


def test_levels_are_ranks_left_to_right():
    import pygraphviz

    cmap = capgraph.load(BUG)
    graph = pygraphviz.AGraph(string=to_dot(cmap))
    graph.layout("dot")
    depths = capgraph.format.graph.depth(cmap.graph)
    label_to_name = {n: None for n in graph.nodes()}
    xs: dict[int, set[float]] = {}
    for node in graph.nodes():
        tip = node.attr.get("tooltip")
        if not tip:
            continue  # level markers
        name = tip.split(":")[0]
        label_to_name[node] = name
        xs.setdefault(depths[name], set()).add(round(float(node.attr["pos"].split(",")[0]), 1))
    assert all(len(v) == 1 for v in xs.values()), xs  # one rank per level
    ordered = [next(iter(xs[level])) for level in sorted(xs)]
    assert ordered == sorted(ordered) and len(set(ordered)) == len(ordered)  # skills leftmost
    assert sorted(xs) == [0, 1, 2, 3]


@pytest.mark.parametrize(("focus", "depth", "expected"), [
    ("fix_bug", 0, {"fix_bug"}),
    ("fix_bug", 1, {"fix_bug", "understand_codebase", "plan_fix", "use_tools", "debug", "edit",
                    "fix_bug_pass_at_5"}),
    ("fix_bug", 2, {"fix_bug", "understand_codebase", "plan_fix", "use_tools", "debug", "edit",
                    "fix_bug_pass_at_5", "read_function", "trace_call", "plan_step", "tool_call",
                    "hypothesis"}),
    # up and down only: use_tools' siblings (debug, plan_fix…) are two steps away via fix_bug
    ("use_tools", 1, {"use_tools", "tool_call", "fix_bug"}),
    ("use_tools", 2, {"use_tools", "tool_call", "fix_bug", "fix_bug_pass_at_5"}),
    ("tool_call", 3, {"tool_call", "use_tools", "fix_bug", "fix_bug_pass_at_5"}),
])
def test_focus_draws_exactly_the_neighbourhood(focus, depth, expected):
    cmap = capgraph.load(BUG)
    assert neighbourhood(cmap.graph, focus, depth) == expected
    nodes = drawn_nodes(render(cmap, "svg", focus=focus, depth=depth))
    assert set(nodes) == expected


def test_focus_notes_hidden_neighbours():
    nodes = drawn_nodes(render(capgraph.load(BUG), "svg", focus="use_tools", depth=1))
    # fix_bug's other inputs (understand_codebase, plan_fix, debug, edit) and its user
    assert "+4 inputs, +1 user not shown" in node_text(nodes["fix_bug"])
    assert "not shown" not in node_text(nodes["tool_call"])


def test_default_scale_is_where_the_most_composite_ability_crosses():
    cmap = capgraph.load(TEN)
    # depth-1 nodes: ten_step_problem, three_step_problem; by name ten_step first. It needs
    # σ(z)^10 = 0.8 with z = 1.5·(log10 x − 10).
    p = 0.8 ** 0.1
    expected = 10 + math.log(p / (1 - p)) / 1.5
    assert default_at(cmap) == pytest.approx(expected, abs=1e-3)
    assert "values at 3.37T params" in to_dot(cmap)


def test_default_scale_falls_back_to_the_middle(write_map):
    cmap = capgraph.load(write_map("""
        scale: {axis: tokens, range: [1e8, 1e12]}
        skills: {s: {curve: {logistic: {midpoint: 1e10, slope: 1, ceiling: 0.3}}}}
        capabilities: {c: {requires: [s]}}
    """))
    assert default_at(cmap) == 10.0


def test_renders_are_byte_identical(values_map):
    for fmt in ("svg", "png", "pdf", "dot"):
        assert render(values_map, fmt) == render(values_map, fmt), fmt
    pdf = render(values_map, "pdf")
    assert b"/CreationDate (D:19700101000000" in pdf
    assert b"Generated by graphviz" not in render(values_map, "svg")


def test_render_in_separate_processes_is_identical(tmp_path):
    outs = []
    for i in range(2):
        out = tmp_path / f"g{i}.svg"
        subprocess.run([sys.executable, "-m", "capgraph", "render", str(BUG), "-o", str(out)],
                       check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": str(i)})
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_works_without_system_graphviz(tmp_path):
    """Only the virtual environment's bin folder on PATH: no `dot` anywhere."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    assert not any(os.path.exists(os.path.join(p, "dot")) for p in env["PATH"].split(os.pathsep))
    for ext, magic in (("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF")):
        out = tmp_path / f"g.{ext}"
        result = subprocess.run([sys.executable, "-m", "capgraph", "render", str(TEN), "-o", str(out)],
                                capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
        assert "Fontconfig" not in result.stderr  # the bundled library's noise is held back
        assert magic in out.read_bytes()[:400]


def test_escapes_and_wraps_awkward_names(write_map):
    path = write_map(r"""
        name: 'Tricky <map> & "quotes"'
        skills:
          'a "quoted" <name> & co\':
            description: 'Has <tags>, & ampersands and a trailing backslash \'
            curve: {logistic: {midpoint: 1e10, slope: 1}}
          plain: {curve: {logistic: {midpoint: 1e10, slope: 1}}}
        capabilities:
          an_extraordinarily_long_capability_name_that_needs_wrapping:
            description: A long description that goes on and on, explaining at length what this
              capability is for and why it matters, far more than a box should hold.
            requires: {'a "quoted" <name> & co\': 2, plain: 1}
    """)
    cmap = capgraph.load(path)
    svg = render(cmap, "svg")
    nodes = drawn_nodes(svg)
    assert set(nodes) == {'a "quoted" <name> & co\\', "plain",
                          "an_extraordinarily_long_capability_name_that_needs_wrapping"}
    long = nodes["an_extraordinarily_long_capability_name_that_needs_wrapping"]
    bold = [t.text for t in long.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
    assert len(bold) == 3 and all(len(line) <= 26 for line in bold)
    assert "…" in node_text(long)  # the description is cut at three lines
    tips = [a.get(f"{XLINK}title") for a in ET.fromstring(svg).iter(f"{SVG}a")]
    assert any(t.startswith('a "quoted" <name> & co\\: Has <tags>') for t in tips)
    assert "Tricky &lt;map&gt; &amp; &quot;quotes&quot;" in to_dot(cmap)
    assert wrap_name("x" * 60, 26) == ["x" * 26, "x" * 26, "x" * 8]


def big_map(n_skills=200, n_caps=300, seed=1) -> str:
    """A 500-node map: capabilities over three earlier nodes each, several levels deep."""
    rng = np.random.default_rng(seed)
    lines = ["scale: {axis: params, range: [1e7, 1e14]}", "skills:"]
    names = []
    for i in range(n_skills):
        mid, slope = 10 ** rng.uniform(8, 12), rng.uniform(0.8, 2)
        lines.append(f"  s{i:03d}: {{curve: {{logistic: {{midpoint: {mid:.3g}, slope: {slope:.2f}}}}}}}")
        names.append(f"s{i:03d}")
    lines.append("capabilities:")
    for j in range(n_caps):
        kids = rng.choice(names[-150:], 3, replace=False)
        lines.append(f"  c{j:03d}: {{requires: [{', '.join(kids)}], combine: mean}}")
        names.append(f"c{j:03d}")
    return "\n".join(lines) + "\n"


def test_five_hundred_nodes_render_whole(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(big_map())
    cmap = capgraph.load(path)
    assert len(cmap.nodes) == 500
    svg = render(cmap, "svg")
    assert len(drawn_nodes(svg)) == 500
    assert max(capgraph.format.graph.depth(cmap.graph).values()) >= 3


def test_every_example_renders_in_every_format(tmp_path):
    for path in GRAPHS:
        cmap = capgraph.load(path)
        nodes = drawn_nodes(render(cmap, "svg"))
        assert set(nodes) == set(cmap.nodes), path.name
        dot = to_dot(cmap)
        assert draw(dot, "dot") == dot.encode()
        assert render(cmap, "png").startswith(b"\x89PNG")
        assert render(cmap, "pdf").startswith(b"%PDF")


# --- the command ---------------------------------------------------------------------------------------



def test_cli_render_formats_from_extension(tmp_path):
    for ext in ("svg", "png", "pdf", "dot"):
        out = tmp_path / f"map.{ext}"
        assert f"wrote {out}" in invoke("render", TEN, "-o", out, "--at", "70B").output
    assert (tmp_path / "map.dot").read_text().startswith("digraph capgraph {")
    svg = (tmp_path / "map.svg").read_bytes()
    assert "values at 70B params" in " ".join(t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text"))


def test_cli_render_unit_and_focus(tmp_path):
    out = tmp_path / "g.svg"
    invoke("render", BUG, "-o", out, "--at", "70B", "--unit", "params", "--focus", "debug",
           "--depth", "1")
    nodes = drawn_nodes(out.read_bytes())
    assert set(nodes) == {"debug", "hypothesis", "fix_bug"}
    text = " ".join(t.text or "" for t in ET.fromstring(out.read_bytes()).iter(f"{SVG}text"))
    assert "values at 70B params · 1.4T tokens · 5.88e+23 FLOPs" in text
    assert "crosses at 10.3B params" in node_text(nodes["debug"])  # --unit also sets the scales shown


def test_cli_render_bad_options(tmp_path):
    out = tmp_path / "g.svg"
    assert "cannot tell the format" in invoke("render", TEN, "-o", tmp_path / "g.gif", code=2).flat
    assert "needs --focus" in invoke("render", TEN, "-o", out, "--depth", "2", code=2).flat
    assert "did you mean 'ten_step_problem'" in invoke("render", TEN, "-o", out, "--focus",
                                                       "ten_step_problm", code=2).flat
    assert "not a number" in invoke("render", TEN, "-o", out, "--at", "lots", code=2).flat
    invoke("render", TEN, "-o", out, "--unit", "parsecs", code=2)
    invoke("render", TEN, "-o", out, "--focus", "reasoning_step", "--depth", "-1", code=2)
    assert not out.exists()


def test_cli_render_invalid_map_and_unwritable_output(tmp_path, write_map):
    bad = write_map("skills:\n  s: {curve: {logistic: {midpoint: 1e10}}}\n")
    result = invoke("render", bad, "-o", tmp_path / "g.svg", code=1)
    assert f"{bad}:2:15: missing required key 'slope'" in result.output
    result = invoke("render", TEN, "-o", tmp_path / "no" / "such" / "g.svg", code=1)
    assert "cannot write" in result.output


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.svg"
    target.write_text("old")

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.svg"]


def test_missing_pygraphviz_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # import now raises ImportError
    result = invoke("render", TEN, "-o", tmp_path / "g.svg", code=1)
    assert "drawing needs pygraphviz" in result.output
    invoke("render", TEN, "-o", tmp_path / "g.dot")  # DOT text needs no Graphviz
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
