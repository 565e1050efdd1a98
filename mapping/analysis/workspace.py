"""Where notebooks read and write, and scratch data folders for trying out new inputs.

Notebooks write only under an output folder (default: the project's ``data/``, or
``$MAPPING_OUTPUT_DIR``), never into the repository tree. :func:`notebook_dirs` resolves the
folders the same way from the repository root or from ``notebooks/``.

:func:`overlay_data_dir` makes a working copy of the data package in which some files are
replaced by a user's own versions (the rest are symbolic links to the read-only package), so a
refreshed or new CSV can go through the registry and the build without touching the package.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mapping.config import data_dir as resolve_data_dir
from mapping.config import output_dir as default_output_dir


def project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The checkout this code runs from (the folder holding ``pyproject.toml`` and
    ``mapping/``), searching upwards from ``start`` (default: the working directory), then
    from this package's own folder (an editable install); ``None`` if neither is a checkout."""
    here = Path(start or Path.cwd()).resolve()
    package_parent = Path(__file__).resolve().parents[2]
    for folder in (here, *here.parents, package_parent):
        if (folder / "pyproject.toml").is_file() and (folder / "mapping").is_dir():
            return folder
    return None


def package_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The open data package: given, else ``$MAPPING_DATA_DIR``, else ``shared/data`` beside
    the checkout, else the CLI's default (checked to exist, see :func:`mapping.config.data_dir`)."""
    if data_dir is None and not os.environ.get("MAPPING_DATA_DIR"):
        root = project_root()
        if root is not None and (root.parent / "shared" / "data").is_dir():
            data_dir = root.parent / "shared" / "data"
    return resolve_data_dir(data_dir)


@dataclass(frozen=True)
class NotebookDirs:
    output: Path
    processed: Path

    def sub(self, *parts: str) -> Path:
        """A folder under the output folder (created)."""
        path = self.output.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path


def notebook_dirs(output_dir: str | os.PathLike | None = None,
                  processed_dir: str | os.PathLike | None = None) -> NotebookDirs:
    """Resolve a notebook's output and build folders.

    ``output_dir``: given, else ``$MAPPING_OUTPUT_DIR``, else ``<checkout>/data``.
    ``processed_dir``: given, else ``<output_dir>/processed``.
    """
    if output_dir is not None:
        out = Path(output_dir).expanduser().resolve()
    elif os.environ.get("MAPPING_OUTPUT_DIR"):
        out = default_output_dir()
    else:
        root = project_root()
        out = root / "data" if root is not None else default_output_dir()
    processed = (Path(processed_dir).expanduser().resolve() if processed_dir is not None
                 else out / "processed")
    return NotebookDirs(out, processed)


def overlay_data_dir(data_dir: str | os.PathLike, target: str | os.PathLike,
                     replace: Mapping[str, bytes | str | Path] | None = None) -> Path:
    """A working data folder: every file of ``data_dir`` linked, some replaced.

    Parameters
    ----------
    data_dir
        The data package (read only; never modified).
    target
        Folder to create (must not exist, or be empty).
    replace
        ``{path inside the package: new content}``; content is bytes, text (``str``), or a
        :class:`~pathlib.Path` of a file to copy. A path not in the package is added.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    src, dst = Path(data_dir).resolve(), Path(target)
    if dst.exists() and any(dst.iterdir()):
        raise FileExistsError(f"{dst} is not empty: choose a new folder for the working copy")
    for path in src.rglob("*"):
        if path.is_file():
            link = dst / path.relative_to(src)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)
    for rel, content in (replace or {}).items():
        path = dst / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            shutil.copyfile(content, path)
    return dst


def seed_cache(from_output: str | os.PathLike, to_output: str | os.PathLike) -> int:
    """Copy a build's reader cache (``<out>/cache``, keyed by input hashes, so always safe to
    reuse) into another output folder, so a scratch build skips slow readers. Returns the
    number of files copied."""
    src, dst = Path(from_output) / "cache", Path(to_output) / "cache"
    if not src.is_dir():
        return 0
    dst.mkdir(parents=True, exist_ok=True)
    n = 0
    for path in src.iterdir():
        if path.is_file() and not (dst / path.name).exists():
            shutil.copyfile(path, dst / path.name)
            n += 1
    return n


SCRATCH_MARKER = ".mapping-scratch"


def scratch_dir(parent: str | os.PathLike, name: str) -> Path:
    """An empty folder ``<parent>/<name>`` for a notebook's scratch work.

    A folder left by an earlier run is removed first, but only if it carries the marker file
    this function writes (never a folder someone else made)."""
    path = Path(parent) / name
    if path.exists():
        if not (path / SCRATCH_MARKER).is_file():
            raise FileExistsError(f"{path} exists and was not made by scratch_dir: not touching "
                                  "it; choose another name")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / SCRATCH_MARKER).write_text(
        "scratch folder made by mapping.analysis.workspace.scratch_dir\n")
    return path
