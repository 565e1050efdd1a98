"""The reader cache under ``<out>/cache`` holds data only: a pickle put there is never loaded
(so never run), and a damaged or edited cache file is detected and rebuilt from the source."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mapping import files as mio
from mapping.pipeline.build import Inputs
from mapping.registry import load_registry
from mapping.sources.readers import iod2019_workbook

SHEET = "Population figures"
SOURCE = "iod2019_london_workbook"


class _Payload:
    """Unpickling this touches ``marker``: the stand-in for any code a pickle can run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def fresh(registry, data_dir) -> pd.DataFrame:
    return iod2019_workbook(data_dir / registry.sources[SOURCE].path, SHEET).frame


def inputs(registry, data_dir, cache: Path) -> Inputs:
    return Inputs(registry, data_dir, cache_dir=cache)


def cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("*"))


def test_a_pickle_in_the_cache_is_never_loaded(registry, data_dir, fresh, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    digest = mio.sha256_file(data_dir / registry.sources[SOURCE].path)
    marker = tmp_path / "code-ran"
    evil = pickle.dumps(_Payload(marker))
    # under the name the pickle cache used, and under every name the cache could use now
    (cache / f"iod2019_workbook-{digest[:16]}-{SHEET.replace(' ', '_')}.pkl").write_bytes(evil)
    for name in (f"iod2019_workbook-{digest}-{SHEET.replace(' ', '_')}.npz",
                 f"iod2019_workbook-{digest}-{SHEET.replace(' ', '_')}.pkl"):
        (cache / name).write_bytes(evil)
    frame = inputs(registry, data_dir, cache).workbook_sheet(SHEET)
    assert not marker.exists(), "the cache ran code"
    pd.testing.assert_frame_equal(frame, fresh)
    written = [p for p in cache_files(cache) if p.read_bytes() != evil]
    assert len(written) == 1 and written[0].suffix == ".npz"
    with np.load(written[0], allow_pickle=False) as npz:  # data only: loads without pickle
        header = json.loads(str(npz["header"][()]))
    assert header["input_sha256"] == digest and header["part"] == SHEET
    # and a second read comes from the cache, equal to the source
    pd.testing.assert_frame_equal(inputs(registry, data_dir, cache).workbook_sheet(SHEET), fresh)
    assert not marker.exists()


def _rewrite(path: Path, change) -> None:
    """Rewrite the npz at ``path`` with ``change(arrays)`` applied (header kept as it was)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def _edit_a_value(arrays):
    for key in sorted(arrays):
        if key != "header" and arrays[key].dtype.kind in "if":
            arrays[key] = arrays[key].copy()
            arrays[key][0] += 1
            return
    raise AssertionError("no numeric column")


def _objects(arrays):
    arrays["c0"] = np.array([{"not": "data"}] * len(arrays["c0"]), dtype=object)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


def _flip_a_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", [
    _truncate,
    _flip_a_byte,
    lambda p: p.write_bytes(b"not a cache"),
    lambda p: _rewrite(p, _edit_a_value),  # an edited value, the recorded content hash kept
    lambda p: _rewrite(p, _objects),  # an object array (would need pickle to load)
    lambda p: _rewrite(p, lambda a: a.pop("c1")),  # a column missing
], ids=["truncated", "flipped-byte", "garbage", "edited-value", "object-array", "no-column"])
def test_a_damaged_or_edited_cache_is_rebuilt(registry, data_dir, fresh, tmp_path, damage):
    from mapping.sources.cache import load_table  # noqa: PLC0415

    cache = tmp_path / "cache"
    inputs(registry, data_dir, cache).workbook_sheet(SHEET)
    (path,) = cache_files(cache)
    good = path.read_bytes()
    damage(path)
    assert path.read_bytes() != good
    frame = inputs(registry, data_dir, cache).workbook_sheet(SHEET)
    pd.testing.assert_frame_equal(frame, fresh)
    assert cache_files(cache) == [path] and zipfile.is_zipfile(path)  # rebuilt in place
    digest = mio.sha256_file(data_dir / registry.sources[SOURCE].path)
    pd.testing.assert_frame_equal(load_table(path, digest, SHEET), fresh)
