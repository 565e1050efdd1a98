"""Governance as code: the records in ``governance/``, their schemas, the check and the report.

- :func:`check` validates every record (schema, links, registry, review dates, conditions) and
  returns a list of :class:`mapping.errors.Problem`, each naming the file and field at fault.
- :func:`render_report` renders one self-contained, printable HTML page for a board pack.
- :func:`load_records` reads the records (Markdown with YAML front matter).

The schemas are JSON Schema files in ``mapping/governance/schemas/``; the rules are listed in
:mod:`mapping.governance.check`; ``governance/README.md`` explains the records to their readers.
"""

from mapping.governance.check import check, resolve_test_ref
from mapping.governance.records import Record, load_records
from mapping.governance.report import render_report

__all__ = ["Record", "check", "load_records", "render_report", "resolve_test_ref"]
