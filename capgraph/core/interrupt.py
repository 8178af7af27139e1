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
import warnings
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
    """The answer of a call that :func:`in_child` started: :meth:`result` waits for it.

    A child that dies of anything but Ctrl-C (the out-of-memory killer, say) or ends without an
    answer costs time, not the answer: the call runs again here. :meth:`cancel` ends a child whose
    answer is no longer wanted (an error elsewhere); one never asked for is ended when collected.
    """

    def __init__(self, call: Callable[[], T], pid: int | None = None, pipe: int = -1) -> None:
        self.call, self.pid, self.pipe = call, pid, pipe
        self.done = pid is None
        self.value: T | None = call() if pid is None else None

    def result(self) -> T:
        """The call's value, or its exception raised here; Ctrl-C while waiting ends the child."""
        if self.done:
            return self.value  # type: ignore[return-value]
        pid, self.pid = self.pid, None
        try:
            chunks = []
            while chunk := os.read(self.pipe, 1 << 20):
                chunks.append(chunk)
            _, status = os.waitpid(pid, 0)  # type: ignore[arg-type]
        except BaseException:  # Ctrl-C (or anything else): the child's work is not wanted any more
            end_child(pid)  # type: ignore[arg-type]
            raise
        finally:
            os.close(self.pipe)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT:
            raise KeyboardInterrupt  # Ctrl-C reached the child first
        if os.WIFSIGNALED(status) or not chunks:  # killed, or died before answering: once more, here
            self.value = self.call()
        else:
            ok, value = pickle.loads(b"".join(chunks))
            if not ok:
                raise value
            self.value = value
        self.done = True
        return self.value  # type: ignore[return-value]

    def cancel(self) -> None:
        """End the child, if it still runs: its answer is not wanted."""
        if self.pid is not None:
            pid, self.pid = self.pid, None
            end_child(pid)
            os.close(self.pipe)

    def __del__(self) -> None:
        self.cancel()


def in_child(call: Callable[[], T], fork: bool = True) -> Pending[T]:
    """Start ``call()`` in a forked child and return at once; ``.result()`` gives its answer.

    With ``fork`` false (or no child to be had) the call runs here, before this returns. The
    answer comes back pickled.
    """
    if not fork:
        return Pending(call)
    read_end, write_end = os.pipe()
    try:
        pid = fork_quietly()
    except BaseException as exc:
        os.close(read_end)
        os.close(write_end)
        if isinstance(exc, OSError):  # no memory or process left for a child: the call runs here
            return Pending(call)
        raise
    if pid == 0:  # the child: answer on the pipe, then leave without running any cleanup of the parent's
        status = 0
        try:
            os.close(read_end)
            as_child()
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
    return Pending(call, pid, read_end)


def fork_quietly() -> int:
    """``os.fork()`` without Python 3.12's warning about native threads: the callers fork only with
    no other Python thread (or for a short call into C), and the native pools numpy starts
    (OpenBLAS) stop their threads around a fork by themselves."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def as_child() -> None:
    """A forked child's set-up: Ctrl-C ends it at once, unless this process ignores Ctrl-C (a
    background job, ``nohup``), which its children then ignore too."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def end_child(pid: int) -> None:
    """Kill a forked child and reap it (nothing happens if it is gone already)."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
