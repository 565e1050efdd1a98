"""The printable borough pack (``mapping pack``): parsed, and drawn and printed in chromium."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest

from mapping.cli import main
from tests.app_browser import fresh_page
from tests.test_a11y_browser import axe


class _Parts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.row_headers: list[str] = []
        self._in_th_row = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self._in_th_row = tag == "th" and a.get("scope") == "row"

    def handle_data(self, data):
        if self._in_th_row:
            self.row_headers.append(data)
            self._in_th_row = False


@pytest.fixture(scope="module")
def camden(processed_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "camden.html"
    assert main(["pack", "--processed-dir", str(processed_dir), "--borough", "Camden",
                 "--out", str(out)]) == 0
    return out


def test_pack_is_one_self_contained_page(camden, processed_dir):
    text = camden.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 1.5e6
    parts = _Parts()
    parts.feed(text)
    tags = [t for t, _ in parts.tags]
    assert tags.count("svg") >= 1 and "script" not in tags
    # nothing is fetched: no src or href that leaves the page, no stylesheet link
    for tag, attrs in parts.tags:
        for key in ("src", "href"):
            assert not attrs.get(key, "").startswith(("http", "//")), (tag, attrs)
    assert "link" not in tags
    lsoa = pd.read_csv(processed_dir / "lsoa21_indicators.csv")
    names = set(lsoa.loc[lsoa["borough_name"] == "Camden", "lsoa21_name"])
    paths = [a for t, a in parts.tags if t == "path"]
    assert len(paths) == len(names) == 130
    # every area named in the tables exists in the build, in Camden
    listed = [h for h in parts.row_headers if h.startswith("Camden ")]
    assert len(listed) == 10 and set(listed) <= names
    index = pd.read_csv(processed_dir / "lsoa21_index.csv")
    top = index[index["lsoa21_code"].isin(lsoa.loc[lsoa["borough_name"] == "Camden",
                                                   "lsoa21_code"])].nsmallest(10, "index_rank")
    by_code = lsoa.set_index("lsoa21_code")["lsoa21_name"]
    assert listed == [by_code[c] for c in top["lsoa21_code"]]
    val = pd.read_csv(processed_dir / "validation.csv")
    rho = val[(val["measure"] == "index_score") & (val["reference"] == "dpi_online_pct")
              ].set_index("scope")["spearman_rho"]
    assert f"{rho['london']:+.2f}" in text and f"{rho['E09000007']:+.2f}" in text
    assert "not a count of excluded people and not a target" in text
    assert "Ethics review" in text and "Office for National Statistics" in text


def test_unknown_borough_is_a_clear_error(processed_dir, tmp_path, capsys):
    out = tmp_path / "x.html"
    assert main(["pack", "--processed-dir", str(processed_dir), "--borough", "Atlantis",
                 "--out", str(out)]) == 2
    assert "Atlantis" in capsys.readouterr().err and not out.exists()


@pytest.mark.browser
def test_pack_draws_prints_and_passes_axe(camden, browser, tmp_path):
    with fresh_page(browser, record_dialogs=True) as page:
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(camden.as_uri())
        page.wait_for_load_state("load")
        assert [u for u in requests if not u.startswith("file:")] == []
        box = page.locator("svg.map").bounding_box()
        assert box["width"] > 300 and box["height"] > 200
        assert axe(page) == []
        pdf = tmp_path / "camden.pdf"
        page.pdf(path=str(pdf), format="A4")
        pages = pdf.read_bytes().count(b"/Type /Page\n") or pdf.read_bytes().count(b"/Type/Page")
        assert pdf.stat().st_size > 10_000 and 1 <= pages <= 6
        assert page.dialogs == []


def test_pack_gives_the_out_of_sample_figure(camden, processed_dir):
    text = camden.read_text(encoding="utf-8")
    oos = pd.read_csv(processed_dir / "validation_out_of_sample.csv")
    rho = oos[(oos["scope"] == "london")].set_index("reference")["spearman_rho"]
    assert "All London, out of sample" in text
    assert f"{rho['dpi_online_pct']:+.2f}" in text
    assert f"{rho['iuc_least_engaged_share']:+.2f}" in text
