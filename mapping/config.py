"""Where the project reads raw data and writes what it builds.

Two settings, each an environment variable with a CLI option that overrides it:

``MAPPING_DATA_DIR`` / ``--data-dir``
    The open data package (read only). Default ``../shared/data`` relative to the working
    directory, i.e. the ``shared/`` folder beside a clone of this repository.
``MAPPING_OUTPUT_DIR`` / ``--out-dir``
    Where builds are written. Default ``data`` relative to the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path("../shared/data")
DEFAULT_OUTPUT_DIR = Path("data")
#: the folder under the output directory that holds the current build
PROCESSED = "processed"


class ConfigError(RuntimeError):
    """A setting points somewhere unusable."""


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """Return the data package directory, checking that it exists."""
    raw = override or os.environ.get("MAPPING_DATA_DIR") or DEFAULT_DATA_DIR
    path = Path(raw).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(
            f"data directory {path} does not exist: set MAPPING_DATA_DIR or pass --data-dir "
            "to the folder holding the open data package (its README.md and MANIFEST.json)"
        )
    return path


def output_dir(override: str | os.PathLike | None = None) -> Path:
    """Return the build output directory (created on demand by writers, not here)."""
    raw = override or os.environ.get("MAPPING_OUTPUT_DIR") or DEFAULT_OUTPUT_DIR
    return Path(raw).expanduser().resolve()
