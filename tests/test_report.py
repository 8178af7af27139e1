"""capgraph report: a self-contained page, checked as text and opened in real headless Chromium."""

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

import capgraph
from capgraph.cli.app import app
from capgraph.outputs.report import anchor, report

from .conftest import GRAPHS, ROOT, invoke

runner = CliRunner()
BUG = ROOT / "graphs" / "fix_unfamiliar_bug.yaml"


class Page(HTMLParser):
    """Tags, ids, attributes that could reach outside the page, and table rows."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.outside: list[str] = []
        self.rows = 0
        self.in_predictions = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for key in ("src", "href", "xlink:href", "action", "data"):
            value = attrs.get(key)
            if value and not value.startswith("#"):
                self.outside.append(f"{tag} {key}={value}")
        if tag == "table" and attrs.get("id") == "predictions":
            self.in_predictions = True
        if tag == "tr" and self.in_predictions:
            self.rows += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_predictions = False


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def test_report_is_self_contained_and_complete():
    cmap = capgraph.load(BUG)
    text = report(cmap)
    page = parse(text)
    assert page.outside == []  # no links, images, scripts or styles from elsewhere
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    assert "@import" not in text and not re.search(r"url\((?!#)", text)  # only url(#local-id)
    # only XML namespace names mention http: nothing is fetched from them
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert page.tags.count("svg") == 2  # the graph and the curves
    assert f"<h1>{cmap.name}</h1>" in text
    assert "Reading code, planning, tool use and debugging, combined." in text
    assert page.rows == 1 + len(cmap.predict())  # header + one row a prediction
    assert {anchor(n) for n in cmap.nodes} <= set(page.ids)  # every node's definition
    assert "6 skills, 6 capabilities" in text
    assert "<td class=\"num\">585B</td>" in text  # fix_bug's crossing, as `capgraph predict` says


def test_report_escapes_user_text(write_map):
    cmap = capgraph.load(write_map("""
        name: '<script>alert(1)</script> & co'
        description: 'Uses <b>tags</b> & "quotes"'
        skills:
          'x<y': {curve: {logistic: {midpoint: 1e10, slope: 1}}, threshold: 0.5,
                  description: '</section><h1>not a heading</h1>'}
    """))
    text = report(cmap)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert "Uses &lt;b&gt;tags&lt;/b&gt; &amp; &quot;quotes&quot;" in text
    assert "&lt;/section&gt;&lt;h1&gt;not a heading" in text
    assert 'id="node-x-3cy"' in text
    assert "1 skill, 0 capabilities" in text


def test_report_is_deterministic():
    cmap = capgraph.load(BUG)
    assert report(cmap) == report(capgraph.load(BUG))


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.stem)
def test_every_example_reports(path, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(path), "-o", str(out), "--at", "1e11", "--unit", "params"])
    assert result.exit_code == 0, result.output
    page = parse(out.read_text())
    assert page.outside == [] and page.tags.count("svg") == 2


def test_cli_report_needs_html(tmp_path):
    assert "end it with .html" in invoke("report", BUG, "-o", tmp_path / "r.pdf", code=2).flat


# --- in a real browser ------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CONSOLE = re.compile(r":CONSOLE[:(]")


def chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    """Headless Chromium with no network: every host name fails to resolve."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
               "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (CI installs Debian's package: "
                             "apt-get install chromium); the browser check needs a real browser")


@needs_chromium
def test_console_check_catches_errors(tmp_path):
    """The check below can fail: a page that logs an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('boom')</script>")
    result = chromium(tmp_path, "--dump-dom", bad.as_uri())
    assert any(CONSOLE.search(line) and "boom" in line for line in result.stderr.splitlines())


@needs_chromium
def test_report_opens_in_chromium_without_console_errors(tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(BUG), "-o", str(out)])
    assert result.exit_code == 0, result.output

    loaded = chromium(tmp_path, "--dump-dom", out.as_uri())
    assert loaded.returncode == 0, loaded.stderr
    console = [line for line in loaded.stderr.splitlines() if CONSOLE.search(line)]
    assert console == []
    dom = loaded.stdout
    page = parse(dom)
    assert page.tags.count("svg") == 2
    assert page.rows == 1 + 6  # header and six capabilities
    assert dom.count('class="node"') >= 12  # the graph's nodes, as the browser parsed them
    assert "graph-figure" in page.ids and "predictions" in page.ids

    shot = tmp_path / "report.png"
    taken = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", out.as_uri())
    assert taken.returncode == 0, taken.stderr
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG")
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    # the graph's viridis fills made it to the screen: plenty of clearly coloured pixels
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    assert (saturation > 0.3).mean() > 0.02


def test_report_states_the_allocation_and_range_the_map_uses():
    page = report(capgraph.load(ROOT / "graphs" / "frontier_outlook.yaml"))
    assert "compute-optimal under the loss law L = 1.8172 + 482.01/N^0.3478" in page
    assert "range 1.83 – 3.5 loss" in page
    assert "20 training tokens per parameter" not in page
    page = report(capgraph.load(ROOT / "graphs" / "ten_step_reasoning.yaml"))
    assert "20 training tokens per parameter" in page and "range 100M – 100T params" in page


def test_pictures_take_predicts_monte_carlo_options(tmp_path):
    """render, plot and report run the Monte Carlo as asked: --at-medians is --samples 1, and the
    report's numbers follow the seed and samples given."""
    path = ROOT / "graphs" / "uncertain_reasoning.yaml"
    cmap = capgraph.load(path)
    point = cmap.predict(samples=1)[0]
    outputs = {}
    for args in (["--at-medians"], ["--samples", "1"], ["--samples", "400", "--seed", "3"]):
        for ext, command in ((".dot", "render"), (".svg", "plot"), (".html", "report")):
            if ext == ".html":
                pytest.importorskip("pygraphviz")
            out = tmp_path / f"{command}{'_'.join(args)}{ext}"
            invoke(command, path, "-o", out, *args)
            outputs[command, tuple(args)] = out.read_bytes()
    for command in ("render", "plot", "report"):
        assert outputs[command, ("--at-medians",)] == outputs[command, ("--samples", "1")], command
        assert outputs[command, ("--at-medians",)] != outputs[command, ("--samples", "400", "--seed", "3")]
    report_text = outputs["report", ("--samples", "400", "--seed", "3")].decode()
    assert "400 Monte Carlo draws (seed 3)" in report_text
    assert "Monte Carlo draws" not in outputs["report", ("--at-medians",)].decode()
    assert point.status == "crosses"
