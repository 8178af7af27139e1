"""``capgraph serve``: a live preview of a map while it is written.

A small HTTP server on 127.0.0.1 serves one page and one JSON endpoint. A watcher
(``watchfiles``) follows the map file and every results file it fits curves from; on each save the
map is loaded again and the page shows the new report (graph, curves, predictions), or, when the
save broke the map, its problems as ``file:line:col: message`` lines until the next good save.

The page needs no network: everything is inline, and it long-polls ``/state?after=N`` on the same
server, which answers as soon as there is a version newer than N (or after ``POLL_SECONDS``). Only
requests whose Host is this server's own address are answered, so a web page elsewhere cannot read
the map through DNS rebinding.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from capgraph.core.errors import MapError

#: Longest a ``/state`` request waits for a new version before answering with the current one.
POLL_SECONDS = 20.0


def data_files(path: Path) -> set[Path]:
    """The results files the map at ``path`` fits curves from (``curve: {fit: {data: ...}}``).

    Read from the raw document, so they are known even while the map has other problems.
    """
    from capgraph.format.source import load_document

    try:
        data = load_document(path).data
    except MapError:
        return set()
    found: set[Path] = set()
    stack = [data]
    while stack:  # iterative: the document may be deep
        node = stack.pop()
        if isinstance(node, dict):
            fit = node.get("fit")
            if isinstance(fit, dict) and isinstance(fit.get("data"), str):
                found.add((path.parent / fit["data"]).resolve())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def build(path: Path) -> dict[str, Any]:
    """The page's state for the map as saved now: its report, or its problems."""
    from capgraph.model.capmap import load
    from capgraph.outputs.report import report

    stamp = time.strftime("%H:%M:%S")
    try:
        cmap = load(path)
    except MapError as exc:
        lines = [str(p) for p in exc.problems]
        return {"status": f"{path.name}: {len(lines)} problem(s) at {stamp}; showing them until "
                          "the next good save", "problems": lines, "html": ""}
    warnings = [str(p) for p in cmap.warnings()]
    return {"status": f"{path.name}: updated {stamp}" + (f", {len(warnings)} warning(s)" if warnings
                                                        else ""),
            "problems": [], "warnings": warnings, "html": report(cmap)}


_SHELL = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>capgraph serve: {name}</title>
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; }}
#bar {{ padding: 6px 12px; background: #f0f0f0; font-size: 13px; border-bottom: 1px solid #ccc; }}
#problems {{ margin: 0; padding: 12px; color: #a40000; font: 13px/1.5 monospace; white-space: pre-wrap; }}
#view {{ border: 0; width: 100%; height: calc(100vh - 32px); display: block; }}
</style></head>
<body><div id="bar">loading {name}…</div><pre id="problems" hidden></pre>
<iframe id="view" title="{name}"></iframe>
<script>
"use strict";
const bar = document.getElementById("bar"), problems = document.getElementById("problems"),
      view = document.getElementById("view");
let version = -1;
function show(state) {{
  bar.textContent = state.status;
  if (state.problems.length) {{
    problems.textContent = state.problems.join("\\n");
    problems.hidden = false; view.hidden = true;
  }} else {{
    const y = view.contentWindow ? view.contentWindow.scrollY : 0;  // keep the reader's place
    view.onload = () => view.contentWindow.scrollTo(0, y);
    view.srcdoc = state.html;
    problems.hidden = true; view.hidden = false;
  }}
}}
async function follow() {{
  for (;;) {{
    try {{
      const answer = await fetch("/state?after=" + version, {{cache: "no-store"}});
      const state = await answer.json();
      if (state.version !== version) {{ version = state.version; show(state); }}
    }} catch (err) {{
      bar.textContent = "capgraph serve is not answering; this page reconnects when it runs again";
      await new Promise(wake => setTimeout(wake, 2000));
    }}
  }}
}}
follow();
</script></body></html>
"""


class LivePreview:
    """The state of one map's preview, rebuilt by a watcher thread and served over HTTP."""

    def __init__(self, path: str | Path, host: str = "127.0.0.1", port: int = 0,
                 on_change: Callable[[dict[str, Any]], None] | None = None):
        self.path = Path(path).resolve()
        self.on_change = on_change
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._watching = threading.Event()
        self.version = 0
        self.state = build(self.path)
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def page(self) -> str:
        return _SHELL.format(name=html.escape(self.path.name))

    def wait(self, after: int, timeout: float = POLL_SECONDS) -> dict[str, Any]:
        """The state as JSON once its version is newer than ``after`` (or at ``timeout``)."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != after or self._stop.is_set(), timeout)
            return {**self.state, "version": self.version}

    def refresh(self) -> None:
        """Load the map again and wake every waiting page."""
        state = build(self.path)
        with self._changed:
            self.state = state
            self.version += 1
            self._changed.notify_all()
        if self.on_change:
            self.on_change(state)

    def _watch(self) -> None:
        from watchfiles import watch

        while not self._stop.is_set():
            # editors save by writing a new file and renaming it: watch folders, filter by name
            watched = {self.path, *data_files(self.path)}
            folders = sorted({str(p.parent) for p in watched if p.parent.exists()})
            relevant = {str(p) for p in watched}
            for changes in watch(*folders, stop_event=self._stop, rust_timeout=200,
                                 yield_on_timeout=True):
                self._watching.set()  # the first (empty) batch: the watcher is in place
                if any(str(Path(name).resolve()) in relevant for _, name in changes):
                    self.refresh()
                    if {self.path, *data_files(self.path)} != watched:
                        break  # the map now fits from other files: watch afresh

    def start(self, timeout: float = 30.0) -> None:
        """Serve and watch in background threads; return once the watcher is in place."""
        for target in (self.server.serve_forever, self._watch):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        self._watching.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


def _handler(preview: LivePreview) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server protocol)
            host, port = preview.server.server_address[:2]
            if self.headers.get("Host") not in (f"{host}:{port}", f"localhost:{port}"):
                self._send(403, "text/plain", b"capgraph serve answers only its own address")
                return
            url = urlsplit(self.path)
            if url.path == "/":
                self._send(200, "text/html; charset=utf-8", preview.page().encode())
            elif url.path == "/state":
                try:
                    after = int(parse_qs(url.query).get("after", ["-1"])[0])
                except ValueError:
                    after = -1
                body = json.dumps(preview.wait(after), ensure_ascii=False).encode()
                self._send(200, "application/json", body)
            else:
                self._send(404, "text/plain", b"not found")

        def _send(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet: the terminal shows what changed, not every poll

    return Handler
