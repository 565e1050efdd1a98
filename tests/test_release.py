"""Releases: semantic versions, never overwritten, atomic, described, hashes that verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapping import files as io
from mapping.cli import main
from mapping.outputs import load_outputs
from mapping.pipeline import release as rel
from mapping.pipeline.release import (
    ReleaseError,
    check_version,
    list_releases,
    load_release,
    publish_release,
    verify_release,
    version_key,
)

LSOA = ("lsoa21_code,lsoa21_name,borough_code,population,age_65_plus_pct\n"
        "E01000001,City of London 001A,E09000001,1473,25.1\n"
        "E01000002,City of London 001B,E09000001,1384,20.0\n")


def make_build(root: Path, lsoa: str = LSOA) -> Path:
    """A tiny hand-made build: one table and a manifest recording its hash."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "lsoa21_indicators.csv").write_text(lsoa, encoding="utf-8")
    manifest = {
        "package_version": "0.1.0+gtest",
        "parameters": {"indicator_files": []},
        "inputs": {"census2021_ts007a": {"path": "x.csv", "sha256": "ab" * 32,
                                         "matches_registry": False, "files": {}}},
        "indicators": {"age_65_plus_pct": {"label": "Residents aged 65 and over", "unit": "%",
                                           "direction": "higher_is_worse", "domain": "demography",
                                           "role": "input", "sources": ["census2021_ts007a"]}},
        "row_counts": {"lsoa21": 2},
        "attributions": ["Source: Office for National Statistics (test)."],
        "outputs": {"lsoa21_indicators.csv": io.sha256_file(root / "lsoa21_indicators.csv")},
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


@pytest.fixture
def build_dir(tmp_path) -> Path:
    return make_build(tmp_path / "processed")


def leftovers(releases: Path) -> list[str]:
    return [p.name for p in releases.iterdir() if p.name.startswith(".")] if releases.exists() \
        else []


@pytest.mark.parametrize("version", ["1.2.0", "0.1.0", "10.20.30", "1.0.0-rc.1",
                                     "1.0.0-alpha.beta", "1.0.0+build.5"])
def test_semantic_versions_accepted(version):
    assert check_version(version) == version


@pytest.mark.parametrize("version", ["v1.2.0", "1.2", "01.2.0", "1.2.0.0", "", "latest",
                                     "1.2.0-", "1.2.0/../x"])
def test_bad_versions_rejected(version):
    with pytest.raises(ReleaseError, match="not a semantic version"):
        check_version(version)


def test_leading_v_gets_a_hint():
    with pytest.raises(ReleaseError, match="without the leading 'v'"):
        check_version("v1.2.0")


def test_version_precedence():
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
               "1.0.0-rc.1", "1.0.0", "1.9.0", "1.10.0", "2.0.0"]
    assert sorted(reversed(ordered), key=version_key) == ordered


def test_publish_copies_the_build_byte_for_byte(build_dir, tmp_path):
    releases = tmp_path / "releases"
    path = publish_release("1.0.0", "First release.", build_dir, releases, day="2026-01-02")
    assert path == releases / "v1.0.0"
    for name in ("manifest.json", "lsoa21_indicators.csv"):
        assert (path / "processed" / name).read_bytes() == (build_dir / name).read_bytes()
    assert verify_release(path) == []
    assert load_outputs(path / "processed").manifest["package_version"] == "0.1.0+gtest"
    assert load_release("1.0.0", releases).root == path / "processed"
    assert load_release(path).root == path / "processed"
    record = json.loads((path / "release.json").read_text())
    assert record["version"] == "1.0.0" and record["date"] == "2026-01-02"
    assert record["manifest_sha256"] == io.sha256_file(build_dir / "manifest.json")
    assert record["inputs"] == {"census2021_ts007a": "ab" * 32}
    assert leftovers(releases) == []


def test_refuses_to_overwrite_an_existing_release(build_dir, tmp_path):
    releases = tmp_path / "releases"
    path = publish_release("1.0.0", "First.", build_dir, releases)
    before = {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}
    other = make_build(tmp_path / "other", LSOA.replace("25.1", "30.0"))
    with pytest.raises(ReleaseError, match="already exists.*never overwritten"):
        publish_release("1.0.0", "Second try.", other, releases)
    assert {p: p.read_bytes() for p in path.rglob("*") if p.is_file()} == before
    assert leftovers(releases) == []


def test_refuses_a_damaged_build(build_dir, tmp_path):
    (build_dir / "lsoa21_indicators.csv").write_text(LSOA + "E01000003,x,E09000001,1,1\n")
    releases = tmp_path / "releases"
    with pytest.raises(ReleaseError, match="hash does not match"):
        publish_release("1.0.0", "Damaged.", build_dir, releases)
    assert not (releases / "v1.0.0").exists()
    assert leftovers(releases) == []


def test_needs_notes_and_a_date(build_dir, tmp_path):
    with pytest.raises(ReleaseError, match="notes are empty"):
        publish_release("1.0.0", "  ", build_dir, tmp_path / "r")
    with pytest.raises(ReleaseError, match="not a date"):
        publish_release("1.0.0", "x", build_dir, tmp_path / "r", day="21/11/2026")


def test_a_failure_leaves_nothing_half_written(build_dir, tmp_path, monkeypatch):
    releases = tmp_path / "releases"

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rel, "datapackage", boom)
    with pytest.raises(OSError, match="disk full"):
        publish_release("1.0.0", "x", build_dir, releases)
    assert not (releases / "v1.0.0").exists()
    assert leftovers(releases) == []


def test_descriptor_describes_fields_licences_and_sources(build_dir, tmp_path):
    path = publish_release("1.0.0", "First.", build_dir, tmp_path / "releases")
    desc = json.loads((path / "datapackage.json").read_text())
    assert desc["version"] == "1.0.0" and desc["name"] == "london-digital-exclusion-map"
    by_path = {r["path"]: r for r in desc["resources"]}
    assert set(by_path) == {"processed/manifest.json", "processed/lsoa21_indicators.csv"}
    table = by_path["processed/lsoa21_indicators.csv"]
    assert table["hash"] == "sha256:" + io.sha256_file(build_dir / "lsoa21_indicators.csv")
    assert table["schema"]["primaryKey"] == "lsoa21_code"
    fields = {f["name"]: f for f in table["schema"]["fields"]}
    assert fields["population"]["type"] == "integer"
    assert fields["age_65_plus_pct"]["type"] == "number"
    assert fields["age_65_plus_pct"]["unit"] == "%"
    assert fields["age_65_plus_pct"]["direction"] == "higher_is_worse"
    assert "Census 2021 TS007A" in fields["age_65_plus_pct"]["description"]
    assert all(f["description"] != rel.UNDESCRIBED for f in fields.values())
    assert [lic["name"] for lic in desc["licenses"]] == ["OGL-UK-3.0"]
    (source,) = desc["sources"]
    assert source["id"] == "census2021_ts007a" and "Office for National Statistics" in \
        source["attribution"]


def test_changelog_lists_releases_newest_first_with_changes(build_dir, tmp_path):
    releases = tmp_path / "releases"
    publish_release("1.0.0", "First.", build_dir, releases, day="2026-01-01")
    newer = make_build(tmp_path / "newer", LSOA.replace("25.1", "30.0"))
    publish_release("1.1.0", "Refreshed ages.", newer, releases, day="2026-02-01")
    text = (releases / "CHANGELOG.md").read_text()
    assert text.index("## v1.1.0 — 2026-02-01") < text.index("## v1.0.0 — 2026-01-01")
    assert "Output files since v1.0.0: changed lsoa21_indicators.csv." in text
    assert [r.version for r in list_releases(releases)] == ["1.0.0", "1.1.0"]
    assert "Refreshed ages." in (releases / "v1.1.0" / "RELEASE.md").read_text()


def test_verify_release_notices_an_edited_file(build_dir, tmp_path):
    path = publish_release("1.0.0", "First.", build_dir, tmp_path / "releases")
    target = path / "processed" / "lsoa21_indicators.csv"
    target.chmod(0o644)
    target.write_text(LSOA.replace("25.1", "99.9"))
    problems = verify_release(path)
    assert any("hash does not match" in p for p in problems)


def test_cli_release(build_dir, tmp_path, capsys):
    releases = tmp_path / "releases"
    args = ["release", "--version", "1.0.0", "--notes", "First.", "--from", str(build_dir),
            "--out", str(releases)]
    assert main(args) == 0
    assert "released v1.0.0" in capsys.readouterr().out
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["release", "--version", "1.0", "--notes", "x", "--from", str(build_dir),
                 "--out", str(releases)]) == 2


@pytest.mark.slow
def test_release_of_the_real_build(processed_dir, tmp_path):
    path = publish_release("1.0.0", "Real build.", processed_dir, tmp_path / "releases")
    assert verify_release(path) == []
    outputs = load_release(path)
    assert outputs.manifest["row_counts"]["lsoa21"] == 4994
    desc = json.loads((path / "datapackage.json").read_text())
    undescribed = [(r["path"], f["name"]) for r in desc["resources"]
                   for f in r.get("schema", {}).get("fields", [])
                   if f["description"] == rel.UNDESCRIBED]
    assert undescribed == []
    names = {r["path"] for r in desc["resources"]}
    assert {f"processed/{n}" for n in outputs.manifest["outputs"]} <= names
    assert {"OGL-UK-3.0", "CC-BY-4.0", "ODbL-1.0"} <= {lic["name"] for lic in desc["licenses"]}
