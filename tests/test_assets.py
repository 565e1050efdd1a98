"""The map data asset of a build: made once, named by its content, refused when it belongs
to another build, and cleaned up when the build changes."""

from __future__ import annotations

import json
import shutil

import pytest

from mapping.app.assets import AssetsError, asset_dir, ensure_assets, index_name, read_assets


def test_made_once_then_only_checked(processed_dir):
    first = ensure_assets(processed_dir)
    path = asset_dir(processed_dir) / first.map_file
    stamp = path.stat().st_mtime_ns
    again = ensure_assets(processed_dir)
    assert again == first and path.stat().st_mtime_ns == stamp
    assert first.map_url.startswith("map-assets/map-") and "?v=" in first.map_url
    digest = first.map_file.removeprefix("map-").removesuffix(".js")
    assert first.map_url.endswith(f"?v={digest}")


def test_missing_or_other_build_is_refused_by_name(processed_dir, tmp_path):
    other = tmp_path / "processed"
    other.mkdir()
    shutil.copy(processed_dir / "manifest.json", other / "manifest.json")
    with pytest.raises(AssetsError, match="missing or unreadable"):
        read_assets(other)
    ensure_assets(processed_dir)
    shutil.copytree(asset_dir(processed_dir), asset_dir(other))
    (other / "manifest.json").write_text(
        (processed_dir / "manifest.json").read_text() + "\n")  # another build
    with pytest.raises(AssetsError, match=r"assets-.*\.json: .*another build"):
        read_assets(other)


def test_a_new_build_replaces_the_earlier_map_data(processed_dir, tmp_path):
    other = tmp_path / "processed"
    other.mkdir()
    shutil.copy(processed_dir / "manifest.json", other / "manifest.json")
    folder = asset_dir(other)
    folder.mkdir()
    (folder / "map-0000000000000000.js").write_text("globalThis.MappingStaticRaw = {};\n")
    (folder / "assets-old.json").write_text(json.dumps(
        {"manifest_sha256": "an earlier build", "map": "map-0000000000000000.js"}))
    # the map data is made from the build in processed_dir (same manifest): link its files
    for f in processed_dir.iterdir():
        if not (other / f.name).exists():
            (other / f.name).symlink_to(f)
    assets = ensure_assets(other)
    assert sorted(p.name for p in folder.iterdir()) == sorted([assets.map_file, index_name()])
