"""Each rule of ``mapping governance check`` on tiny governance trees built in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapping.governance import check, resolve_test_ref
from tests._governance_tree import TODAY, edit, make_registry, make_tree

ETHICS = "governance/ethics-review/2026-board.md"
DR1 = "governance/decisions/0001-geography.md"
DR2 = "governance/decisions/0002-indicators.md"
SOURCES = "governance/registers/data-sources.md"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path)


def run(tree: Path, registry=None, today=TODAY):
    return check(tree, registry if registry is not None else make_registry(), today=today)


def where(problems) -> set[tuple[str, str | None]]:
    return {(p.file, p.column) for p in problems}


def test_minimal_tree_passes(tree):
    assert run(tree) == []


def test_missing_field_is_named(tree):
    edit(tree / DR1, "deciders: [lead engineer]\n", "")
    problems = run(tree)
    assert [(p.file, p.column, p.message) for p in problems] == [
        (DR1, "deciders", "required field is missing")]


def test_missing_nested_field_is_named(tree):
    edit(tree / ETHICS, "    answered_by: evidence\n", "")
    assert (ETHICS, "questions[0].answered_by") in where(run(tree))


def test_unknown_value_is_named(tree):
    edit(tree / DR1, "status: accepted", "status: agreed")
    problems = run(tree)
    assert (DR1, "status") in where(problems)
    assert any(p.value == "agreed" and "proposed, accepted, superseded" in p.message
               for p in problems)


def test_broken_link_in_body_is_named_with_its_line(tree):
    edit(tree / ETHICS, "See [the README](../README.md).", "See [the plan](../registers/plan.md).")
    problems = run(tree)
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.column, problem.value) == (ETHICS, "body",
                                                             "../registers/plan.md")
    line = (tree / ETHICS).read_text().splitlines()[problem.row - 1]
    assert "registers/plan.md" in line


def test_evidence_that_does_not_resolve_is_named(tree):
    edit(tree / ETHICS, "governance/README.md]", "governance/MISSING.md]")
    problems = run(tree)
    assert where(problems) == {(ETHICS, "questions[0].evidence[1]")}


def test_unknown_decision_mentioned_in_text_is_named(tree):
    edit(tree / "governance/registers/risks.md", "Risks.", "See DR-0042.")
    problems = run(tree)
    assert [(p.file, p.value) for p in problems] == [("governance/registers/risks.md",
                                                      "DR-0042")]


def test_passed_review_date_fails(tree):
    assert run(tree, today=TODAY) == []
    problems = run(tree, today=TODAY.replace(year=2027, month=5, day=22))
    assert {p.file for p in problems if p.column == "next_review"} == {
        ETHICS, SOURCES, "governance/registers/conflicts-of-interest.md",
        "governance/registers/risks.md", "governance/registers/monitoring-and-sustainability.md"}
    assert all("review date has passed" in p.message for p in problems)


def test_open_condition_past_due_fails(tree):
    edit(tree / ETHICS, "    status: met\n    due: null", "    status: open\n    due: 2026-11-20")
    problems = run(tree)
    assert where(problems) == {(ETHICS, "conditions[0].due")}


def test_not_a_real_date_fails(tree):
    edit(tree / DR1, "date: 2026-11-21", "date: 2026-02-30")
    problems = run(tree)
    assert [(p.file, p.column, p.value) for p in problems] == [(DR1, "date", "2026-02-30")]


def test_condition_met_naming_a_test_that_does_not_exist_fails(tree):
    edit(tree / ETHICS, "::test_rule_holds]", "::test_rule_is_imagined]")
    problems = run(tree)
    assert where(problems) == {(ETHICS, "conditions[0].evidence[0]")}
    assert "has no test function test_rule_is_imagined" in problems[0].message


def test_condition_met_naming_a_helper_not_a_test_fails(tree):
    edit(tree / ETHICS, "::test_rule_holds]", "::helper]")
    assert where(run(tree)) == {(ETHICS, "conditions[0].evidence[0]")}


def test_condition_met_without_any_test_fails(tree):
    edit(tree / ETHICS, "evidence: [tests/test_fixture_rule.py::test_rule_holds]",
         "evidence: [governance/README.md]")
    problems = run(tree)
    assert where(problems) == {(ETHICS, "conditions[0].evidence")}


def test_indicator_without_approved_source_fails(tree):
    edit(tree / SOURCES, "{id: census_age, status: approved", "{id: census_age, status: pending")
    problems = run(tree)
    assert [(p.file, p.column, p.value) for p in problems] == [
        ("mapping/registry/indicators.toml", "source", "census_age")]
    assert "not approved" in problems[0].message


def test_indicator_whose_source_is_not_in_the_registry_fails(tree):
    registry = make_registry(indicators_toml="""
[[indicator]]
code = "x_pct"
source = "nowhere"
decision = "DR-0002"
""")
    problems = run(tree, registry)
    assert ("mapping/registry/indicators.toml", "source") in where(problems)
    # and DR-0002 now governs an indicator the registry no longer has
    assert (DR2, "governs[0]") in where(problems)


def test_indicator_naming_a_missing_decision_fails(tree):
    registry = make_registry(indicators_toml="""
[[indicator]]
code = "age_75_plus_pct"
source = "census_age"
decision = "DR-0099"
""")
    problems = run(tree, registry)
    assert ("mapping/registry/indicators.toml", "decision") in where(problems)


def test_register_and_registry_must_list_the_same_sources(tree):
    edit(tree / SOURCES, "  - {id: lookup, status: approved, approved_in: DR-0001, "
         "personal_data: none}\n", "  - {id: old, status: withdrawn, approved_in: DR-0001, "
         "personal_data: none}\n")
    problems = run(tree)
    assert {(p.column, p.value) for p in problems if p.file == SOURCES} == {
        ("sources[1].id", "old"), ("sources", "lookup")}


def test_register_personal_data_must_match_registry(tree):
    edit(tree / SOURCES, "approved_in: DR-0001, personal_data: none",
         "approved_in: DR-0001, personal_data: aggregate")
    assert where(run(tree)) == {(SOURCES, "sources[1].personal_data")}


def test_governed_file_must_name_the_decision(tree):
    (tree / "mapping" / "geo.py").write_text('"""Geography conversions."""\n')
    problems = run(tree)
    assert where(problems) == {(DR1, "governs[1]")}
    assert "cannot be reached" in problems[0].message


def test_governed_path_must_exist(tree):
    edit(tree / DR1, "mapping/geo.py", "mapping/gone.py")
    assert where(run(tree)) == {(DR1, "governs[1]")}


def test_supersession_must_be_two_way(tree):
    edit(tree / DR2, "supersedes: []", "supersedes: [DR-0001]")
    problems = run(tree)
    assert (DR1, "superseded_by") in where(problems)
    edit(tree / DR1, "status: accepted", "status: superseded")
    edit(tree / DR1, "superseded_by: null", "superseded_by: DR-0002")
    # DR-0001 is superseded, so the source and register entry that rely on it must move on
    problems = run(tree)
    assert (DR1, "superseded_by") not in where(problems)
    assert any("superseded by DR-0002" in p.message for p in problems)


def test_superseded_status_needs_a_successor(tree):
    edit(tree / DR2, "status: accepted", "status: superseded")
    assert (DR2, "superseded_by") in where(run(tree))


def test_decision_sections_are_required(tree):
    edit(tree / DR2, "## Options considered\n", "## Alternatives\n")
    problems = run(tree)
    assert [(p.file, p.column, p.message) for p in problems] == [
        (DR2, "body", "missing section '## Options considered'")]


def test_decision_id_must_match_file_number(tree):
    (tree / DR2).rename(tree / "governance/decisions/0003-indicators.md")
    problems = run(tree)
    assert ("governance/decisions/0003-indicators.md", "id") in where(problems)


def test_feedback_cannot_be_received_without_a_record(tree):
    edit(tree / ETHICS, "  status: awaited", "  status: received")
    problems = run(tree)
    assert {p.column for p in problems} >= {"written_feedback.received_date",
                                            "written_feedback.record"}


def test_feedback_awaited_cannot_carry_a_date(tree):
    edit(tree / ETHICS, "  received_date: null", "  received_date: 2026-11-01")
    assert where(run(tree)) == {(ETHICS, "written_feedback.received_date")}


def test_meeting_date_unknown_needs_a_note(tree):
    edit(tree / ETHICS, "meeting_date_note: not recorded\n", "")
    assert where(run(tree)) == {(ETHICS, "meeting_date_note")}


def test_none_declared_needs_a_date(tree):
    edit(tree / "governance/registers/conflicts-of-interest.md", "declared_on: 2026-11-01",
         "declared_on: null")
    assert where(run(tree)) == {("governance/registers/conflicts-of-interest.md",
                                 "roles[1].declared_on")}


def test_record_without_front_matter_fails(tree):
    (tree / "governance/registers/risks.md").write_text("# Risks\n\nNone.\n")
    problems = run(tree)
    assert [(p.file, p.row) for p in problems] == [("governance/registers/risks.md", 1)]


def test_missing_register_and_stray_file_fail(tree):
    (tree / "governance/registers/risks.md").unlink()
    (tree / "governance/registers/other.md").write_text("---\nregister: other\n---\n")
    files = {p.file for p in run(tree)}
    assert files == {"governance/registers/risks.md", "governance/registers/other.md"}


def test_resolve_test_ref(tree):
    assert resolve_test_ref(tree, "tests/test_fixture_rule.py::test_rule_holds") is None
    assert resolve_test_ref(tree, "tests/test_fixture_rule.py::TestGroup::test_method") is None
    assert resolve_test_ref(tree, "tests/test_fixture_rule.py::test_rule_holds[a-1]") is None
    assert resolve_test_ref(tree, "tests/test_fixture_rule.py::TestGroup::test_nope")
    assert resolve_test_ref(tree, "tests/test_nope.py::test_rule_holds")
    assert resolve_test_ref(tree, "../tests/test_fixture_rule.py::test_rule_holds")
    assert resolve_test_ref(tree, "tests/test_fixture_rule.py")
