"""Ctrl-C: a long command ends at once with exit status 130, no traceback and no file left behind.

These need a real process (a signal, a process group), so they run the CLI as a subprocess; each
waits until the work is under way, sends SIGINT to the whole process group as a terminal does, and
checks how fast and how cleanly the command ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from capgraph.core.files import write_atomic

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and fork")


def _interrupt(args: list[str], cwd, after: float, *, when_forked: bool = False) -> tuple[int, str, float]:
    """Run the CLI, send Ctrl-C; (exit status, output, seconds it took to end).

    Ctrl-C comes ``after`` seconds in, or, with ``when_forked``, as soon as the command has forked
    the child that does the long work (so the test does not depend on how fast this machine is).
    """
    process = subprocess.Popen([sys.executable, "-c", "from capgraph.cli.entry import main; main()", *args],
                               cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    if when_forked:
        children = f"/proc/{process.pid}/task/{process.pid}/children"
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            with open(children) as f:
                if f.read().strip():
                    break
            time.sleep(0.05)
        time.sleep(0.3)  # well inside the layout, which takes seconds
    else:
        time.sleep(after)
    if process.poll() is not None:
        raise AssertionError(f"the command ended before it could be interrupted: {process.communicate()[0]}")
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return process.returncode, output, time.monotonic() - sent


def _big_graph(path, n: int = 800) -> None:
    """A map whose layout takes Graphviz many seconds: n capabilities over tangled children."""
    lines = ["skills:"] + [f"  s{i}: {{curve: {{logistic: {{midpoint: 1e{9 + i % 4}, slope: 1}}}}}}"
                           for i in range(40)]
    lines.append("capabilities:")
    for i in range(n):
        kids = sorted({f"s{(i * 7) % 40}", f"s{(i * 13 + 5) % 40}"}
                      | ({f"c{(i * 17) % i}", f"c{(i * 31 + 3) % i}"} if i > 1 else set()))
        lines.append(f"  c{i}: {{requires: [{', '.join(kids)}]}}")
    path.write_text("\n".join(lines) + "\n")


def test_ctrl_c_during_graphviz_layout(tmp_path):
    _big_graph(tmp_path / "big.yaml")
    (tmp_path / "out").mkdir()
    code, output, took = _interrupt(["render", "big.yaml", "-o", "out/big.svg"], tmp_path, after=0,
                                    when_forked=True)
    assert code == 130, output
    assert "Traceback" not in output
    assert "interrupted" in output
    assert took < 5, f"Ctrl-C took {took:.1f} s to end the layout"
    assert list((tmp_path / "out").iterdir()) == [], "a file was left behind"


def test_ctrl_c_during_monte_carlo(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "scale: {range: [1e3, 1e30]}\nskills:\n"
        + "".join(f"  s{i}: {{curve: {{logistic: {{midpoint: 3e9 to 3e10, slope: 1 to 2}}}}}}\n" for i in range(8))
        + "capabilities:\n  c: {requires: [" + ", ".join(f"s{i}" for i in range(8)) + "]}\n")
    code, output, took = _interrupt(["predict", "m.yaml", "--samples", "1000000"], tmp_path, after=4.0)
    assert code == 130, output
    assert "Traceback" not in output
    assert took < 5, f"Ctrl-C took {took:.1f} s"


def test_killed_writers_leave_no_temporary_file(tmp_path):
    """A temporary file of a writer that was killed (kill -9) is swept by the next write."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = tmp_path / f".graph.svg.{dead.stdout.strip()}.x1y2z3.tmp"
    stale.write_text("half a picture")
    write_atomic(tmp_path / "graph.svg", "<svg/>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]
