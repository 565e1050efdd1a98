"""Shared fixtures: the real data package, one real build per test session, tiny files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mapping.pipeline.build import PROCESSED, BuildOptions, build

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ.get("MAPPING_DATA_DIR", ROOT.parent / "shared" / "data")).resolve()
    if not (path / "MANIFEST.json").exists():
        pytest.fail(f"the open data package is needed at {path} (set MAPPING_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def build_root(data_dir, tmp_path_factory) -> Path:
    """A real build of the data package into a temporary output folder (once per session)."""
    out = tmp_path_factory.mktemp("build")
    build(BuildOptions(data_dir=data_dir, out_dir=out, progress=False))
    return out


@pytest.fixture(scope="session")
def processed_dir(build_root) -> Path:
    """``<out>/processed`` of the session build (read only: copy it before changing anything)."""
    return build_root / PROCESSED


@pytest.fixture
def data_copy(data_dir, tmp_path) -> Path:
    """A writable stand-in for the data package: symlinks to every real file, so a test can
    replace one file with a broken copy without touching the real package."""
    return make_data_copy(data_dir, tmp_path / "data")


def make_data_copy(data_dir: Path, root: Path) -> Path:
    """A symlink farm of the data package under ``root``."""
    for path in data_dir.rglob("*"):
        if path.is_file():
            target = root / path.relative_to(data_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    return root


@pytest.fixture(scope="module")
def browser():
    """Debian chromium through Playwright, one per test module: a sync Playwright holds the
    thread's event loop, so it must stop before another module runs asyncio code."""
    from tests.app_browser import launch_chromium  # noqa: PLC0415

    with launch_chromium() as b:
        yield b


def replace_file(root: Path, relative: str, content: bytes | str) -> Path:
    """Replace one (symlinked) file of a data copy with new content."""
    path = root / relative
    path.unlink()
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
