"""A data-only cache of parsed tables, keyed by the hash of the file they were read from.

Parsing the IoD 2019 London workbook takes seconds, so the build keeps each sheet it reads under
``<out>/cache/``. The cache holds *data only*: a NumPy ``.npz`` archive of one plain array per
column (numbers, booleans or fixed-width text) and a JSON header, loaded with
``allow_pickle=False``. Nothing in it is ever executed, unlike a pickle, which runs code on load
(anyone able to write ``data/`` could otherwise run code as the next user who builds).

A cache file is used only when its header names the same input hash, sheet, format and columns,
and the SHA-256 of its arrays matches the one recorded in it; anything else (a truncated,
edited, corrupt or foreign file) is ignored and rebuilt from the source. The content hash guards
against damage, not against a writer who recomputes it: such a writer could edit the build's
outputs as well, and what they can put in the cache is still only data.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from mapping import files as atomic

FORMAT = "mapping-table-cache/1"
_KINDS = {"b": "bool", "i": "int64", "f": "float64"}


def cache_path(folder: Path, name: str, input_sha256: str, part: str = "") -> Path:
    """``<folder>/<name>-<full input sha256>[-<part>].npz``."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in part)
    return folder / (f"{name}-{input_sha256}" + (f"-{safe}" if safe else "") + ".npz")


def _columns(frame: pd.DataFrame) -> list[tuple[str, np.ndarray]] | None:
    """Each column as a plain array, or None when the frame holds something else (then it is
    simply not cached)."""
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 \
            or frame.index.step != 1 or not frame.columns.is_unique:
        return None
    out = []
    for name in frame.columns:
        if not isinstance(name, str):
            return None
        col = frame[name]
        kind = col.dtype.kind
        if kind in _KINDS:
            out.append((_KINDS[kind], col.to_numpy(dtype=_KINDS[kind])))
        elif kind == "O" and all(type(v) is str and not v.endswith("\0") for v in col):
            out.append(("str", col.to_numpy(dtype=str)))
        else:
            return None
    return out


def _digest(header: dict, arrays: list[np.ndarray]) -> str:
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode("utf-8"))
    for arr in arrays:
        h.update(str(arr.dtype).encode("ascii"))
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def save_table(path: Path, frame: pd.DataFrame, input_sha256: str, part: str = "") -> bool:
    """Write ``frame`` to ``path`` (atomically); False (nothing written) if it holds anything
    but numbers, booleans and text columns."""
    cols = _columns(frame)
    if cols is None:
        return False
    header = {"format": FORMAT, "input_sha256": input_sha256, "part": part,
              "rows": len(frame), "columns": [str(c) for c in frame.columns],
              "kinds": [kind for kind, _ in cols]}
    arrays = [arr for _, arr in cols]
    header["content_sha256"] = _digest(header, arrays)
    buffer = io.BytesIO()
    np.savez(buffer, header=np.array(json.dumps(header, sort_keys=True)),
             **{f"c{i}": arr for i, arr in enumerate(arrays)})
    atomic.write_bytes(path, buffer.getvalue())
    return True


def load_table(path: Path, input_sha256: str, part: str = "") -> pd.DataFrame | None:
    """The cached frame, or None when ``path`` is missing or is not a valid cache of that
    input (see the module docstring): the caller then reads the source and saves it again."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            header = json.loads(str(npz["header"][()]))
            expected = {"format": FORMAT, "input_sha256": input_sha256, "part": part}
            if any(header.get(k) != v for k, v in expected.items()):
                return None
            names, kinds, rows = header["columns"], header["kinds"], int(header["rows"])
            if len(names) != len(kinds) or set(npz.files) != {"header"} | {
                    f"c{i}" for i in range(len(names))}:
                return None
            arrays = [npz[f"c{i}"] for i in range(len(names))]
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # damaged, truncated, not an npz, or holding objects (refused: no pickle)
    for kind, arr in zip(kinds, arrays, strict=True):
        ok = arr.shape == (rows,) and (arr.dtype.kind == "U" if kind == "str"
                                       else str(arr.dtype) == kind)
        if not ok:
            return None
    stored = header.pop("content_sha256", None)
    if stored != _digest(header, arrays):
        return None
    data = {name: (arr.astype(object) if kind == "str" else arr)
            for name, kind, arr in zip(names, kinds, arrays, strict=True)}
    return pd.DataFrame(data, index=pd.RangeIndex(rows), columns=names)
