"""Files written whole or not at all, and no temporary file outliving a writer killed with -9 (issue 14).

A killed writer's temporary file is swept by the next write into the same folder, of any file by
any command: its process is gone, or (another machine, a reused process id) it is an hour old.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from capgraph.core import files
from capgraph.core.files import STALE_SECONDS, sweep, write_atomic
from capgraph.evidence import fitcache


def dead_pid() -> int:
    """The process id of a process that has ended (reaped, so the id names nothing now)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    return int(done.stdout)


def temp_name(target: str, pid: int, host: str | None = None) -> str:
    return f".{target}.capgraph-{pid}-{host or files._host()}.ab12cd_3.tmp"


def test_a_write_sweeps_temporary_files_of_dead_writers_of_any_target(tmp_path):
    stale = [temp_name("report.html", dead_pid()), temp_name("graph.svg", dead_pid())]
    for name in stale:
        (tmp_path / name).write_text("half a file")
    write_atomic(tmp_path / "other.dot", "digraph {}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.dot"]


def test_live_writers_and_other_files_are_left_alone(tmp_path):
    keep = [temp_name("graph.svg", os.getpid()),  # this process: a write in progress
            temp_name("graph.svg", 1),  # a running process (init)
            temp_name("graph.svg", dead_pid(), host="00000000"),  # another machine, recent
            f".notes.txt.{dead_pid()}.ab12cd_3.tmp",  # the old naming, for another target
            ".capgraph-1-2.tmp", "draft.tmp", ".cache"]
    for name in keep:
        (tmp_path / name).write_text("someone's")
    write_atomic(tmp_path / "graph.svg", "<svg/>")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*keep, "graph.svg"])


def test_old_files_are_swept_whoever_wrote_them(tmp_path):
    names = [temp_name("a.svg", 1), temp_name("a.svg", os.getpid() + 1, host="00000000")]
    for name in names:
        (tmp_path / name).write_text("x")
        old = time.time() - STALE_SECONDS - 60
        os.utime(tmp_path / name, (old, old))
    assert sorted(sweep(tmp_path)) == sorted(names)
    assert list(tmp_path.iterdir()) == []


def test_old_naming_is_swept_for_its_own_target(tmp_path):
    stale = tmp_path / f".graph.svg.{dead_pid()}.x1y2z3.tmp"
    stale.write_text("half a picture")
    write_atomic(tmp_path / "graph.svg", "<svg/>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]


def test_hostile_names_do_not_break_a_write(tmp_path):
    (tmp_path / temp_name("x", 10**30)).write_text("no such process id")  # os.kill would overflow
    folder = temp_name("y", dead_pid())
    (tmp_path / folder).mkdir()  # a folder of that name is not removed, nor an error
    write_atomic(tmp_path / "z.txt", "ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder, "z.txt"])


def test_fit_cache_writes_sweep_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPGRAPH_CACHE_DIR", str(tmp_path))
    stale = tmp_path / temp_name("0" * 64 + ".json", dead_pid())
    stale.write_text("{")
    assert fitcache.write("1" * 64, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1" * 64 + ".json"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 is POSIX")
def test_kill_9_mid_write_then_any_write_cleans_up(tmp_path):
    """A writer killed while its temporary file exists: the next write into the folder sweeps it."""
    script = ("import sys, os\n"
              "from capgraph.core import files\n"
              "real = os.fsync\n"
              "def stop(fd):\n"
              "    real(fd); print('written', flush=True); sys.stdin.readline()\n"
              "os.fsync = stop\n"
              f"files.write_atomic({str(tmp_path / 'big.svg')!r}, b'x' * 1_000_000)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "written"
        left = [p.name for p in tmp_path.iterdir()]
        assert len(left) == 1 and left[0].startswith(".big.svg.capgraph-"), left
    finally:
        child.kill()
        child.wait()
    write_atomic(tmp_path / "unrelated.txt", "ok")
    assert [p.name for p in tmp_path.iterdir()] == ["unrelated.txt"]
