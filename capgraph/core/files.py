"""Writing output files whole or not at all.

A command that fails half-way (a full disk, a bug, Ctrl-C) must not leave a truncated SVG or HTML
where a good one used to be: bytes go to a temporary file in the destination's folder (same
filesystem, so the rename is atomic) and replace the target only once they are all on disk. Any
error, Ctrl-C included, removes the temporary file.

Only ``kill -9`` (or a crash of the machine) can stop a process before it cleans up, and
``O_TMPFILE`` (a file with no name until it is whole) is not available everywhere (overlay and
sandboxed filesystems refuse the link with EXDEV). So each temporary file is named for its writer,
``.graph.svg.capgraph-4242-1a2b3c4d.k3j1x_q7.tmp`` (process id and a hash of the host name), and
every write sweeps its folder of capgraph's temporary files whose writer is gone: a process of this
host that no longer runs, or, whatever the host, a file untouched for :data:`STALE_SECONDS` (a
writer writes bytes it already holds, in seconds; an hour without a change is a dead writer whose
process id was reused, or one on another machine). A leftover lasts until the next write into
its folder, by any capgraph command.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import time
from pathlib import Path

#: A temporary file untouched this long is swept whoever wrote it (see the module docstring).
STALE_SECONDS = 3600.0

#: ``.<target>.capgraph-<pid>-<host>.<random>.tmp``, and the earlier form ``.<target>.<pid>.<random>.tmp``
#: (swept only when writing the same target: the form alone does not say it is capgraph's).
_OURS = re.compile(r"^\.(?P<target>.+)\.capgraph-(?P<pid>\d+)-(?P<host>[0-9a-f]{8})\.[^.]+\.tmp$")
_LEGACY = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8 encoded) to ``path`` atomically; return the path.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "hello").read_text()
    'hello'
    >>> sorted(p.name for p in folder.iterdir())  # no temporary file left behind
    ['a.txt']
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = path.parent or Path(".")
    sweep(folder, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.capgraph-{os.getpid()}-{_host()}.", suffix=".tmp",
                               dir=folder)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def sweep(folder: str | Path, target: str | None = None) -> list[str]:
    """Remove capgraph's temporary files in ``folder`` whose writer is gone; return their names.

    ``target`` (the file about to be written) also sweeps the older naming of its own temporary
    files. Files that cannot be removed (a read-only folder, a race with another sweeper) stay.
    """
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    host, now, removed = _host(), time.time(), []
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".tmp")):
            continue
        ours, legacy = _OURS.match(name), _LEGACY.match(name)
        if ours:
            pid, same_host = int(ours["pid"]), ours["host"] == host
        elif legacy and legacy["target"] == target:
            pid, same_host = int(legacy["pid"]), True
        else:
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue  # already gone
        if (same_host and not _running(pid)) or age > STALE_SECONDS:
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(name)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or no process id at all
        return False
    except OSError:  # exists but is not ours (EPERM): leave its files alone
        return True
    return True


def _host() -> str:
    """Eight hex digits naming this machine, so that process ids are judged only where they mean something."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _umask() -> int:
    mask = os.umask(0)  # the only way to read the umask is to set it
    os.umask(mask)
    return mask
