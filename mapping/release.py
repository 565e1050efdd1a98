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
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from mapping import io
from mapping.config import output_dir
from mapping.errors import DataValidationError, MappingError
from mapping.locking import out_dir_lock
from mapping.outputs import Outputs, load_outputs, processed_dir
from mapping.registry import Registry, load_registry

RELEASES = "releases"
PROCESSED = "processed"
EXTRAS = "extras"
CHANGELOG = "CHANGELOG.md"
DESCRIPTOR = "datapackage.json"
RELEASE_JSON = "release.json"
RELEASE_MD = "RELEASE.md"
PACKAGE_NAME = "london-digital-exclusion-map"

# Semantic Versioning 2.0.0 (https://semver.org), the regular expression it recommends.
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_EXTRA_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")

LICENCES = {
    "OGL-UK-3.0": ("Open Government Licence v3.0",
                   "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"),
    "CC-BY-4.0": ("Creative Commons Attribution 4.0",
                  "https://creativecommons.org/licenses/by/4.0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License 1.0",
                 "https://opendatacommons.org/licenses/odbl/1-0/"),
}

# Descriptions of the columns the build writes that are not indicators (indicator columns take
# their label, unit, direction and description from the registry).
COLUMN_DESCRIPTIONS = {
    "lsoa21_code": "ONS code of the Lower layer Super Output Area (2021 boundaries)",
    "lsoa21_name": "ONS name of the LSOA (2021)",
    "msoa21_code": "ONS code of the Middle layer Super Output Area (2021) containing the LSOA",
    "ward24_code": "ONS code of the electoral ward (2024 boundaries)",
    "ward24_name": "Name of the electoral ward (2024)",
    "borough_code": "ONS code of the London borough (local authority district)",
    "borough_name": "Name of the London borough",
    "population": "Usual residents, Census 2021 (persons)",
    "n_lsoa": "Number of LSOAs (2021) in the area",
    "name": "Name of the library",
    "source": "Where the record comes from",
    "index_score": "Digital exclusion risk index score (higher = more at risk); for wards and "
                   "boroughs the population-weighted mean of LSOA scores",
    "index_rank": "Rank of the index score in the reference frame (1 = most at risk)",
    "index_decile": "Decile of the index rank (1 = the 10 % of areas most at risk)",
    "index_quintile": "Quintile of the index rank (1 = the 20 % of areas most at risk)",
    "imputed_indicators": "Indicators whose missing value was imputed here (;-separated codes)",
    "nominal_rank": "Index rank with the default specification (1 = most at risk)",
    "median_rank": "Median index rank over the Monte Carlo draws",
    "rank_p05": "5th percentile of the index rank over the Monte Carlo draws",
    "rank_p95": "95th percentile of the index rank over the Monte Carlo draws",
    "interval_width": "Width of the 5-95 % rank interval (ranks)",
    "unstable": "True where the 5-95 % rank interval is wider than the registered share of "
                "all areas (an unstable ranking)",
    "n_units": "Number of LSOAs (2021) in the area",
    "share_top10": "Share of residents living in the frame's 10 % most at-risk LSOAs (0-1)",
    "share_top20": "Share of residents living in the frame's 20 % most at-risk LSOAs (0-1)",
    "n_units_top10": "Number of the area's LSOAs in the frame's 10 % most at risk",
    "n_units_top20": "Number of the area's LSOAs in the frame's 20 % most at risk",
    "reference": "Validation reference (an indicator code with role 'validation')",
    "n": "Number of areas with both values",
    "measure": "What is validated: an index score column, a domain score column, an indicator "
               "code or a comparator (validation.csv)",
    "kind": "Kind of measure: index, domain, indicator or comparator",
    "scope": "Where the correlation is computed: london, or a borough code",
    "spearman_rho": "Spearman rank correlation of the index with the reference (-1 to 1)",
    "p_value": "Two-sided p-value of the Spearman correlation",
    "factor": "Choice varied in the Monte Carlo analysis",
    "levels": "Number of levels of the factor",
    "first_order": "First-order sensitivity: share of rank variance explained by the factor (0-1)",
    "draw": "Monte Carlo draw number",
    "normalisation": "Normalisation used in the draw",
    "aggregation": "Aggregation used in the draw",
    "excluded_indicator": "Indicator left out in the draw ('none' if none)",
    "mean_abs_rank_shift": "Mean absolute change of rank from the default index (ranks)",
    "max_abs_rank_shift": "Largest absolute change of rank from the default index (ranks)",
    "decile_changed_share": "Share of areas whose decile changes (0-1)",
    "indicator": "Indicator code (see the registry)",
    "spearman": "Spearman correlation of the index without the indicator with the default index",
    "domain": "Domain code",
    "n_indicators": "Number of indicators in the domain",
    "alpha": "Standardised Cronbach's alpha of the domain's indicators",
    "mean_inter_item_correlation": "Mean correlation between the domain's indicators",
    "direction": "higher_is_worse or higher_is_better",
    "weight_in_domain": "Weight of the indicator within its domain (sums to 1 per domain)",
    "domain_weight": "Weight of the domain in the index (sums to 1)",
    "effective_weight": "Share of the whole index carried by the indicator (sums to 1)",
    "spec_version": "Version of the index specification",
    "spec_sha256": "SHA-256 digest of the index specification",
    "skew_before": "Skewness before outlier treatment",
    "kurtosis_before": "Kurtosis before outlier treatment",
    "failed": "True if winsorising did not bring skew and kurtosis within the thresholds",
    "action": "Outlier treatment applied",
    "points_winsorised": "Number of values winsorised",
    "skew_after": "Skewness after outlier treatment",
    "kurtosis_after": "Kurtosis after outlier treatment",
    "index_percentile": "Percentile rank of the index (0-100, higher = more at risk)",
    "reference_percentile": "Percentile rank of the reference (0-100, higher = more at risk)",
    "difference": "Index percentile minus reference percentile",
}
UNDESCRIBED = "(no description registered)"


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


# ---- the descriptor -----------------------------------------------------------------------------

def _resource_name(path: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", path.lower()).strip("-")


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "string"


def _indicator_field(code: str, registry: Registry | None, manifest: dict) -> dict | None:
    meta = manifest.get("indicators", {}).get(code)
    ind = None
    if registry is not None:
        try:
            ind = registry.indicator(code)
        except KeyError:
            ind = None
    if ind is None and meta is None:
        return None
    if ind is not None:
        text = f"{ind.label}. {ind.description}"
        out = {"title": ind.label, "description": text, "unit": ind.unit,
               "direction": ind.direction, "domain": ind.domain, "vintage": ind.vintage,
               "role": ind.role, "sources": list(ind.sources), "decision": ind.decision}
    else:
        out = {"title": meta["label"], "description": meta["label"], "unit": meta.get("unit", ""),
               "direction": meta.get("direction", ""), "domain": meta.get("domain", ""),
               "role": meta.get("role", ""), "sources": list(meta.get("sources", []))}
    return out


def describe_column(column: str, registry: Registry | None, manifest: dict,
                    table: str = "") -> dict:
    """Title/description (and, for indicators, unit, direction, domain, sources) of a column."""
    if table.startswith("indicator_correlations") and column != "indicator":
        return {"description": f"Spearman correlation of each indicator with {column} "
                               "(direction-aligned, normalised values)"}
    found = _indicator_field(column, registry, manifest)
    if found is not None:
        return found
    if column in COLUMN_DESCRIPTIONS:
        return {"description": COLUMN_DESCRIPTIONS[column]}
    if column.endswith("_score"):
        domain = column[: -len("_score")]
        return {"description": f"Score of the {domain} domain (higher = more at risk); for "
                               "wards and boroughs the population-weighted mean of LSOA scores"}
    if column.endswith("_suppressed"):
        code = column[: -len("_suppressed")]
        return {"description": f"True where {code} is suppressed by the small-count disclosure "
                               "rule (DR-0004); the value is then empty"}
    if column.startswith("weight_"):
        return {"description": f"Weight of the {column[len('weight_'):]} domain in the draw"}
    return {"description": UNDESCRIBED}


def _csv_schema(path: Path, registry: Registry | None, manifest: dict) -> dict:
    frame = pd.read_csv(path, low_memory=False)
    fields = []
    for col in frame.columns:
        field = {"name": str(col), "type": _field_type(frame[col])}
        field.update(describe_column(str(col), registry, manifest, path.stem))
        fields.append(field)
    schema: dict = {"fields": fields}
    for key in ("lsoa21_code", "ward24_code", "borough_code"):
        if key in frame.columns and frame[key].is_unique:
            schema["primaryKey"] = key
            break
    return schema


def _resource(root: Path, rel: str, registry: Registry | None, manifest: dict,
              description: str) -> dict:
    path = root / rel
    res = {"name": _resource_name(rel), "path": rel, "bytes": path.stat().st_size,
           "hash": f"sha256:{io.sha256_file(path)}", "description": description}
    suffix = path.suffix.lower()
    if suffix == ".csv":
        res.update(profile="tabular-data-resource", format="csv", mediatype="text/csv",
                   encoding="utf-8", schema=_csv_schema(path, registry, manifest))
    elif suffix == ".geojson":
        res.update(format="geojson", mediatype="application/geo+json", encoding="utf-8")
    elif suffix == ".json":
        res.update(format="json", mediatype="application/json", encoding="utf-8")
    elif suffix in (".md", ".toml", ".txt"):
        res.update(format=suffix[1:], mediatype="text/plain", encoding="utf-8")
    return res


def _describe_output(name: str) -> str:
    known = {
        "lsoa21_indicators.csv": "One row per London LSOA (2021): codes, ward, borough, "
                                 "population and every registered indicator",
        "ward24_indicators.csv": "The indicators rolled up to wards (2024), population-weighted",
        "borough_indicators.csv": "The 33 boroughs: rolled-up indicators and borough-only "
                                  "indicators",
        "lsoa21.geojson": "LSOA 2021 boundaries, WGS84, coverage-simplified (web geometry)",
        "ward24.geojson": "Ward 2024 boundaries, WGS84, dissolved from the LSOA web geometry",
        "borough.geojson": "Borough boundaries, WGS84, dissolved from the LSOA web geometry",
        "libraries.geojson": "Public libraries in London (DCMS 2016 list and OpenStreetMap)",
        "manifest.json": "The build's manifest: input and output hashes, parameters, code version",
    }
    if name in known:
        return known[name]
    return f"Build output {name} (the composite index and its robustness and validation results)"


def sources_of(manifest: dict, registry: Registry) -> list[str]:
    """Ids of the sources the build read (its recorded inputs), in registry order."""
    read = manifest.get("inputs", {})
    return [sid for sid in registry.sources if sid in read]


def datapackage(root: Path, version: str, notes: str, day: str, manifest: dict,
                registry: Registry | None, extras: list[str] = ()) -> dict:
    """The Frictionless data package descriptor of a release folder ``root``."""
    names = ["manifest.json", *sorted(manifest.get("outputs", {}))]
    resources = [_resource(root, f"{PROCESSED}/{n}", registry, manifest, _describe_output(n))
                 for n in names]
    resources += [_resource(root, f"{EXTRAS}/{n}", registry, manifest,
                            "Analyst file published with the release") for n in extras]
    sources, licences = [], {}
    if registry is not None:
        for sid in sources_of(manifest, registry):
            src = registry.sources[sid]
            sources.append({"title": src.title, "path": src.url, "publisher": src.publisher,
                            "licence": src.licence, "attribution": src.attribution,
                            "release_date": src.release_date, "id": sid,
                            "sha256": manifest["inputs"][sid].get("sha256", "")})
            licences.setdefault(src.licence, None)
    lic = []
    for name in licences:
        title, url = LICENCES.get(name, (name, ""))
        entry = {"name": name, "title": title}
        if url:
            entry["path"] = url
        lic.append(entry)
    return {
        "profile": "data-package",
        "name": PACKAGE_NAME,
        "title": "London digital exclusion map",
        "description": "Small-area (LSOA 2021), ward and borough indicators of the risk of "
                       "digital exclusion in London and the composite index built from them. "
                       f"Release notes: {notes}",
        "version": version,
        "created": day,
        "homepage": "",
        "keywords": ["digital exclusion", "London", "LSOA", "composite indicator"],
        "licenses": lic,
        "sources": sources,
        "attributions": manifest.get("attributions", []),
        "package_version": manifest.get("package_version", ""),
        "resources": resources,
    }


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

    Holds the lock (:mod:`mapping.locking`) of the output folder holding ``releases`` and of
    the one holding the build, so that no build replaces the build while it is copied and no
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

    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".v{version}.staging-", dir=root))
    try:
        (staging / PROCESSED).mkdir()
        names = ["manifest.json", *sorted(build.manifest.get("outputs", {}))]
        for name in names:
            data = (build.root / name).read_bytes()
            expected = build.manifest.get("outputs", {}).get(name)
            if expected is not None and io.sha256_bytes(data) != expected:
                raise ReleaseError(f"{build.root / name} changed while it was being copied")
            (staging / PROCESSED / name).write_bytes(data)
        for name, data in extras.items():
            target = staging / EXTRAS / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        manifest_sha = io.sha256_file(staging / PROCESSED / "manifest.json")
        record = {
            "version": version,
            "date": day,
            "notes": str(notes).strip(),
            "package_version": build.manifest.get("package_version", ""),
            "manifest_sha256": manifest_sha,
            "row_counts": build.manifest.get("row_counts", {}),
            "outputs": build.manifest.get("outputs", {}),
            "inputs": {sid: v.get("sha256") for sid, v in build.manifest.get("inputs", {}).items()},
            "extras": {name: io.sha256_bytes(data) for name, data in sorted(extras.items())},
            "previous": previous.version if previous else None,
            "changes": (compare_manifests(_manifest_of(previous), build.manifest)
                        if previous else None),
        }
        descriptor = datapackage(staging, version, record["notes"], day, build.manifest,
                                 registry, sorted(extras))
        io.write_json(staging / DESCRIPTOR, descriptor)
        io.write_json(staging / RELEASE_JSON, record)
        io.write_text(staging / RELEASE_MD, release_entry(record))
        for path in staging.rglob("*"):
            os.chmod(path, 0o755 if path.is_dir() else 0o444)
        os.chmod(staging, 0o755)
        if final.exists():  # published by someone else meanwhile
            raise ReleaseError(f"release v{version} already exists at {final}; releases are "
                               "never overwritten: choose a new version")
        os.rename(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    io.write_text(root / CHANGELOG, changelog(root))
    os.chmod(root / CHANGELOG, 0o644)
    return final


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
        elif f"sha256:{io.sha256_file(file)}" != res.get("hash"):
            problems.append(f"{res['path']}: hash does not match datapackage.json")
    return problems
