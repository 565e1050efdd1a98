"""An exclusive lock on an output folder, so that two builds (or a build and a release) never
write into it at once.

The lock is ``fcntl.flock`` on ``<folder>/.mapping.lock``: the kernel releases it when the
holder exits, however it exits (a build killed with SIGKILL leaves no stale lock). While it is
held the file names the holder (pid, command, start time) so that a second process can say who
it is waiting for. The file itself is left in place: removing a lock file while another process
may be opening it would let two processes hold "the" lock at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from mapping.errors import MappingError

LOCK_NAME = ".mapping.lock"
#: how often a waiting process tries the lock again, in seconds
POLL_S = 0.2


class LockError(MappingError):
    """The output folder is locked by another process (which the message names)."""


def _holder_text(fd: int) -> str:
    """Who holds the lock, from the lock file (as written by :func:`out_dir_lock`)."""
    try:
        raw = os.pread(fd, 4096, 0)
        info = json.loads(raw.decode("utf-8"))
        return (f"pid {int(info['pid'])} ({str(info['command'])[:200]}), started "
                f"{info['started']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (it has not yet written its name)"


def _command() -> str:
    argv = list(sys.argv)
    if argv and argv[0].endswith("__main__.py"):  # python -m mapping ...
        argv[0] = "mapping"
    return " ".join(argv) or "python"


@contextlib.contextmanager
def out_dir_lock(folder: str | os.PathLike, wait_s: float = 0.0,
                 what: str = "write to") -> Iterator[Path]:
    """Hold the exclusive lock on ``folder`` (created if needed) for the ``with`` block.

    Parameters
    ----------
    folder
        The output folder (``--out-dir``) to lock.
    wait_s
        How long to wait for another holder to finish, in seconds (0: fail at once).
    what
        What the caller is about to do, for the message (``"build into"``, ...).

    Raises
    ------
    LockError
        Naming the process that holds the lock (pid, command, start time) when it is still held
        after ``wait_s`` seconds.
    """
    folder = Path(folder)
    path = folder / LOCK_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise LockError(f"cannot {what} {folder}: cannot open its lock file {path} "
                        f"({exc.strerror})") from None
    try:
        deadline = time.monotonic() + max(0.0, float(wait_s))
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder_text(fd)
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait_s:g} s" if wait_s > 0 else ""
                    raise LockError(
                        f"cannot {what} {folder}: it is locked by {holder}{waited}. Wait for "
                        "that process to finish (or stop it), or pass --wait SECONDS to wait "
                        f"for it; the lock is {path}") from None
                if not told:
                    print(f"waiting up to {wait_s:g} s for {holder} to release {path}",
                          file=sys.stderr, flush=True)
                    told = True
                time.sleep(POLL_S)
        info = {"pid": os.getpid(), "command": _command(),
                "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # nobody holds it now
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
