"""Versioned releases of a build: ``data/releases/vX.Y.Z/``, never overwritten or deleted.

A release is a verified, byte-for-byte copy of a build (``<out>/processed``) with what a reader
needs to use and cite it::

    data/releases/
      CHANGELOG.md             every release, newest first (regenerated from the releases)
      v1.2.0/
        processed/             the build: manifest.json (input + output hashes) and every output
        extras/                optional analyst files (e.g. an index variant and its spec)
        datapackage.json       Frictionless data package descriptor: resources with field
                               descriptions from the registry, sha256 hashes, licences, sources
                               with attributions
        release.json           version, date, notes, manifest hash, changes since the release
                               before it
        RELEASE.md             the change-log entry of this release

Path convention: a release's ``processed/`` folder is an ordinary build folder, so everything
that reads a build reads a release: ``load_outputs("data/releases/v1.2.0/processed")`` (or
:func:`load_release`), ``mapping serve --out-dir data/releases/v1.2.0`` and
``MAPPING_PROCESSED_DIR=data/releases/v1.2.0/processed``.

Publishing is atomic: everything is written into a hidden staging folder beside the releases and
renamed into place in one step, so a failure leaves no half-written release. An existing release
is never replaced, and nothing here deletes a release.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from mapping.config import output_dir
from mapping.errors import DataValidationError, MappingError
from mapping.files import sha256_bytes, sha256_file, write_json, write_text
from mapping.outputs import Outputs, load_outputs, processed_dir
from mapping.outputs.catalogue import MANIFEST, UNDESCRIBED  # noqa: F401 (UNDESCRIBED: API)
from mapping.pipeline.datapackage import (  # noqa: F401 (describe_column: part of this API)
    PACKAGE_NAME,
    datapackage,
    describe_column,
)
from mapping.pipeline.locking import out_dir_lock
from mapping.pipeline.staging import staged
from mapping.registry import Registry, load_registry

RELEASES = "releases"
PROCESSED = "processed"
EXTRAS = "extras"
CHANGELOG = "CHANGELOG.md"
DESCRIPTOR = "datapackage.json"
RELEASE_JSON = "release.json"
RELEASE_MD = "RELEASE.md"

# Semantic Versioning 2.0.0 (https://semver.org), the regular expression it recommends.
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_EXTRA_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")

class ReleaseError(MappingError):
    """A release cannot be made, found or read (bad version, exists already, damaged build)."""


# ---- versions ---------------------------------------------------------------------------------

def check_version(version: str) -> str:
    """Return ``version`` if it is a semantic version ``X.Y.Z`` (optionally ``-pre``/``+build``).

    Raises
    ------
    ReleaseError
        With an example of the expected form.
    """
    text = str(version).strip()
    if not SEMVER_RE.match(text):
        hint = " (without the leading 'v')" if text[:1] in "vV" and SEMVER_RE.match(text[1:]) \
            else ""
        raise ReleaseError(f"release version {version!r} is not a semantic version: give "
                           f"MAJOR.MINOR.PATCH such as 1.2.0{hint}")
    return text


def version_key(version: str) -> tuple:
    """Sort key that orders versions by semantic-version precedence."""
    m = SEMVER_RE.match(check_version(version))
    assert m is not None
    major, minor, patch, pre = int(m[1]), int(m[2]), int(m[3]), m[4]
    if pre is None:
        return (major, minor, patch, 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (major, minor, patch, 0, ids)


def releases_dir(override: str | os.PathLike | None = None) -> Path:
    """``<output dir>/releases`` unless a folder is given."""
    return Path(override).expanduser().resolve() if override else output_dir() / RELEASES


def release_path(version: str, releases: str | os.PathLike | None = None) -> Path:
    return releases_dir(releases) / f"v{check_version(version)}"


# ---- reading releases -------------------------------------------------------------------------

@dataclass(frozen=True)
class ReleaseInfo:
    version: str
    date: str
    notes: str
    path: Path
    record: dict

    @property
    def processed(self) -> Path:
        return self.path / PROCESSED


def list_releases(releases: str | os.PathLike | None = None) -> list[ReleaseInfo]:
    """Every release under ``releases``, oldest first (semantic-version order)."""
    root = releases_dir(releases)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        record_path = child / RELEASE_JSON
        if not child.is_dir() or child.name.startswith(".") or not record_path.is_file():
            continue
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            version = check_version(record["version"])
        except (json.JSONDecodeError, KeyError, ReleaseError) as exc:
            raise ReleaseError(f"{record_path} is not a valid release record: {exc}") from None
        found.append(ReleaseInfo(version, str(record.get("date", "")),
                                 str(record.get("notes", "")), child, record))
    return sorted(found, key=lambda r: version_key(r.version))


def load_release(release: str | os.PathLike, releases: str | os.PathLike | None = None,
                 verify: bool = True) -> Outputs:
    """Open a release's build, its hashes checked: ``release`` is a version (``"1.2.0"``) or a
    release folder (``data/releases/v1.2.0``)."""
    path = Path(release)
    if not path.is_dir():
        path = release_path(str(release).lstrip("v"), releases)
    if not (path / PROCESSED / "manifest.json").is_file():
        raise ReleaseError(f"no release in {path} (expected {PROCESSED}/manifest.json)")
    return load_outputs(path / PROCESSED, verify=verify)


# ---- publishing -------------------------------------------------------------------------------

def _today() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d")
    return datetime.now(UTC).strftime("%Y-%m-%d")


def compare_manifests(old: dict, new: dict) -> dict:
    """What changed between two builds' manifests (inputs, indicators, outputs, code)."""
    def diff(a: dict, b: dict, key=lambda v: v) -> dict:
        return {
            "added": sorted(set(b) - set(a)),
            "removed": sorted(set(a) - set(b)),
            "changed": sorted(k for k in set(a) & set(b) if key(a[k]) != key(b[k])),
        }
    return {
        "inputs": diff(old.get("inputs", {}), new.get("inputs", {}),
                       key=lambda v: v.get("sha256") if isinstance(v, dict) else v),
        "indicators": diff(old.get("indicators", {}), new.get("indicators", {})),
        "outputs": diff(old.get("outputs", {}), new.get("outputs", {})),
        "package_version": [old.get("package_version"), new.get("package_version")],
    }


def _change_lines(changes: dict, previous: str) -> list[str]:
    lines = []
    for part, label in (("inputs", "source files"), ("indicators", "indicators"),
                        ("outputs", "output files")):
        bits = [f"{kind} {', '.join(items)}" for kind, items in changes[part].items() if items]
        lines.append(f"- {label.capitalize()} since v{previous}: "
                     + ("; ".join(bits) if bits else "unchanged") + ".")
    old_code, new_code = changes["package_version"]
    if old_code != new_code:
        lines.append(f"- Code: {old_code} → {new_code}.")
    return lines


def release_entry(record: dict) -> str:
    """The Markdown change-log entry of one release record."""
    lines = [f"## v{record['version']} — {record['date']}", "", record["notes"].strip(), ""]
    counts = record.get("row_counts", {})
    if counts:
        lines.append("- Areas: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + ".")
    lines.append(f"- Build: code {record.get('package_version', 'unknown')}; manifest sha256 "
                 f"`{record['manifest_sha256']}`.")
    if record.get("previous"):
        lines += _change_lines(record["changes"], record["previous"])
    else:
        lines.append("- First release.")
    if record.get("extras"):
        lines.append("- Extra files: " + ", ".join(sorted(record["extras"])) + ".")
    return "\n".join(lines).rstrip() + "\n"


def changelog(releases: str | os.PathLike | None = None) -> str:
    """The cumulative change log: every release's entry, newest first."""
    entries = [release_entry(r.record) for r in reversed(list_releases(releases))]
    head = ("# Releases of the London digital exclusion map\n\n"
            "Each release is a folder `vX.Y.Z/` beside this file, never overwritten. Its "
            "`processed/` folder is a build (open it with `mapping.outputs.load_outputs` or "
            "serve it with `mapping serve --out-dir <release folder>`); `datapackage.json` "
            "describes every file, its licence and sources.\n")
    return head + "".join(f"\n{e}" for e in entries)


def _check_extra_name(name: str) -> str:
    if not _EXTRA_NAME_RE.match(name) or any(p in (".", "..") for p in name.split("/")):
        raise ReleaseError(f"extra file name {name!r} must be a relative path of letters, "
                           "digits, '.', '_' and '-' (no '..')")
    return name


def publish_release(
    version: str,
    notes: str,
    processed: str | os.PathLike | None = None,
    releases: str | os.PathLike | None = None,
    *,
    extras: Mapping[str, bytes] | None = None,
    day: str | date | None = None,
    registry: Registry | None = None,
    lock_wait_s: float = 0.0,
) -> Path:
    """Publish the build in ``processed`` as release ``version`` under ``releases``.

    Holds the lock (:mod:`mapping.pipeline.locking`) of the output folder holding ``releases``
    and of the one holding the build, so that no build replaces the build while it is copied and no
    other release writes beside it.

    Parameters
    ----------
    version
        Semantic version ``X.Y.Z`` (no leading ``v``); the folder is ``v<version>``.
    notes
        What changed and why, for the change log (required).
    processed
        The build to publish (default ``<output dir>/processed``); its hashes must verify.
    releases
        The releases folder (default ``<output dir>/releases``).
    extras
        Optional analyst files (relative name -> bytes) published under ``extras/``.
    day
        Release date (default: ``SOURCE_DATE_EPOCH``, else today in UTC).
    registry
        Registry used for field descriptions (default: the package registry plus the extra
        indicator files the build recorded, where they still exist).
    lock_wait_s
        How long to wait for a build or release holding one of those locks (default 0: fail at
        once, naming it).

    Returns
    -------
    pathlib.Path
        The release folder.

    Raises
    ------
    ReleaseError
        Bad version, empty notes, a release of that version exists, or the build is damaged.
    """
    version = check_version(version)
    if not str(notes or "").strip():
        raise ReleaseError("release notes are empty: say what changed and why (--notes)")
    root = releases_dir(releases)
    source = processed_dir(processed)
    folders = {root.parent}
    if source.parent.is_dir() and not source.parent.is_relative_to(root):  # (a release is
        folders.add(source.parent)  # never written to, nor needs a lock to be read)
    with contextlib.ExitStack() as held:
        for folder in sorted(folders):  # always in the same order: no deadlock
            held.enter_context(out_dir_lock(folder, lock_wait_s, what="release from"
                                            if folder == source.parent else "release into"))
        return _publish_release(version, notes, processed, root, extras=extras, day=day,
                                registry=registry)


def _publish_release(version: str, notes: str, processed, root: Path, *, extras, day,
                     registry) -> Path:
    try:
        build = load_outputs(processed, verify=True)
    except MappingError as exc:
        raise ReleaseError(f"cannot release this build: {exc}") from None
    final = root / f"v{version}"
    if final.exists():
        raise ReleaseError(f"release v{version} already exists at {final}; releases are never "
                           "overwritten: choose a new version")
    extras = {_check_extra_name(k): bytes(v) for k, v in (extras or {}).items()}
    if registry is None:
        registry = _registry_for(build.manifest)
    if isinstance(day, date):
        day = day.isoformat()
    elif day:
        try:
            day = date.fromisoformat(str(day)).isoformat()
        except ValueError:
            raise ReleaseError(f"release date {day!r} is not a date YYYY-MM-DD") from None
    else:
        day = _today()
    earlier = [r for r in list_releases(root) if version_key(r.version) < version_key(version)]
    previous = earlier[-1] if earlier else None

    try:
        with staged(final, replace=False) as staging:
            _write_release(staging, build, version, notes, day, previous, extras, registry)
    except FileExistsError:  # published by someone else meanwhile
        raise ReleaseError(f"release v{version} already exists at {final}; releases are never "
                           "overwritten: choose a new version") from None
    write_text(root / CHANGELOG, changelog(root))
    os.chmod(root / CHANGELOG, 0o644)
    return final


def _write_release(staging: Path, build: Outputs, version: str, notes: str, day: str,
                   previous: ReleaseInfo | None, extras: Mapping[str, bytes],
                   registry: Registry) -> None:
    """Write a release into ``staging``: a byte-for-byte copy of the build (hashes checked),
    the extra files, the data package descriptor, the release record and its change-log entry;
    everything read-only."""
    meta = build.meta
    (staging / PROCESSED).mkdir()
    for name in [MANIFEST, *sorted(meta.outputs)]:
        data = (build.root / name).read_bytes()
        expected = meta.outputs.get(name)
        if expected is not None and sha256_bytes(data) != expected:
            raise ReleaseError(f"{build.root / name} changed while it was being copied")
        (staging / PROCESSED / name).write_bytes(data)
    for name, data in extras.items():
        target = staging / EXTRAS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    record = {
        "version": version,
        "date": day,
        "notes": str(notes).strip(),
        "package_version": meta.package_version,
        "manifest_sha256": sha256_file(staging / PROCESSED / MANIFEST),
        "row_counts": meta.row_counts,
        "outputs": meta.outputs,
        "inputs": {sid: v.sha256 for sid, v in meta.inputs.items()},
        "extras": {name: sha256_bytes(data) for name, data in sorted(extras.items())},
        "previous": previous.version if previous else None,
        "changes": (compare_manifests(_manifest_of(previous), build.manifest)
                    if previous else None),
    }
    descriptor = datapackage(staging, version, record["notes"], day, build.manifest,
                             registry, sorted(extras))
    write_json(staging / DESCRIPTOR, descriptor)
    write_json(staging / RELEASE_JSON, record)
    write_text(staging / RELEASE_MD, release_entry(record))
    for path in staging.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o444)
    os.chmod(staging, 0o755)


def _manifest_of(info: ReleaseInfo) -> dict:
    return json.loads((info.processed / "manifest.json").read_text(encoding="utf-8"))


def _registry_for(manifest: dict) -> Registry:
    files = [Path(p) for p in manifest.get("parameters", {}).get("indicator_files", [])]
    try:
        return load_registry([p for p in files if p.is_file()])
    except DataValidationError:
        return load_registry()


def verify_release(path: str | os.PathLike) -> list[str]:
    """Check every file of a release against its descriptor and manifest; return problems."""
    path = Path(path)
    problems = []
    try:
        load_outputs(path / PROCESSED, verify=True)
    except MappingError as exc:
        problems.append(str(exc))
    try:
        descriptor = json.loads((path / DESCRIPTOR).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [*problems, f"{path / DESCRIPTOR}: {exc}"]
    for res in descriptor.get("resources", []):
        file = path / res["path"]
        if not file.is_file():
            problems.append(f"{res['path']}: missing")
        elif f"sha256:{sha256_file(file)}" != res.get("hash"):
            problems.append(f"{res['path']}: hash does not match datapackage.json")
    return problems
