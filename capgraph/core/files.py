"""Writing output files whole or not at all.

A command that fails half-way (a full disk, a bug, Ctrl-C) must not leave a truncated SVG or HTML
where a good one used to be: bytes go to a temporary file in the destination's folder (same
filesystem, so the rename is atomic) and replace the target only once they are all on disk. Any
error, Ctrl-C included, removes the temporary file.

Only ``kill -9`` can stop a process before it cleans up, so each temporary file carries its
writer's process id (``.graph.svg.4242.k3j1x.tmp``), and the next write to the same target removes
those whose writer no longer runs.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from pathlib import Path


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
    _sweep(folder, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
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


def _sweep(folder: Path, name: str) -> None:
    """Remove temporary files of ``name`` left by writers that were killed (their pid is gone)."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(\d+)\.[^.]+\.tmp$")
    try:
        candidates = glob.glob(glob.escape(str(folder / f".{name}.")) + "*.tmp")
    except OSError:
        return
    for candidate in candidates:
        match = pattern.match(os.path.basename(candidate))
        if match and not _running(int(match.group(1))):
            try:
                os.unlink(candidate)
            except OSError:
                pass  # another writer swept it first, or the folder is read-only: harmless


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours (EPERM): leave its files alone
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)  # the only way to read the umask is to set it
    os.umask(mask)
    return mask
