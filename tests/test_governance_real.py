"""The repository's own governance records pass the check and render as a report."""

from __future__ import annotations

from pathlib import Path

from mapping.governance import check, load_records, render_report
from mapping.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
PROJECT_GROUP = ["Barnet", "Brent", "Kensington and Chelsea", "Southwark", "Westminster"]
BOARD_TOPICS = [
    "healthcare partners",
    "governance and decision making",
    "declaring conflicts of interest",
    "accuracy of the qualitative data",
    "monitored and its sustainability",
]


def test_repository_governance_passes_check():
    problems = check(ROOT, load_registry())
    assert problems == [], "\n".join(map(str, problems))


def test_ethics_review_records_the_board_without_inventing_what_it_said():
    records, problems = load_records(ROOT)
    assert problems == []
    (review,) = [r for r in records if r.kind == "ethics_review"]
    meta = review.meta
    assert meta["board"] == "Brent Data Ethics Board"
    assert meta["project_group"] == PROJECT_GROUP
    assert meta["meeting_date"] is None and "not recorded" in meta["meeting_date_note"].lower()
    assert meta["written_feedback"] == {"status": "awaited", "received_date": None, "record": None}
    asked = [q["asked"] for q in meta["questions"]]
    assert len(asked) == len(BOARD_TOPICS)
    for question, topic in zip(asked, BOARD_TOPICS, strict=True):
        assert topic in question
    assert all(c["set_by"] == "project" for c in meta["conditions"])


def test_decision_log_holds_the_required_decisions():
    records, _ = load_records(ROOT)
    titles = {r.meta["id"]: r.meta["title"].lower() for r in records if r.kind == "decision"}
    for rid, word in [("DR-0001", "lsoa 2021"), ("DR-0002", "indicator"),
                      ("DR-0004", "small counts"), ("DR-0005", "bokeh"),
                      ("DR-0006", "usage"), ("DR-0007", "refresh")]:
        assert word in titles[rid]


def test_repository_report_renders():
    html = render_report(ROOT, load_registry())
    assert "Brent Data Ethics Board" in html
    for rid in ("DR-0001", "DR-0002", "DR-0004", "DR-0005", "DR-0006", "DR-0007"):
        assert f'href="#rec-governance-decisions-{rid[3:]}' in html
    assert "The governance check found no problems." in html
