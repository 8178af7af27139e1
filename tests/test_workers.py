"""Monte Carlo slices on every core (engine/workers): the same answer on any number of workers,
in forked processes or threads, and no work lost when a child fails."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import capgraph
from capgraph.engine import predict, workers

from .conftest import ROOT

MAP = """
skills:
  a: {curve: {logistic: {midpoint: 1e9 to 1e11, slope: 1 to 2}}}
  b: {curve: {power_law: {scale: 1e8 to 1e10, exponent: 0.2 to 0.4}}}
capabilities:
  both: {requires: [a, b], threshold: 0.3}
  either: {requires: [a, b], combine: any, metric: {exact_match: {length: 4}}}
"""


@pytest.fixture
def pools(monkeypatch):
    """The pools the engine asks for, as (kind, workers); many small slices, so workers share them."""
    made = []
    choose = workers.pool

    def spy(n):
        made.append((type(chosen := choose(n)).__name__, n))
        return chosen

    monkeypatch.setattr(workers, "pool", spy)
    monkeypatch.setattr(predict, "CACHE_FLOATS", 4096)
    return made


def test_the_same_draws_inline_in_processes_and_in_threads(monkeypatch, pools):
    cmap = capgraph.loads(MAP)
    answers = []
    for count in ("1", "2", "3"):
        monkeypatch.setenv("CAPGRAPH_THREADS", count)
        answers.append(cmap.draws(samples=999, seed=4).crossings("both").tolist())
    monkeypatch.setattr(workers, "can_fork", lambda: False)
    answers.append(cmap.draws(samples=999, seed=4).crossings("both").tolist())
    expected = [("InlinePool", 1), ("ForkPool", 2), ("ForkPool", 3)] if workers.can_fork() else []
    if expected:  # on Linux
        assert pools == [*expected, ("ThreadPool", 3)]
    assert answers[0] == answers[1] == answers[2] == answers[3]
    assert not np.isnan(answers[0]).all()


def test_predict_json_is_the_same_on_one_core_and_two(monkeypatch):
    cmap = capgraph.loads(MAP)
    runs = []
    for count in ("1", "2"):
        monkeypatch.setenv("CAPGRAPH_THREADS", count)
        runs.append([p.to_json() for p in cmap.predict(samples=500, seed=1)])
    assert runs[0] == runs[1]


def test_a_pass_off_the_main_thread_or_beside_another_thread_does_not_fork(monkeypatch, pools):
    cmap = capgraph.loads(MAP)
    monkeypatch.setenv("CAPGRAPH_THREADS", "2")
    done = []
    worker = threading.Thread(target=lambda: done.append(cmap.draws(samples=999, seed=4).crossings("both")))
    worker.start()
    worker.join()
    assert pools == [("InlinePool", 2)]  # off the main thread: nothing to outlive it
    waiting = threading.Event()
    other = threading.Thread(target=waiting.wait)
    other.start()
    try:
        assert not workers.can_fork()
        cmap.draws(samples=999, seed=4)
    finally:
        waiting.set()
        other.join()
    assert pools[-1] == ("ThreadPool", 2)


def test_slices_in_flight_stay_within_a_chunks_memory(monkeypatch, pools):
    cmap = capgraph.loads(MAP)
    monkeypatch.setenv("CAPGRAPH_THREADS", "4")
    predict.crossing_samples(cmap.sampled_plan(999, 4), predict.grid(*cmap.log_range, 16), chunk=40)
    assert pools == [("InlinePool", 1)]


def test_the_worker_count_comes_from_the_environment_or_the_cores(monkeypatch):
    monkeypatch.setenv("CAPGRAPH_THREADS", "3")
    assert workers.cores() == 3
    for bad in ("²", "0", "-2", "two", ""):  # not a count: the cores this process may use
        monkeypatch.setenv("CAPGRAPH_THREADS", bad)
        assert 1 <= workers.cores() <= (os.cpu_count() or 1)


@pytest.mark.skipif(not workers.can_fork(), reason="forked workers need Linux")
def test_a_failing_child_leaves_its_slices_to_the_parent():
    parent = os.getpid()
    runner = workers.ForkPool(2)
    out = runner.empty((40,), float)

    def fill(i):
        if os.getpid() != parent and i % 2:
            raise RuntimeError("only the child fails")  # the child dies; the parent redoes the slice
        out[i] = i * i

    done = list(runner.run([lambda i=i: fill(i) for i in range(40)], list(range(40))))
    assert sorted(done) == list(range(40))
    assert out.tolist() == [i * i for i in range(40)]


@pytest.mark.skipif(not workers.can_fork(), reason="forked workers need Linux")
def test_an_error_in_a_slice_is_raised_in_the_parent_and_ends_the_children():
    runner = workers.ForkPool(2)

    def slice_(i):
        if i == 7:
            raise ValueError("slice 7 is broken")

    with pytest.raises(ValueError, match="slice 7 is broken"):
        list(runner.run([lambda i=i: slice_(i) for i in range(20)], list(range(20))))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind


@pytest.mark.skipif(not workers.can_fork(), reason="forked workers need Linux")
def test_more_slices_than_tickets(monkeypatch):
    monkeypatch.setattr(workers, "MAX_TICKETS", 7)  # slices share tickets: still each run once
    runner = workers.ForkPool(3)
    out = runner.empty((100,), np.int64)
    out[:] = 0

    def bump(i):
        out[i] += i + 1

    assert sorted(runner.run([lambda i=i: bump(i) for i in range(100)], list(range(100)))) == list(range(100))
    assert out.tolist() == list(range(1, 101))


@pytest.mark.skipif(not workers.can_fork(), reason="forked workers need Linux")
def test_children_end_when_their_parent_is_killed(tmp_path):
    """kill -9 of a run leaves no worker behind computing for nobody."""
    script = tmp_path / "run.py"
    script.write_text(f"""
import os, sys, time
sys.path.insert(0, {str(ROOT)!r})
from capgraph.engine import workers
runner = workers.ForkPool(2)
def work(i):
    if os.getpid() != parent:
        print(os.getpid(), flush=True)
    time.sleep(0.05)
parent = os.getpid()
for _ in runner.run([lambda i=i: work(i) for i in range(2000)], list(range(2000))):
    pass
""")
    run = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(run.stdout.readline())
    run.kill()
    run.wait()
    for _ in range(100):  # the child notices within a slice (50 ms)
        if not _alive(child):
            break
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("count", ["2", "3"])
@pytest.mark.parametrize("fork", [True, False])
def test_a_point_pass_split_by_columns_gives_the_same_values(monkeypatch, count, fork):
    """Every kind of node (the bench generator mixes them all) evaluated on column blocks, in
    processes or threads, equals one evaluation bit for bit."""
    from capgraph.engine import plan as plan_module

    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    cmap = capgraph.loads(generate(300, ranges=False))
    log_x = predict.grid(*cmap.log_range, predict.GRID_PER_DECADE)
    whole = plan_module.evaluate(cmap.plan, log_x, slice(0, 1))[:, 0, :]
    monkeypatch.setenv("CAPGRAPH_THREADS", count)
    monkeypatch.setattr(plan_module, "SPLIT_FLOATS", 1000)
    if not fork:
        monkeypatch.setattr(workers, "can_fork", lambda: False)
    split = plan_module.evaluate_on_cores(cmap.plan, log_x)
    assert split.shape == whole.shape
    assert np.array_equal(split, whole, equal_nan=True)


@pytest.mark.skipif(not workers.can_fork(), reason="forked workers need Linux")
def test_a_call_in_a_child_gives_its_answer_or_its_error_later():
    from capgraph.core.interrupt import in_child

    parent = os.getpid()
    pending = in_child(lambda: (os.getpid(), [1.5, None, "x"]))
    child, answer = pending.result()
    assert child != parent and answer == [1.5, None, "x"]  # computed elsewhere, sent back whole
    failing = in_child(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result()
    here = in_child(lambda: os.getpid(), fork=False)
    assert here.result() == parent
    forgotten = in_child(lambda: time.sleep(30))
    pid = forgotten.pid
    del forgotten  # never asked for: the child is ended, not left behind
    assert not _alive(pid)


def test_no_child_to_be_had_means_the_work_is_done_here(monkeypatch):
    from capgraph.core import interrupt

    def refuse():
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork's EAGAIN

    monkeypatch.setattr(os, "fork", refuse)
    out = workers.ForkPool(2).empty((5,), float)
    runner = workers.ForkPool(2)
    assert sorted(runner.run([lambda i=i: out.__setitem__(i, i) for i in range(5)], list(range(5)))) == [0, 1, 2, 3, 4]
    assert out.tolist() == [0, 1, 2, 3, 4]
    assert interrupt.in_child(lambda: 42).result() == 42


@pytest.mark.skipif(not workers.can_fork(), reason="forked workers need Linux")
def test_a_child_killed_or_cancelled_costs_time_not_the_answer():
    import signal

    from capgraph.core.errors import MapError, Problem
    from capgraph.core.interrupt import in_child

    parent = os.getpid()
    doomed = in_child(lambda: os.kill(os.getpid(), signal.SIGKILL) if os.getpid() != parent else 42)
    assert doomed.result() == 42 and doomed.result() == 42  # run again here; asked twice, same answer
    bad = in_child(lambda: (_ for _ in ()).throw(MapError([Problem("m.yaml", 3, 5, "no such node")])))
    with pytest.raises(MapError) as caught:
        bad.result()
    assert str(caught.value) == "m.yaml:3:5: no such node"  # the error comes back whole
    slow = in_child(lambda: time.sleep(30))
    pid = slow.pid
    slow.cancel()
    assert not _alive(pid)


@pytest.mark.skipif(not workers.can_fork(), reason="forked workers need Linux")
def test_children_keep_ctrl_c_ignored_where_their_parent_ignores_it():
    import signal

    from capgraph.core.interrupt import in_child

    assert in_child(lambda: signal.getsignal(signal.SIGINT) is signal.SIG_DFL).result()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job, nohup
    try:
        assert in_child(lambda: signal.getsignal(signal.SIGINT) is signal.SIG_IGN).result()
        runner = workers.ForkPool(2)
        seen = runner.empty((4,), np.int64)
        calls = [lambda i=i: seen.__setitem__(i, signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
                 for i in range(4)]
        assert sorted(runner.run(calls, list(range(4)))) == [0, 1, 2, 3]
        assert seen.tolist() == [1, 1, 1, 1]
    finally:
        signal.signal(signal.SIGINT, before)
