"""A tiny, valid governance tree and registry for the governance tests (built in tmp_path)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from types import SimpleNamespace

TODAY = dt.date(2026, 11, 21)

SOURCES_TOML = """
[[source]]
id = "census_age"
publisher = "Office for National Statistics"
licence = "OGL-UK-3.0"
attribution = "Source: ONS"
personal_data = "aggregate"
refresh = "decennial"
decision = "DR-0002"

[[source]]
id = "lookup"
publisher = "Office for National Statistics"
licence = "OGL-UK-3.0"
attribution = "Source: ONS"
personal_data = "none"
refresh = "fixed"
decision = "DR-0001"
"""

INDICATORS_TOML = """
[[indicator]]
code = "age_75_plus_pct"
label = "Residents aged 75 and over"
source = "census_age"
decision = "DR-0002"
"""

DECISION = """---
id: {id}
title: {title}
status: accepted
date: 2026-11-21
deciders: [lead engineer]
supersedes: []
superseded_by: null
governs: [{governs}]
---
## Context
Why.
## Options considered
1. This. 2. That.
## Decision
This.
## Consequences
Some.
"""

ETHICS = """---
id: ER-0001
title: A board's review
board: A Data Ethics Board
project: A project
project_group: [Barnet, Brent]
meeting_date: null
meeting_date_note: not recorded
status: presented-feedback-awaited
questions:
  - id: Q1
    asked: How is use monitored?
    answered_by: evidence
    response: See the decision.
    evidence: [DR-0001, governance/README.md]
conditions:
  - id: C1
    text: The rule is tested.
    set_by: project
    status: met
    due: null
    evidence: [tests/test_fixture_rule.py::test_rule_holds]
written_feedback:
  status: awaited
  received_date: null
  record: null
next_review: 2027-05-21
---
## Notes
See [the README](../README.md).
"""

REGISTERS = {
    "data-sources.md": """---
register: data-sources
title: Data sources register
next_review: 2027-05-21
sources:
  - {id: census_age, status: approved, approved_in: DR-0002, personal_data: aggregate}
  - {id: lookup, status: approved, approved_in: DR-0001, personal_data: none}
---
Approvals.
""",
    "conflicts-of-interest.md": """---
register: conflicts-of-interest
title: Conflicts of interest register
next_review: 2027-05-21
roles:
  - {role: Lead engineer, holder: not recorded, status: not yet collected, interests: [],
     declared_on: null}
  - {role: Analyst, holder: A. Analyst, status: none declared, interests: [],
     declared_on: 2026-11-01}
---
Declarations.
""",
    "risks.md": """---
register: risks
title: Risk register
next_review: 2027-05-21
risks:
  - {id: R1, risk: Small counts, likelihood: low, impact: high, owner: Lead engineer,
     mitigation: Suppression, status: open, evidence: [DR-0001]}
---
Risks.
""",
    "monitoring-and-sustainability.md": """---
register: monitoring-and-sustainability
title: Monitoring and sustainability plan
next_review: 2027-05-21
maintenance:
  - {what: Registry, role: Analyst, holder: not recorded, how: Refresh, evidence: []}
usage_measurement: {what: Counts, status: planned, evidence: [DR-0001]}
on_disbanding: Not yet agreed.
---
Plan.
""",
}

TEST_FILE = '''def helper():
    return 1


def test_rule_holds():
    assert helper() == 1


class TestGroup:
    def test_method(self):
        assert True
'''


def make_tree(root: Path) -> Path:
    """Write a minimal governance tree that passes the check, and return ``root``."""
    gov = root / "governance"
    (gov / "decisions").mkdir(parents=True)
    (gov / "ethics-review").mkdir()
    (gov / "registers").mkdir()
    (root / "tests").mkdir()
    (root / "mapping").mkdir()
    (gov / "README.md").write_text("# Records\n\nSee [decisions](decisions/).\n")
    (gov / "decisions" / "0001-geography.md").write_text(
        DECISION.format(id="DR-0001", title="Geography", governs="source:lookup, mapping/geo.py"))
    (gov / "decisions" / "0002-indicators.md").write_text(
        DECISION.format(id="DR-0002", title="Indicators",
                        governs="indicator:age_75_plus_pct, issue:2"))
    (gov / "ethics-review" / "2026-board.md").write_text(ETHICS)
    for name, text in REGISTERS.items():
        (gov / "registers" / name).write_text(text)
    (root / "tests" / "test_fixture_rule.py").write_text(TEST_FILE)
    (root / "mapping" / "geo.py").write_text('"""Geography conversions (DR-0001)."""\n')
    return root


def make_registry(sources_toml: str = SOURCES_TOML,
                  indicators_toml: str = INDICATORS_TOML) -> SimpleNamespace:
    """A registry-shaped object from TOML text (plain dicts, as tomllib gives them)."""
    sources = {s["id"]: s for s in tomllib.loads(sources_toml)["source"]}
    indicators = tomllib.loads(indicators_toml).get("indicator", [])
    return SimpleNamespace(sources=sources, indicators=indicators)


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be present) by ``new`` in a file."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
