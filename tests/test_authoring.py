"""`capgraph new` (a starter map that works as written) and `capgraph serve` (a live preview)."""

import json

import capgraph

from .conftest import invoke
from .test_report import CHROMIUM, needs_chromium


def test_new_writes_a_starter_that_checks_and_predicts(tmp_path):
    path = tmp_path / "first_map.yaml"
    out = invoke("new", path).output
    assert f"wrote {path}" in out
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=capgraph.schema.json\n")
    schema = json.loads((tmp_path / "capgraph.schema.json").read_text())
    assert schema["$schema"].startswith("https://json-schema.org/")
    m = capgraph.load(path)
    assert m.name == "first map" and m.uncertain  # a range
    assert set(m.spec.scenarios) == {"better_training"}
    cap = m.spec.capabilities["solve_problem"]
    assert cap.metric is not None and cap.metric.kind == "pass_at"  # a lens
    assert invoke("check", path).output.startswith("ok: 1 map, 2 skills, 1 capability")
    [p] = json.loads(invoke("predict", path, "--samples", "200", "--json").output)["capabilities"]
    assert p["status"] == "crosses" and p["bottleneck"] == "reasoning_step"


def test_new_refuses_to_overwrite(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("precious\n")
    (tmp_path / "capgraph.schema.json").write_text("{}")
    result = invoke("new", path, code=2)
    assert "never overwrites" in result.flat
    assert path.read_text() == "precious\n"
    invoke("new", tmp_path / "other.yaml")
    assert (tmp_path / "capgraph.schema.json").read_text() == "{}"  # an existing schema is kept


# --- capgraph serve ---------------------------------------------------------------------------------

LIVE = """\
name: Live
scale: {axis: params, range: [1e8, 1e14]}
skills:
  step: {curve: {logistic: {midpoint: 1e10, slope: 1.5}}, description: %s}
capabilities:
  chain: {requires: {step: 3}, threshold: 0.5}
"""


def until(condition, seconds=60.0, every=0.2):
    """Poll ``condition`` until it returns something truthy, at most ``seconds``; return it."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"gave up after {seconds} s waiting for {condition.__doc__ or condition}")


def test_serve_state_follows_saves_and_reports_problems(tmp_path):
    """The server side alone: a save bumps the version; a broken map gives located problems."""
    import http.client

    from capgraph.outputs.live import LivePreview, data_files

    path = tmp_path / "live.yaml"
    path.write_text(LIVE % "first draft")
    preview = LivePreview(path, port=0)
    preview.start()
    try:
        assert preview.url.startswith("http://127.0.0.1:")
        first = preview.wait(-1, timeout=0)
        assert first["problems"] == [] and "first draft" in first["html"]
        path.write_text(LIVE % "second draft")
        second = preview.wait(first["version"], timeout=30)
        assert "second draft" in second["html"]
        path.write_text((LIVE % "x").replace("slope: 1.5", "slope: steep"))
        broken = preview.wait(second["version"], timeout=30)
        assert broken["problems"] == [
            f"{path}:4:52: slope: 'steep' is not a number (write e.g. 1e10, 7B or 1.4T)"]
        # only its own address is answered (no DNS rebinding), and the page needs no network
        host, port = preview.server.server_address[:2]
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", "/", headers={"Host": "attacker.example"})
        assert conn.getresponse().status == 403
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", "/")
        page = conn.getresponse().read().decode()
        assert "<script>" in page and "http" not in page
    finally:
        preview.stop()
    fitted = tmp_path / "fitted.yaml"
    fitted.write_text("skills:\n  s: {curve: {fit: {data: runs/r.csv, x: n, y: acc}}}\n")
    assert data_files(fitted) == {(tmp_path / "runs" / "r.csv").resolve()}


@needs_chromium
def test_serve_page_in_chromium_follows_an_edit_and_shows_an_error(tmp_path):
    import subprocess
    import urllib.request

    import websocket

    from capgraph.outputs.live import LivePreview

    path = tmp_path / "live.yaml"
    path.write_text(LIVE % "first draft")
    preview = LivePreview(path, port=0)
    preview.start()
    profile = tmp_path / "profile"
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", preview.url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = None
    try:
        port_file = profile / "DevToolsActivePort"
        port = until(lambda: port_file.exists() and port_file.read_text().split("\n")[0], 60)
        listing = f"http://127.0.0.1:{port}/json/list"

        def page_socket():
            """the page's DevTools socket"""
            with urllib.request.urlopen(listing, timeout=10) as answer:
                pages = json.loads(answer.read())
            return next((p["webSocketDebuggerUrl"] for p in pages if p.get("url") == preview.url), None)

        socket = websocket.create_connection(until(page_socket, 60), timeout=30)
        calls = iter(range(1, 10_000))
        script = """(() => {
            const problems = document.getElementById('problems'), view = document.getElementById('view');
            const body = view && !view.hidden && view.contentDocument && view.contentDocument.body;
            return JSON.stringify({problems: problems && !problems.hidden ? problems.textContent : '',
                                   report: body ? body.innerText : ''});
        })()"""

        def shown():
            call = next(calls)
            socket.send(json.dumps({"id": call, "method": "Runtime.evaluate",
                                    "params": {"expression": script, "returnByValue": True}}))
            while True:
                reply = json.loads(socket.recv())
                if reply.get("id") == call:  # no value while the page is still loading
                    value = reply.get("result", {}).get("result", {}).get("value")
                    return json.loads(value) if value else {"problems": "", "report": ""}

        def showing(text, where="report"):
            def check():
                return text in shown()[where]
            check.__doc__ = f"the page to show {text!r} in its {where}"
            return check

        until(showing("first draft"))
        path.write_text(LIVE % "second draft")
        until(showing("second draft"))
        path.write_text((LIVE % "x").replace("slope: 1.5", "slope: steep"))
        until(showing(f"{path}:4:52: slope: 'steep' is not a number", "problems"))
        assert shown()["report"] == ""  # the problems, not the last good state
        path.write_text(LIVE % "third draft")
        until(showing("third draft"))
        assert shown()["problems"] == ""
    finally:
        if socket is not None:
            socket.close()
        browser.kill()
        browser.wait(timeout=30)
        preview.stop()
