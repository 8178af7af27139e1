"""Long calls into C libraries that Ctrl-C must still end at once.

Python runs its SIGINT handler only between bytecodes, so a library call that holds the
interpreter for 30 s (Graphviz laying out a large map) would ignore Ctrl-C until it returns.
:func:`interruptible` runs such a call in a forked child and waits for its answer on a pipe: the
wait is an ordinary system call, so Ctrl-C raises :class:`KeyboardInterrupt` in the parent at once,
which ends the child. Where ``fork`` is unsafe or missing (not Linux), the call runs in process.
:func:`in_child` is the same in two halves, so the caller can work while the child does:
``in_child(call)`` starts it, ``.result()`` waits for its answer.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def interruptible(call: Callable[[], T]) -> T:
    """``call()``, run so that Ctrl-C ends it at once; its exceptions are raised here as usual.

    >>> interruptible(lambda: 6 * 7)
    42
    """
    return in_child(call, fork=sys.platform.startswith("linux")).result()


class Pending(Generic[T]):
    """The answer of a call that :func:`in_child` started: :meth:`result` waits for it."""

    def __init__(self, pid: int | None = None, pipe: int = -1, value: T | None = None) -> None:
        self.pid, self.pipe, self.value = pid, pipe, value

    def result(self) -> T:
        """The call's value, or its exception raised here; Ctrl-C while waiting ends the child."""
        if self.pid is None:
            return self.value  # type: ignore[return-value]  # run in this process
        pid, self.pid = self.pid, None
        try:
            chunks = []
            while chunk := os.read(self.pipe, 1 << 20):
                chunks.append(chunk)
            _, status = os.waitpid(pid, 0)
        except BaseException:  # Ctrl-C (or anything else): the child's work is not wanted any more
            _end(pid)
            raise
        finally:
            os.close(self.pipe)
        if os.WIFSIGNALED(status):
            if os.WTERMSIG(status) == signal.SIGINT:  # Ctrl-C reached the child first
                raise KeyboardInterrupt
            raise RuntimeError(f"the child process was killed by signal {os.WTERMSIG(status)}")
        if not chunks:
            raise RuntimeError("the child process ended without an answer")
        ok, value = pickle.loads(b"".join(chunks))
        if not ok:
            raise value
        return value

    def __del__(self) -> None:
        if self.pid is not None:  # never asked for: end the child rather than leave it behind
            _end(self.pid)
            os.close(self.pipe)


def in_child(call: Callable[[], T], fork: bool = True) -> Pending[T]:
    """Start ``call()`` in a forked child and return at once; ``.result()`` gives its answer.

    With ``fork`` false (or no child to be had) the call runs here, before this returns. The
    answer comes back pickled.
    """
    if not fork:
        return Pending(value=call())
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no memory or process left for a child: the call runs here
        os.close(read_end)
        os.close(write_end)
        return Pending(value=call())
    if pid == 0:  # the child: answer on the pipe, then leave without running any cleanup of the parent's
        status = 0
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the child too: end at once
            try:
                payload = pickle.dumps((True, call()))
            except BaseException as exc:
                try:
                    payload = pickle.dumps((False, exc))
                except Exception:
                    payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
            view = memoryview(payload)
            while view:
                view = view[os.write(write_end, view):]
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    return Pending(pid, read_end)


def _end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
