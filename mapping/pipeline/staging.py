"""Publishing a folder in one step: everything is written into a hidden staging folder beside
the target, which then takes the target's place with renames, so a failure or a kill never
leaves a half-written folder behind. The build (``<out>/processed``, replaced) and a release
(``releases/vX.Y.Z``, never replaced) both publish this way.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def backup_of(target: Path) -> Path:
    """Where the previous ``target`` waits while a new one is swapped in."""
    return target.parent / f".{target.name}.old"


@contextlib.contextmanager
def staged(target: Path, *, replace: bool) -> Iterator[Path]:
    """Yield an empty hidden folder beside ``target``; when the block succeeds it becomes
    ``target``.

    With ``replace`` an existing ``target`` is swapped out (moved to :func:`backup_of`, then
    removed) and one left by a process killed between the two renames is restored first;
    without, an existing ``target`` is never touched (:class:`FileExistsError`). On failure the
    staging folder is removed and ``target`` is as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    old = backup_of(target)
    if replace and not target.exists() and old.exists():  # killed between the two renames
        os.replace(old, target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    try:
        yield staging
        if not replace:
            if target.exists():
                raise FileExistsError(target)
            os.rename(staging, target)
            return
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


#: ``tempfile.mkdtemp``'s random part: 8 characters of this alphabet
_STAGING_SUFFIX = re.compile(r"[a-z0-9_]{8}")


def remove_stale(target: Path) -> list[Path]:
    """Remove the staging folders of ``target`` that a killed build left behind; returns them.

    Only what :func:`staged` creates is touched: a real folder (not a link) beside ``target``,
    named ``.<target name>.staging-`` plus mkdtemp's 8 random characters, owned by this user.
    Call it only while holding the out-dir's lock (then no other build is using one)."""
    prefix = f".{target.name}.staging-"
    removed = []
    if not target.parent.is_dir():
        return removed
    for child in sorted(target.parent.iterdir()):
        if (child.name.startswith(prefix) and _STAGING_SUFFIX.fullmatch(child.name[len(prefix):])
                and not child.is_symlink() and child.is_dir()
                and child.lstat().st_uid == os.getuid()):
            shutil.rmtree(child)
            removed.append(child)
    return removed
