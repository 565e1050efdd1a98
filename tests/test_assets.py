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
    (folder / "front-0000000000000000.html").write_text("<!DOCTYPE html>\n")
    assets = ensure_assets(other)
    meta = json.loads((folder / index_name()).read_text())
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [assets.map_file, index_name(), meta["front_js"], meta["front_html"]])


def _payload(label: str) -> dict:
    return {"levels": [["lsoa", "LSOA"]], "domains": [["age", label, 0.5]],
            "aggregations": [["arithmetic", "Arithmetic"]], "aggregation": "arithmetic",
            "schemes": [["quantiles", "Quantiles"]], "k": [3, 7, 5],
            "palettes": [["viridis", "Viridis"]], "index_label": label, "build": "b",
            "built": "2026-12-03"}


def test_front_page_escapes_text_and_refuses_template_syntax():
    """The front page is rendered by panel serve's (Tornado) template loader: text from the
    build is escaped, and anything that loader would read as its own syntax is refused."""
    from mapping.app.front import front_html

    urls = {k: f"{k}.js" for k in ("map_url", "front_url", "client_url", "page_url",
                                   "css_url", "bokeh_url")}
    page = front_html(**urls, payload=_payload("<img src=x onerror=alert(1)> ${alert(1)}"))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; ${alert(1)}" in page
    for token in ("{{ x }}", "{% x %}", "{# x #}"):
        with pytest.raises(ValueError, match="template loader"):
            front_html(**urls, payload=_payload(token))
