"""Independent slices of work on every core: forked processes where that is safe, else threads.

A Monte Carlo pass is a list of slices, each writing its own columns of the result arrays, so they
can run anywhere and in any order and the answer is the same bit for bit. Threads overlap only in
part (numpy holds the GIL between its operations: 1.2–1.5× on two cores); forked processes do
not share a GIL, so on Linux, from the main thread of a process that has no other Python thread, the
slices run in ``workers − 1`` children and this process, which take tickets from a pipe (one
``read`` each, so every slice is taken once) and write into arrays in shared memory
(:meth:`ForkPool.empty`). A child that fails or dies leaves its slices to this process, which runs
them again, so a real error is raised here with its traceback. Ctrl-C reaches the children too and
ends them at once; any exception here ends them before it propagates.
"""

from __future__ import annotations

import gc
import math
import mmap
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from capgraph.core.interrupt import as_child, end_child, fork_quietly

T = TypeVar("T")
#: Most tickets a pass hands out: 4 bytes each, written at once before anyone reads, so they must
#: fit the smallest pipe buffer Linux gives (one page, for a user over the pipe-pages limit).
MAX_TICKETS = 1024


def cores() -> int:
    """Workers for independent slices: ``CAPGRAPH_THREADS`` when it is a whole number ≥ 1 (other
    values are ignored, as a bad limit is), else the cores this process may run on: its affinity,
    and no more than a container's CPU quota (cgroup v2 ``cpu.max``)."""
    raw = os.environ.get("CAPGRAPH_THREADS", "").strip()
    if raw.isascii() and raw.isdigit() and int(raw) >= 1:
        return int(raw)
    try:
        count = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as limits:
            quota, period = limits.read().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota to honour
    return count


def pool(workers: int) -> InlinePool | ThreadPool | ForkPool:
    """The way to run slices on ``workers`` cores from here: in this thread when there is one
    worker or the caller is not the main thread (``serve``'s watcher must be able to end with its
    process), forked processes where :func:`can_fork`, else threads."""
    if workers <= 1 or threading.current_thread() is not threading.main_thread():
        return InlinePool()
    return ForkPool(workers) if can_fork() else ThreadPool(workers)


def can_fork() -> bool:
    """Whether forking is safe here: Linux (fork is unsafe on macOS and missing on Windows) and no
    Python thread but this one (a lock another thread holds at the fork would stay held in the
    child). Native thread pools see to themselves: OpenBLAS, for one, stops its threads before a
    fork and starts them again when next needed."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


class InlinePool:
    """Slices one after another in the calling thread."""

    workers = 1

    def __enter__(self) -> InlinePool:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def empty(self, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """An uninitialised array of ``shape`` that every slice can write."""
        return np.empty(shape, dtype=dtype)

    def run(self, calls: list[Callable[[], None]], tags: list[T]) -> Iterator[T]:
        """Run ``calls``, yielding each one's tag as it is done."""
        for call, tag in zip(calls, tags, strict=True):
            call()
            yield tag


class ThreadPool(InlinePool):
    """Slices on ``workers`` threads, in order: only one slice a worker is queued ahead of the one
    being waited for, so a Ctrl-C (or the interpreter's exit) waits for the slices running, not
    for the whole pass."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = ThreadPoolExecutor(workers)

    def __exit__(self, *exc: object) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def run(self, calls: list[Callable[[], None]], tags: list[T]) -> Iterator[T]:
        ahead = 2 * self.workers  # one running and one queued a worker
        pending = deque(self.executor.submit(call) for call in calls[:ahead])
        for i, tag in enumerate(tags):
            pending.popleft().result()  # re-raises a slice's exception here
            if i + ahead < len(calls):
                pending.append(self.executor.submit(calls[i + ahead]))
            yield tag


class ForkPool(InlinePool):
    """Slices on this process and ``workers − 1`` forked children (see the module's docstring).

    Results must go to arrays from :meth:`empty`: anything else a child writes stays in the child.
    Tags are yielded as slices finish, not in order.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def empty(self, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        dtype_ = np.dtype(dtype)
        size = math.prod(shape)
        memory = mmap.mmap(-1, max(1, size * dtype_.itemsize))  # anonymous and shared with children
        return np.frombuffer(memory, dtype=dtype_, count=size).reshape(shape)

    def run(self, calls: list[Callable[[], None]], tags: list[T]) -> Iterator[T]:
        per_ticket = max(1, math.ceil(len(calls) / MAX_TICKETS))
        tickets = [range(i, min(len(calls), i + per_ticket)) for i in range(0, len(calls), per_ticket)]
        todo_read, todo_write = os.pipe()
        os.write(todo_write, np.arange(len(tickets), dtype="<u4").tobytes())
        os.close(todo_write)  # an empty pipe then reads as its end: no ticket left
        done_read, done_write = os.pipe()
        children: list[int] = []
        finished: set[int] = set()
        try:
            for _ in range(self.workers - 1):
                try:
                    pid = fork_quietly()
                except OSError:  # no memory or process left for another: the workers there are
                    break
                if pid == 0:
                    _child(calls, tickets, todo_read, done_read, done_write)
                children.append(pid)
            os.close(done_write)
            done_write = -1
            os.set_blocking(done_read, False)
            while ticket := os.read(todo_read, 4):
                for i in tickets[int.from_bytes(ticket, "little")]:
                    calls[i]()
                    finished.add(i)
                    yield tags[i]
                for i in _reported(done_read):
                    finished.add(i)
                    yield tags[i]
            os.set_blocking(done_read, True)
            for i in _reported(done_read):  # until every child has closed its end
                finished.add(i)
                yield tags[i]
            statuses = [os.waitpid(pid, 0)[1] for pid in children]
            children.clear()
            if any(os.WIFSIGNALED(s) and os.WTERMSIG(s) == signal.SIGINT for s in statuses):
                raise KeyboardInterrupt  # Ctrl-C reached a child before this process
            for i in range(len(calls)):
                if i not in finished:  # a child failed or died: its slices again, here
                    calls[i]()
                    yield tags[i]
        finally:
            for pid in children:  # an exception here (Ctrl-C included): the children's work is not wanted
                end_child(pid)
            for fd in (todo_read, done_read, done_write):
                if fd >= 0:
                    os.close(fd)


def _child(calls: list[Callable[[], None]], tickets: list[range], todo: int, done_read: int,
           done: int) -> None:
    """A forked child's whole life: take tickets until none is left, report each slice done, and
    leave without running any of the parent's clean-up (its buffers, atexit, open files)."""
    status = 1
    try:
        as_child()  # Ctrl-C ends the child at once (unless this process ignores it)
        gc.disable()  # a collection would touch every inherited object, copying the parent's pages
        os.close(done_read)
        parent = os.getppid()
        while ticket := os.read(todo, 4):
            for i in tickets[int.from_bytes(ticket, "little")]:
                if os.getppid() != parent:
                    return  # the parent was killed: nobody wants the rest
                calls[i]()
                os.write(done, i.to_bytes(4, "little"))  # 4 bytes: written whole, never interleaved
        status = 0
    finally:
        os._exit(status)


def _reported(done: int) -> Iterator[int]:
    """Slices the children report done: what can be read now (blocking: until every child is gone)."""
    while True:
        try:
            data = os.read(done, 4096)
        except BlockingIOError:
            return
        if not data:
            return
        yield from np.frombuffer(data, dtype="<u4").tolist()
