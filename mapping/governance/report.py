"""``render_report``: one self-contained, printable HTML page for a board pack.

No scripts, no external resources (styles are inline), a table of contents, and every piece of
text escaped: front matter values through Jinja2's autoescaping, Markdown bodies through
markdown-it with raw HTML disabled (so ``<img src=x onerror=alert(1)>`` in a record shows as
those characters) and unsafe link schemes refused.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from mapping.errors import Problem
from mapping.governance.check import check
from mapping.governance.evidence import (
    DR_RE,
    URL_SCHEME_RE,
    _get,
    _indicator_sources,
    _registry_indicators,
    _registry_sources,
)
from mapping.governance.records import Record, load_records

SECTION_TITLES = {
    "ethics_review": "Ethics review",
    "decision": "Decision log",
    "data_sources": "Data sources register",
    "conflicts_of_interest": "Conflicts of interest register",
    "risks": "Risk register",
    "monitoring": "Monitoring and sustainability plan",
}


def anchor(path: str) -> str:
    """A stable HTML id for a record path."""
    return "rec-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def _markdown(root: Path, record: Record, anchors: dict[str, str]) -> Markup:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    tokens = md.parse(record.body)
    base = (root / record.path).parent
    for token in tokens:
        for child in token.children or ():
            if child.type != "link_open":
                continue
            href = str(child.attrs.get("href") or "")
            if not href or href.startswith("#") or URL_SCHEME_RE.match(href):
                continue
            target = (base / href.split("#", 1)[0]).resolve()
            try:
                rel = target.relative_to(root.resolve()).as_posix()
            except ValueError:
                continue
            child.attrs["href"] = f"#{anchors[rel]}" if rel in anchors else rel
            if rel not in anchors:
                child.attrs["title"] = f"{rel} in the repository"
    # markdown-it escapes text and, with html disabled, raw HTML; the result is safe markup.
    return Markup(md.renderer.render(tokens, md.options, {}))  # noqa: S704


def _evidence(ref: str, decision_anchors: dict[str, str]) -> Markup:
    if DR_RE.fullmatch(ref) and ref in decision_anchors:
        return Markup('<a href="#{}">{}</a>').format(decision_anchors[ref], ref)
    return Markup("<code>{}</code>").format(escape(ref))


TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Governance report: {{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1a1a1a;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
h1, h2, h3 { line-height: 1.25; }
h2 { border-bottom: 2px solid #1a1a1a; padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .92rem; }
th, td { border: 1px solid #6b6b6b; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; word-break: break-word; }
a { color: #0b4f9c; }
a:focus { outline: 3px solid #b35900; outline-offset: 2px; }
td a, th a, dd a { display: inline-block; min-height: 24px; line-height: 24px; }
.status { font-weight: bold; }
.problem { color: #8b0000; }
.ok { color: #0b5d1e; }
.record { border-top: 1px solid #6b6b6b; margin-top: 2rem; }
.meta dt { font-weight: bold; }
.meta dd { margin: 0 0 .4rem 1.5rem; }
nav ol { padding-left: 1.5rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  h2 { break-before: page; }
  .record { break-inside: avoid-page; }
  a { color: inherit; text-decoration: none; }
  nav a::after { content: ""; }
}
</style>
</head>
<body>
<header>
<h1>Governance report: {{ title }}</h1>
<p>Generated from the records in <code>governance/</code> and the indicator registry, checked on
{{ today }}. {% if problems %}<strong class="problem">The governance check found
{{ problems|length }} problem(s); they are listed in the last section.</strong>{% else %}
<strong class="ok">The governance check found no problems.</strong>{% endif %}</p>
</header>
<nav aria-labelledby="toc-heading">
<h2 id="toc-heading" style="break-before: avoid;">Contents</h2>
<ol>
{% for sec in toc %}<li><a href="#{{ sec.id }}">{{ sec.title }}</a>{% if sec.children %}<ol>
{% for child in sec.children %}<li><a href="#{{ child.id }}">{{ child.title }}</a></li>
{% endfor %}</ol>{% endif %}</li>
{% endfor %}</ol>
</nav>
<main>
{% for review in reviews %}
<section class="record" id="{{ review.anchor }}" aria-labelledby="{{ review.anchor }}-h">
<h2 id="{{ review.anchor }}-h">Ethics review: {{ review.meta.title }}</h2>
<dl class="meta">
<dt>Board</dt><dd>{{ review.meta.board }}</dd>
<dt>Project</dt><dd>{{ review.meta.project }}</dd>
<dt>Project group</dt><dd>{{ (review.meta.project_group or [])|join(", ") }}</dd>
<dt>Meeting date</dt><dd>{{ review.meta.meeting_date or review.meta.meeting_date_note or "not recorded" }}</dd>
<dt>Status</dt><dd class="status">{{ review.meta.status }}</dd>
<dt>Board's written feedback</dt><dd class="status">{{ review.feedback }}</dd>
<dt>Next review</dt><dd>{{ review.meta.next_review }}{% if review.meta.next_review_note %} ({{ review.meta.next_review_note }}){% endif %}</dd>
<dt>File</dt><dd><code>{{ review.path }}</code></dd>
</dl>
{% if review.meta.source_of_questions %}<p><em>{{ review.meta.source_of_questions }}</em></p>{% endif %}
<h3>Questions and responses</h3>
{% for q in review.meta.questions or [] %}
<h4>{{ q.id }}. {{ q.asked }}</h4>
<p><strong>Answered by:</strong> {{ q.answered_by }}</p>
<p>{{ q.response }}</p>
{% if q.depends_on_people %}<p><strong>Depends on people:</strong> {{ q.depends_on_people }}</p>{% endif %}
<p><strong>Evidence:</strong> {% for ref in q.evidence or [] %}{{ evidence(ref) }}{% if not loop.last %}, {% endif %}{% else %}none{% endfor %}</p>
{% endfor %}
<h3>Conditions</h3>
{% if review.meta.conditions %}
<table><thead><tr><th scope="col">Id</th><th scope="col">Condition</th><th scope="col">Set by</th>
<th scope="col">Status</th><th scope="col">Due</th><th scope="col">Evidence</th></tr></thead><tbody>
{% for c in review.meta.conditions %}<tr><td>{{ c.id }}</td><td>{{ c.text }}{% if c.note %}<br><em>{{ c.note }}</em>{% endif %}</td>
<td>{{ c.set_by }}</td><td>{{ c.status }}</td><td>{{ c.due or "not set" }}</td>
<td>{% for ref in c.evidence or [] %}{{ evidence(ref) }}{% if not loop.last %}<br>{% endif %}{% else %}none{% endfor %}</td></tr>
{% endfor %}</tbody></table>
{% else %}<p>No conditions recorded.</p>{% endif %}
{{ review.body }}
</section>
{% endfor %}

<section id="decision-log" aria-labelledby="decision-log-h">
<h2 id="decision-log-h">Decision log</h2>
<table><thead><tr><th scope="col">Id</th><th scope="col">Title</th><th scope="col">Status</th>
<th scope="col">Date</th><th scope="col">Deciders</th><th scope="col">Governs</th></tr></thead><tbody>
{% for d in decisions %}<tr><td><a href="#{{ d.anchor }}">{{ d.meta.id }}</a></td><td>{{ d.meta.title }}</td>
<td>{{ d.meta.status }}{% if d.meta.superseded_by %} by {{ evidence(d.meta.superseded_by) }}{% endif %}</td>
<td>{{ d.meta.date }}</td><td>{{ (d.meta.deciders or [])|join(", ") }}</td>
<td>{% for g in d.meta.governs or [] %}<code>{{ g }}</code>{% if g.startswith("issue:") %} (planned){% endif %}{% if not loop.last %}<br>{% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody></table>
{% for d in decisions %}
<section class="record" id="{{ d.anchor }}" aria-labelledby="{{ d.anchor }}-h">
<h3 id="{{ d.anchor }}-h">{{ d.meta.id }}: {{ d.meta.title }}</h3>
<p><strong>Status:</strong> {{ d.meta.status }}; <strong>date:</strong> {{ d.meta.date }};
<strong>deciders:</strong> {{ (d.meta.deciders or [])|join(", ") }};
<strong>supersedes:</strong> {% for s in d.meta.supersedes or [] %}{{ evidence(s) }} {% else %}none{% endfor %};
<strong>superseded by:</strong> {% if d.meta.superseded_by %}{{ evidence(d.meta.superseded_by) }}{% else %}none{% endif %}.
<code>{{ d.path }}</code></p>
{{ d.body }}
</section>
{% endfor %}
</section>

<section id="registers" aria-labelledby="registers-h">
<h2 id="registers-h">Registers</h2>
{% if sources_register %}
<section class="record" id="{{ sources_register.anchor }}" aria-labelledby="{{ sources_register.anchor }}-h">
<h3 id="{{ sources_register.anchor }}-h">{{ sources_register.meta.title }}</h3>
<p>Next review: {{ sources_register.meta.next_review }}. Publisher, licence, attribution and refresh
cadence come from <code>mapping/registry/sources.toml</code>; approval from <code>{{ sources_register.path }}</code>.</p>
<table><thead><tr><th scope="col">Source</th><th scope="col">Publisher</th><th scope="col">Licence</th>
<th scope="col">Attribution</th><th scope="col">Personal data</th><th scope="col">Refresh</th>
<th scope="col">Approval</th></tr></thead><tbody>
{% for s in source_rows %}<tr><td><code>{{ s.id }}</code><br>{{ s.title }}</td><td>{{ s.publisher }}</td>
<td>{{ s.licence }}</td><td>{{ s.attribution }}</td><td>{{ s.personal_data }}</td><td>{{ s.refresh }}</td>
<td>{{ s.status }}{% if s.approved_in %} ({{ evidence(s.approved_in) }}){% endif %}</td></tr>
{% endfor %}</tbody></table>
<h4>Indicators and what governs them</h4>
<table><thead><tr><th scope="col">Indicator</th><th scope="col">Role</th><th scope="col">Sources</th>
<th scope="col">Decision</th></tr></thead><tbody>
{% for i in indicator_rows %}<tr><td><code>{{ i.code }}</code><br>{{ i.label }}</td><td>{{ i.role }}</td>
<td>{% for s in i.sources %}<code>{{ s }}</code>{% if not loop.last %}<br>{% endif %}{% endfor %}</td>
<td>{{ evidence(i.decision) }}</td></tr>
{% endfor %}</tbody></table>
{{ sources_register.body }}
</section>
{% endif %}
{% if conflicts %}
<section class="record" id="{{ conflicts.anchor }}" aria-labelledby="{{ conflicts.anchor }}-h">
<h3 id="{{ conflicts.anchor }}-h">{{ conflicts.meta.title }}</h3>
<p>Next review: {{ conflicts.meta.next_review }}.</p>
<table><thead><tr><th scope="col">Role</th><th scope="col">Holder</th><th scope="col">Status</th>
<th scope="col">Interests</th><th scope="col">Declared on</th></tr></thead><tbody>
{% for r in conflicts.meta.roles or [] %}<tr><td>{{ r.role }}{% if r.note %}<br><em>{{ r.note }}</em>{% endif %}</td><td>{{ r.holder }}</td>
<td>{{ r.status }}</td><td>{{ (r.interests or [])|join("; ") or "none" }}</td><td>{{ r.declared_on or "not recorded" }}</td></tr>
{% endfor %}</tbody></table>
{{ conflicts.body }}
</section>
{% endif %}
{% if risks %}
<section class="record" id="{{ risks.anchor }}" aria-labelledby="{{ risks.anchor }}-h">
<h3 id="{{ risks.anchor }}-h">{{ risks.meta.title }}</h3>
<p>Next review: {{ risks.meta.next_review }}.</p>
<table><thead><tr><th scope="col">Id</th><th scope="col">Risk</th><th scope="col">Likelihood / impact</th>
<th scope="col">Owner</th><th scope="col">Mitigation</th><th scope="col">Status</th><th scope="col">Evidence</th></tr></thead><tbody>
{% for r in risks.meta.risks or [] %}<tr><td>{{ r.id }}</td><td>{{ r.risk }}</td><td>{{ r.likelihood }} / {{ r.impact }}</td>
<td>{{ r.owner }}</td><td>{{ r.mitigation }}</td><td>{{ r.status }}</td>
<td>{% for ref in r.evidence or [] %}{{ evidence(ref) }}{% if not loop.last %}<br>{% endif %}{% else %}none{% endfor %}</td></tr>
{% endfor %}</tbody></table>
{{ risks.body }}
</section>
{% endif %}
{% if monitoring %}
<section class="record" id="{{ monitoring.anchor }}" aria-labelledby="{{ monitoring.anchor }}-h">
<h3 id="{{ monitoring.anchor }}-h">{{ monitoring.meta.title }}</h3>
<p>Next review: {{ monitoring.meta.next_review }}.</p>
<h4>Who maintains what</h4>
<table><thead><tr><th scope="col">What</th><th scope="col">Role</th><th scope="col">Holder</th>
<th scope="col">How</th><th scope="col">Evidence</th></tr></thead><tbody>
{% for m in monitoring.meta.maintenance or [] %}<tr><td>{{ m.what }}</td><td>{{ m.role }}</td><td>{{ m.holder }}</td>
<td>{{ m.how }}</td><td>{% for ref in m.evidence or [] %}{{ evidence(ref) }}{% if not loop.last %}<br>{% endif %}{% else %}none{% endfor %}</td></tr>
{% endfor %}</tbody></table>
<h4>How use is measured</h4>
{% set u = monitoring.meta.usage_measurement or {} %}
<p>{{ u.what }} <strong>Status:</strong> {{ u.status }}.
{% for ref in u.evidence or [] %}{{ evidence(ref) }}{% if not loop.last %}, {% endif %}{% endfor %}</p>
<h4>Refresh schedule (from the registry)</h4>
<table><thead><tr><th scope="col">Source</th><th scope="col">Released</th><th scope="col">Refresh</th></tr></thead><tbody>
{% for s in source_rows %}<tr><td><code>{{ s.id }}</code></td><td>{{ s.release_date }}</td><td>{{ s.refresh }}</td></tr>
{% endfor %}</tbody></table>
<h4>When the project group disbands</h4>
<p>{{ monitoring.meta.on_disbanding }}</p>
{{ monitoring.body }}
</section>
{% endif %}
</section>

{% if readme %}
<section class="record" id="{{ readme.anchor }}" aria-labelledby="{{ readme.anchor }}-h">
<h2 id="{{ readme.anchor }}-h">How the records work</h2>
{{ readme.body }}
</section>
{% endif %}

<section id="check" aria-labelledby="check-h">
<h2 id="check-h">Governance check</h2>
{% if problems %}
<p class="problem">{{ problems|length }} problem(s):</p>
<table><thead><tr><th scope="col">File</th><th scope="col">Field</th><th scope="col">Problem</th>
<th scope="col">Value</th></tr></thead><tbody>
{% for p in problems %}<tr><td><code>{{ p.file }}</code>{% if p.row %} line {{ p.row }}{% endif %}</td>
<td>{{ p.column or "" }}</td><td>{{ p.message }}</td><td>{% if p.value is not none %}<code>{{ p.value }}</code>{% endif %}</td></tr>
{% endfor %}</tbody></table>
{% else %}<p class="ok">No problems: every record follows its schema, every link and piece of
evidence resolves, every indicator has an approved source and an accepted decision, no review
date has passed, and every condition marked met names a test that exists.</p>{% endif %}
</section>
</main>
</body>
</html>
"""  # noqa: E501 - HTML template lines


def render_report(repo_root: str | Path, registry: Any, *, today: dt.date | None = None,
                  problems: list[Problem] | None = None) -> str:
    """Render the governance report as one self-contained HTML page.

    Parameters
    ----------
    repo_root
        Repository root holding ``governance/``.
    registry
        The indicator registry (as for :func:`mapping.governance.check.check`).
    today
        Date the check is run against (default: today); printed in the report.
    problems
        Problems already found by :func:`~mapping.governance.check.check`; computed when
        ``None``.

    Returns
    -------
    str
        The HTML document (no scripts, no external resources).
    """
    root = Path(repo_root)
    today = today or dt.date.today()
    if problems is None:
        problems = check(root, registry, today=today)
    records, _ = load_records(root)
    anchors = {r.path: anchor(r.path) for r in records}
    decision_anchors = {str(r.meta.get("id")): anchors[r.path] for r in records
                        if r.kind == "decision"}

    def view(record: Record) -> dict[str, Any]:
        return {"path": record.path, "anchor": anchors[record.path], "meta": record.meta,
                "body": _markdown(root, record, anchors)}

    def first(kind: str) -> dict[str, Any] | None:
        found = [r for r in records if r.kind == kind]
        return view(found[0]) if found else None

    reviews = []
    for record in records:
        if record.kind != "ethics_review":
            continue
        item = view(record)
        feedback = record.meta.get("written_feedback") or {}
        if isinstance(feedback, dict) and feedback.get("status") == "received":
            item["feedback"] = f"received {feedback.get('received_date')}"
        else:
            item["feedback"] = ("awaited (not yet received; nothing is recorded as said by "
                                "the board)")
        reviews.append(item)
    decisions = sorted((view(r) for r in records if r.kind == "decision"),
                       key=lambda v: str(v["meta"].get("id")))

    sources_register = first("data_sources")
    approvals = {}
    if sources_register:
        for entry in sources_register["meta"].get("sources") or []:
            if isinstance(entry, dict):
                approvals[entry.get("id")] = entry
    source_rows = []
    for sid, source in _registry_sources(registry).items():
        entry = approvals.get(sid, {})
        source_rows.append({
            "id": sid, **{f: _get(source, f, "") for f in (
                "title", "publisher", "licence", "attribution", "personal_data", "refresh",
                "release_date")},
            "status": entry.get("status", "not in the register"),
            "approved_in": entry.get("approved_in"),
        })
    indicator_rows = [
        {"code": _get(i, "code"), "label": _get(i, "label", ""), "role": _get(i, "role", ""),
         "sources": _indicator_sources(i), "decision": str(_get(i, "decision", ""))}
        for i in _registry_indicators(registry)
    ]
    readme = next((view(r) for r in records if r.path == "governance/README.md"), None)

    toc = []
    for review in reviews:
        toc.append({"id": review["anchor"], "children": [],
                    "title": f"Ethics review: {review['meta'].get('title')}"})
    toc.append({"id": "decision-log", "title": "Decision log", "children": [
        {"id": d["anchor"], "title": f"{d['meta'].get('id')}: {d['meta'].get('title')}"}
        for d in decisions]})
    reg_children = []
    for kind in ("data_sources", "conflicts_of_interest", "risks", "monitoring"):
        item = sources_register if kind == "data_sources" else first(kind)
        if item:
            reg_children.append({"id": item["anchor"],
                                 "title": item["meta"].get("title") or SECTION_TITLES[kind]})
    toc.append({"id": "registers", "title": "Registers", "children": reg_children})
    if readme:
        toc.append({"id": readme["anchor"], "title": "How the records work", "children": []})
    toc.append({"id": "check", "title": "Governance check", "children": []})

    env = Environment(autoescape=True, keep_trailing_newline=True)
    template = env.from_string(TEMPLATE)
    title = reviews[0]["meta"].get("project") if reviews else "governance records"
    return template.render(
        title=title, today=today.isoformat(), problems=problems, toc=toc, reviews=reviews,
        decisions=decisions, sources_register=sources_register, source_rows=source_rows,
        indicator_rows=indicator_rows, conflicts=first("conflicts_of_interest"),
        risks=first("risks"), monitoring=first("monitoring"), readme=readme,
        evidence=lambda ref: _evidence(str(ref), decision_anchors),
    )
