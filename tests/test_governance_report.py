"""The governance report: self-contained, with a table of contents, and every text escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from mapping.governance import check, render_report
from tests._governance_tree import TODAY, edit, make_registry, make_tree

IMG = "<img src=x onerror=alert(1)>"
TEMPLATE_JS = "${alert(1)}"
ETHICS = "governance/ethics-review/2026-board.md"


class Collector(HTMLParser):
    """Collects tags, attributes, ids and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path)


def test_hostile_text_is_rendered_as_literal_text(tree):
    hostile = f"{IMG} and {TEMPLATE_JS} and </script><script>alert(1)</script>"
    edit(tree / ETHICS, "## Notes\n", f"## Notes\n\n{hostile}\n\n[x](javascript:alert(1))\n")
    edit(tree / ETHICS, "response: See the decision.", f"response: '{hostile}'")
    edit(tree / ETHICS, "title: A board's review", f"title: '{IMG}'")
    registry = make_registry()
    registry.sources["census_age"]["attribution"] = hostile
    assert check(tree, registry, today=TODAY) == []

    html = render_report(tree, registry, today=TODAY)
    page = parse(html)
    tags = [tag for tag, _ in page.tags]
    assert "img" not in tags and "script" not in tags
    for _, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs)
        assert not any((value or "").lower().startswith("javascript:") for value in attrs.values())
    text = "".join(page.text)
    # the payloads arrive as the characters a reader typed, in every place they were put
    assert text.count(IMG) >= 4  # title (twice: heading and contents), response, body, attribution
    assert text.count(TEMPLATE_JS) >= 3
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert IMG not in html


def test_report_is_self_contained_with_a_working_table_of_contents(tree):
    html = render_report(tree, make_registry(), today=TODAY)
    page = parse(html)
    ids = {attrs["id"] for _, attrs in page.tags if attrs.get("id")}
    hrefs = [attrs["href"] for tag, attrs in page.tags if tag == "a" and attrs.get("href")]
    internal = [h for h in hrefs if h.startswith("#")]
    assert internal and all(h[1:] in ids for h in internal)
    nav = html[html.index("<nav"):html.index("</nav>")]
    for title in ("Ethics review", "Decision log", "DR-0001: Geography", "Data sources register",
                  "Conflicts of interest register", "Risk register",
                  "Monitoring and sustainability plan", "Governance check"):
        assert title in nav
    for tag, attrs in page.tags:
        assert tag not in ("script", "iframe", "link")
        assert not (attrs.get("src") or "").startswith(("http:", "https:", "//"))
    assert '<html lang="en-GB">' in html and "@media print" in html
    assert "The governance check found no problems." in html


def test_report_lists_the_problems_the_check_found(tree):
    edit(tree / "governance/decisions/0001-geography.md", "deciders: [lead engineer]\n", "")
    html = render_report(tree, make_registry(), today=TODAY)
    assert "1 problem(s)" in html
    assert "governance/decisions/0001-geography.md" in html and "deciders" in html


def test_report_shows_feedback_awaited_and_registry_columns(tree):
    html = render_report(tree, make_registry(), today=TODAY)
    assert "awaited (not yet received" in html
    assert "Office for National Statistics" in html and "decennial" in html
    assert "age_75_plus_pct" in html
